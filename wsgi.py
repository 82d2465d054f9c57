"""The application object for gunicorn (`gunicorn wsgi:app`) and the flask command (`flask --app wsgi`)."""

from petition import create_app

app = create_app()
