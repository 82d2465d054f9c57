"""Database connection settings that the URL alone cannot give."""
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def configure_sqlite(dbapi_connection, _record):
    # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless each connection asks for them.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
