"""Make the delivery copy of N listed signatories (half with Chinese names) on a fresh SQLite database;
print names, pages, seconds and this process's peak memory.

    PYTHONPATH=. python bench/delivery_probe.py sqlite:////tmp/delivery.sqlite3 100000 /tmp/delivery.pdf
"""

import json
import os
import sys
import time

from sqlalchemy import text

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "明华伟芳娜静丽强磊军洋勇艳杰娟涛超秀霞平刚"


def seed(db, n):
    """n confirmed, listed signatures; the counters follow through the triggers."""
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
                "email": f"s{i}@example.org",
                "group": "chinese" if i % 2 else "international",
            }
            for i in range(n)
        ],
    )
    db.session.commit()


def main(url, n, out):
    # Before anything imports petition, whose configuration reads DATABASE_URL once: set later, the
    # probe would make its copy of whatever database the caller's environment named (make bench's
    # million signatures, once).
    os.environ["DATABASE_URL"] = url
    from export_probe import peak_resident_mb  # the same measure as the export's (this folder is on the path)
    from flask_migrate import upgrade

    from petition import create_app
    from petition.delivery import delivery_copy, write_pdf
    from petition.extensions import db

    app = create_app()
    with app.app_context(), app.test_request_context():
        upgrade()
        seed(db, n)
        started = time.perf_counter()
        pages = write_pdf(delivery_copy("zh"), out)
        seconds = time.perf_counter() - started
    print(json.dumps({"names": n, "pages": pages, "seconds": seconds, "peak_mb": peak_resident_mb()}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
