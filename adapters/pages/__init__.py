"""The dashboard pages for auditors, incidents and knowledge: what each shows, read
through the use cases every front calls."""
