"""The database under every feature: column types, SQLite's write lock and writers' line, where
transactions begin and end."""
