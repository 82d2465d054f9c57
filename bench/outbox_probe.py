"""How long the mail worker's look at the outbox takes when nothing is due, with no sent mail and
with SENT sent emails kept (they stay until the privacy purge). Prints JSON: milliseconds per poll.

    python bench/outbox_probe.py sqlite:////tmp/outbox.sqlite3 [SENT]
"""

import json
import sys
import time

from sqlalchemy import text

POLLS = 200


def poll_ms(deliver_due):
    deliver_due()  # warm
    started = time.perf_counter()
    for _ in range(POLLS):
        deliver_due()
    return (time.perf_counter() - started) / POLLS * 1000


def add_sent(db, n):
    """n emails sent long ago, as a busy letter's outbox holds them."""
    if db.engine.dialect.name == "postgresql":
        series = f"SELECT g FROM generate_series(1, {n}) AS g"
    else:
        series = f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) SELECT g FROM s"
    db.session.execute(
        text(
            "INSERT INTO outgoing_emails (to_address, subject, body, created_at, next_attempt_at, attempts, sent_at) "
            f"SELECT 'sent' || g || '@example.org', 'S', 'B', :at, :at, 1, :at FROM ({series}) AS numbers"
        ),
        {"at": "2026-01-01 00:00:00"},
    )
    db.session.commit()


def main(database_url, sent):
    import os

    os.environ.update({"DATABASE_URL": database_url, "MAIL_SERVER": "", "PETITION_ENV": "development"})
    from flask_migrate import upgrade

    from petition import create_app
    from petition.extensions import db
    from petition.mail.worker import deliver_due

    app = create_app()
    with app.app_context():
        upgrade()
        empty = poll_ms(deliver_due)
        add_sent(db, sent)
        full = poll_ms(deliver_due)
    print(json.dumps({"sent": sent, "empty_ms": empty, "full_ms": full}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200000)
