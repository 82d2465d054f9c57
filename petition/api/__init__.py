"""JSON for anyone: the counts and the public list."""
