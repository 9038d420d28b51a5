"""altlas: an event-sourced operations backend with a chat-ops front."""
