"""The organisers' dashboard on a seeded database, in-process through the whole app (login, session,
templates): the median milliseconds of the first page, of a search for one signer by name, and of
a few other ways organisers find a signature (Chinese ones among them, with how many rows the page
showed). Prints one JSON line.

    DATABASE_URL=... PETITION_ENV=production ... python bench/dashboard_probe.py SIGNATURES [ROUNDS]
"""

import json
import re
import statistics
import sys
import time

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
BASE = "https://127.0.0.1"  # production's session cookie is Secure


def main(n, rounds):
    from petition import create_app
    from petition.extensions import db
    from petition.organisers.accounts import create_organiser
    from petition.organisers.models import Organiser

    app = create_app()
    email, password = "bench-organiser@example.org", "bench organiser passphrase"
    with app.app_context():
        if not db.session.query(Organiser).filter_by(email=email).first():
            create_organiser(email, password, role="moderator")
            db.session.commit()
    client = app.test_client()
    page = client.get("/organisers/login", base_url=BASE).get_data(as_text=True)
    answer = client.post(
        "/organisers/login",
        base_url=BASE,
        data={"email": email, "password": password, "csrf_token": TOKEN.search(page).group(1)},
    )
    assert answer.status_code == 302, answer.status_code
    middle = n // 2
    paths = {
        "page": "/organisers/",
        "search": f"/organisers/?q=Scholar+{middle}",  # one signer by name: "Scholar 500000"
        "address": f"/organisers/?q=scholar{middle:08d}@u{middle % 997:03d}.example.edu",
        "older": f"/organisers/?before={middle}",  # a page half way back
        "common_word": "/organisers/?q=university",  # matches every signature
        "first_day": "/organisers/?until=2026-01-01",  # the oldest day, newest first
        "counted_tab": "/organisers/?review=counted",
        "hidden_tab": "/organisers/?review=hidden&q=scholar",  # a rare tab and a word in every row
        # Chinese, found anywhere in a name or an affiliation (bench/seed.py's Chinese rows, every other one):
        "cjk_name": "/organisers/?q=%E9%99%88%E4%BC%9F",  # 陈伟: one Chinese name (about 1 in 500 of the rows)
        "cjk_character": "/organisers/?q=%E4%BC%9F",  # 伟: one character, inside about 1 in 50 names
        "cjk_word": "/organisers/?q=%E5%A4%A7%E5%AD%A6",  # 大学: inside nearly every Chinese affiliation
        "cjk_nowhere": "/organisers/?q=%E5%AD%A6%E5%A4%A7",  # 学大: both characters everywhere, never together
    }
    figures = {}
    for name, path in paths.items():
        times = []
        for _ in range(rounds + 2):
            started = time.perf_counter()
            response = client.get(path, base_url=BASE)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        figures[f"{name}_ms"] = statistics.median(times[2:])  # after two warming rounds
        if name == "search":
            assert f"Scholar {middle}<" in response.get_data(as_text=True), "the signer searched for is on the page"
        if name.startswith("cjk_"):
            found = re.findall(r"<tr>\s*<td>\d+</td>\s*<td>([^<]*)</td>", response.get_data(as_text=True))
            figures[f"{name}_rows"] = len(found)
            assert all("陈伟" in text for text in found) if name == "cjk_name" else True
    print(json.dumps(figures))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20)
