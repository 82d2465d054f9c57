"""Build the static copy (flask mirror build) of N listed signatories (half with Chinese names) on a fresh
SQLite database, then again after a few new signatures; print the seconds of each build, the files
written, and this process's peak memory.

    PYTHONPATH=. python bench/mirror_probe.py sqlite:////tmp/mirror.sqlite3 100000 /tmp/mirror-copy
"""

import json
import os
import shutil
import sys
import time
from pathlib import Path

NEW_SIGNATURES = 3


def main(url, n, out):
    # Before anything imports petition, whose configuration reads DATABASE_URL once.
    os.environ["DATABASE_URL"] = url
    from delivery_probe import seed  # n listed signatures, half with Chinese names (this folder is on the path)
    from export_probe import peak_resident_mb
    from flask_migrate import upgrade

    from petition import create_app
    from petition.extensions import db
    from petition.reach.mirror import build
    from petition.signatures.signing import confirm_signature, sign

    app = create_app()
    with app.app_context():
        upgrade()
        seeding = time.perf_counter()
        seed(db, n)
        seeded = time.perf_counter() - seeding
    shutil.rmtree(out, ignore_errors=True)
    with app.app_context():
        first = build(Path(out))
    with app.app_context():
        for i in range(NEW_SIGNATURES):  # signed and confirmed by the site's own rules
            signed = sign(name=f"Newcomer {i}", affiliation="U", email=f"newcomer{i}@example.org", group="chinese")
            confirm_signature(signed.signature)
        db.session.commit()
    with app.app_context():
        again = build(Path(out))
    print(
        json.dumps(
            {
                "names": first.names,
                "seed_seconds": seeded,
                "seconds": first.seconds,
                "files": first.files,
                "list_pages": first.list_pages,
                "again_seconds": again.seconds,
                "again_written": again.written,
                "new_signatures": NEW_SIGNATURES,
                "peak_mb": peak_resident_mb(),
                "bytes": sum(path.stat().st_size for path in Path(out).rglob("*") if path.is_file()),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
