"""Email out: the outbox, the worker that sends it, and what each email says."""
