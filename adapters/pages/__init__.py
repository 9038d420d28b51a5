"""The dashboard's pages: what each shows a person, read through the use cases every
front calls; the routes and templates that draw them are in adapters/web/."""
