"""The relay from the event store to Kafka, consumers, replay and verification."""
