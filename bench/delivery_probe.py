"""Make the delivery copy of N listed signatories (half with Chinese names) as the mail worker makes it:
asked for, then made by the job (read the list, lay it out, keep the PDF in the database), on a fresh
SQLite database of its own. Prints a JSON line per N: names, pages, seconds, and the peak memory of
this process (the worker) and of the largest process typst laid a part out in; peak_mb is their sum,
as both are alive at once.

    PYTHONPATH=. python bench/delivery_probe.py 10000 100000              # temporary databases
    PYTHONPATH=. python bench/delivery_probe.py 100000 --language en --out /tmp/delivery.pdf
    PYTHONPATH=. python bench/delivery_probe.py 100000 --url sqlite:////tmp/delivery.sqlite3
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "明华伟芳娜静丽强磊军洋勇艳杰娟涛超秀霞平刚"


def seed(db, n):
    """n confirmed, listed signatures; the counters follow through the triggers."""
    from petition.privacy.sealing import seal

    sealed = seal("scholar@example.org")  # addresses are stored sealed, as the site stores them
    db.session.execute(
        text(
            "INSERT INTO signatures (name, affiliation, email, signatory_group, listed, status, hidden,"
            " suspected_bot, visible, secret, signed_at, confirmed_at, language)"
            " VALUES (:name, :affiliation, :email, :group, 1, 'confirmed', 0, 0, 1, 'x', '2026-11-01 00:00:00',"
            " '2026-11-01 00:00:00', 'en')"
        ),
        [
            {
                "name": (SURNAMES[i % 20] + GIVEN[i // 20 % 20] + GIVEN[i // 400 % 20])
                if i % 2
                else f"Scholar {i:06d}",
                "affiliation": f"University {i % 500}",
                "email": sealed,  # one sealed address for all: the copy never reads it
                "group": "chinese" if i % 2 else "international",
            }
            for i in range(n)
        ],
    )
    db.session.commit()


def forget_peak():
    """Start this process's peak memory (VmHWM) afresh: seeding is not part of the measure."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def measure(url, n, language, out):
    # Before anything imports petition, whose configuration reads DATABASE_URL once: set later, the
    # probe would make its copy of whatever database the caller's environment named (make bench's
    # million signatures, once).
    os.environ["DATABASE_URL"] = url
    from export_probe import peak_resident_mb  # the same measure as the export's (this folder is on the path)
    from flask_migrate import upgrade

    from petition import create_app
    from petition.delivery import jobs as delivery_jobs
    from petition.delivery.models import DeliveryFile, DeliveryJob
    from petition.delivery.typeset import Report
    from petition.extensions import db

    app = create_app()
    report = Report()
    with app.app_context():
        upgrade()
        seed(db, n)
        db.session.remove()
        forget_peak()
        started = time.perf_counter()
        job, _ = delivery_jobs.request_copy(language, "bench")
        db.session.commit()
        delivery_jobs.make_due_jobs(report=report)
        seconds = time.perf_counter() - started
        job = db.session.get(DeliveryJob, job.id)
        if job.state != "done":
            sys.exit(f"the job failed: {job.error}")
        made = db.session.get(DeliveryFile, job.file_id)
        if out:
            Path(out).write_bytes(delivery_jobs.file_pdf(made.id)[1])
        worker = peak_resident_mb()
        return {
            "names": n,
            "language": language,
            "pages": made.pages,
            "seconds": seconds,
            "parts": report.parts,
            "worker_mb": worker,
            "part_mb": report.part_peak_mb,
            "peak_mb": worker + report.part_peak_mb,
            "size_mb": made.size / 2**20,
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", type=int, nargs="+", help="how many listed signatories")
    parser.add_argument("--language", choices=["en", "zh"], default="zh")
    parser.add_argument("--url", help="a SQLite database to make it in (default: a temporary one)")
    parser.add_argument("--out", help="where to write the PDF too")
    args = parser.parse_args()
    if len(args.names) > 1:  # one process per size, so that each peak is its own
        for n in args.names:
            command = [sys.executable, __file__, str(n), "--language", args.language]
            subprocess.run(command, check=True)
        return
    with tempfile.TemporaryDirectory(prefix="delivery-probe-") as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'delivery.sqlite3'}"
        print(json.dumps(measure(url, args.names[0], args.language, args.out)), flush=True)


if __name__ == "__main__":
    main()
