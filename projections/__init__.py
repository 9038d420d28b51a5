"""Read models folded from events (tasks, runs, approval queue, audit timeline, .atlas)."""
