"""What each command accepts, one module per area; building them imports no handler."""
