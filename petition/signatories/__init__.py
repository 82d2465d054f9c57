"""The signatures as the public sees them: the groups, the counts, the list and how it grew."""
