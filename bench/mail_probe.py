"""Bulk mail: an update emailed to N subscribers by one mail worker, over real SMTP to a local
server (bench/smtp_sink.py, aiosmtpd) in another process. Prints JSON: emails a second, and how many
SMTP connections carried them.

    python bench/mail_probe.py sqlite:////tmp/mail.sqlite3 [N] [news|confirmations]

With `confirmations`, N people sign instead (not timed) and the worker writes and sends their
confirmation emails, which signing queues unwritten: what a rush of signers asks of the worker.
"""

import json
import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import seed  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(database_url, n, kind="news"):
    port = free_port()
    sink = subprocess.Popen([sys.executable, str(BENCH / "smtp_sink.py"), str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout.readline().strip() == "ready"
        result = send_all(database_url, n, port, kind)
    finally:
        sink.terminate()
    counts = json.loads(sink.stdout.read().strip().splitlines()[-1])
    print(json.dumps({**result, "received": counts["messages"], "connections": counts["connections"]}))


def send_all(database_url, n, port, kind):
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "PETITION_ENV": "development",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(port),
            # No pacing: the figure is what one worker can send (production spreads news out).
            "NEWS_PER_MINUTE": "100000000",
            "SITE_URL": "https://letter.example.org",
            # The key the seeded rows were sealed with (seed.py), so the worker opens their addresses.
            "ADDRESS_KEY": seed.BENCH_ADDRESS_KEY,
        }
    )
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from petition import create_app
    from petition.extensions import db
    from petition.mail.cli import WORKER_STEP
    from petition.mail.mailings import mailings_due
    from petition.mail.models import OutgoingEmail
    from petition.mail.worker import deliver_due
    from petition.news import publishing as news
    from petition.organisers.accounts import create_organiser
    from petition.signatures import signing as signatures_signing

    app = create_app()
    with app.app_context():
        upgrade()
        if kind == "confirmations":
            for i in range(n):
                language = ("en", "zh")[i % 2]
                signatures_signing.sign(
                    name=f"Signer {i}",
                    affiliation="Uni",
                    email=f"s{i}@bench.example.org",
                    group="chinese",
                    language=language,
                )
                if i % 1000 == 999:
                    db.session.commit()
            db.session.commit()
        else:
            seed.seed(database_url, n)
            db.session.execute(text("UPDATE signatures SET wants_updates = true"))
            db.session.commit()
            organiser = create_organiser("bench@example.org", "bench password long enough")
            news.publish(
                organiser,
                published_on=date(2026, 11, 29),
                titles={"en": "Delivered", "zh": "已递交"},
                bodies={"en": "The letter was delivered today.", "zh": "公开信今天已递交。"},
                email=True,
            )
            db.session.commit()
        started = time.perf_counter()
        sent = 0
        while True:
            report = deliver_due(prepare=WORKER_STEP)  # as the worker calls it (deliver_forever)
            db.session.remove()
            sent += report.sent
            if not report.sent and not report.retrying:
                waiting = db.session.execute(
                    select(func.count()).select_from(OutgoingEmail).where(OutgoingEmail.sent_at.is_(None))
                ).scalar_one()
                if not waiting and not mailings_due():
                    break
        seconds = time.perf_counter() - started
    return {"emails": sent, "seconds": seconds, "per_second": sent / seconds}


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100000, sys.argv[3] if len(sys.argv) > 3 else "news")
