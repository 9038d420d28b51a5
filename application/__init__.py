"""The eventsourcing application, command handlers, workers and the ports adapters implement."""
