"""The floor for signing: a bare Flask app that does the least a signing form can do, served by the
same gunicorn settings as the site. GET /sign gives a small form with a token kept in the session
cookie; POST /sign checks the token and inserts the row (unique address) into FLOOR_DATABASE_URL,
SQLite in WAL mode or PostgreSQL, then redirects. `make bench` compares the site's signing with it.
"""

import os
import secrets
import sqlite3

from flask import Flask, abort, redirect, request, session

app = Flask(__name__)
app.secret_key = "floor-benchmark-only"
URL = os.environ["FLOOR_DATABASE_URL"]
FORM = """<!doctype html><title>Sign</title><form method="post" action="/sign">
<input name="csrf_token" type="hidden" value="{token}"><input name="started" type="hidden" value="">
<input name="name"><input name="affiliation"><input name="email" type="email">
<label><input type="radio" name="group" value="chinese"> Chinese scholar</label>
<button>Sign</button></form>"""
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS floor_signatures (id {id}, name VARCHAR(200) NOT NULL, "
    "affiliation VARCHAR(300) NOT NULL, email VARCHAR(254) NOT NULL UNIQUE, signatory_group VARCHAR(20) NOT NULL)"
)
INSERT = "INSERT INTO floor_signatures (name, affiliation, email, signatory_group) VALUES ({p}, {p}, {p}, {p})"
_connection = None


def connection():
    """One connection per worker process, opened on first use (after gunicorn forks)."""
    global _connection
    if _connection is None:
        if URL.startswith("sqlite:///"):
            _connection = sqlite3.connect(URL.removeprefix("sqlite:///"), isolation_level=None, timeout=15)
            _connection.execute("PRAGMA journal_mode = WAL")
            _connection.execute("PRAGMA synchronous = NORMAL")
        else:
            import psycopg

            _connection = psycopg.connect(URL, autocommit=True)
    return _connection


def create_table():
    placeholder_id = "INTEGER PRIMARY KEY" if URL.startswith("sqlite") else "SERIAL PRIMARY KEY"
    connection().execute(SCHEMA.format(id=placeholder_id))


@app.get("/sign")
def form():
    session["token"] = session.get("token") or secrets.token_urlsafe(24)
    return FORM.format(token=session["token"])


@app.post("/sign")
def sign():
    if not secrets.compare_digest(request.form.get("csrf_token", ""), session.get("token", "")):
        abort(400)
    fields = [request.form.get(key, "").strip() for key in ("name", "affiliation", "email", "group")]
    if not all(fields):
        abort(422)
    placeholder = "?" if URL.startswith("sqlite") else "%s"
    connection().execute(INSERT.format(p=placeholder), fields)
    return redirect("/sign/check-your-email")


@app.get("/")
def home():
    return "floor"


if __name__ == "__main__":
    create_table()
