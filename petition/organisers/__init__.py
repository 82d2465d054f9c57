"""The people who run the letter: accounts, roles, the second factor, the audit log, the dashboard."""
