"""Static files: fingerprinted names cached for a year, gzip for those who accept it, a new name
whenever the content changes, and the plain names still answering."""

import gzip
import re

from petition.web.static_files import build
from tests.support import PROJECT_ROOT


def fetch(client, path, **headers):
    response = client.get(path, headers=headers)
    response.get_data()
    response.close()
    return response


def test_pages_link_their_stylesheet_and_scripts_under_fingerprinted_names_cached_for_a_year(client):
    html = client.get("/privacy").get_data(as_text=True)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert {a.rsplit(".", 1)[-1] for a in assets} >= {"css", "js"}
    for asset in assets:
        assert re.search(r"\.[0-9a-f]{12}\.[a-z]+$", asset), asset
        response = fetch(client, asset)
        assert response.status_code == 200, asset
        assert "immutable" in response.headers["Cache-Control"]
        assert int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1)) >= 365 * 24 * 3600
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_stylesheet_comes_compressed_to_a_browser_that_accepts_gzip_and_reads_the_same(client):
    stylesheet = re.search(r'href="(/static/css/[^"]+)"', client.get("/privacy").get_data(as_text=True)).group(1)
    packed = fetch(client, stylesheet, **{"Accept-Encoding": "gzip, br"})
    plain = fetch(client, stylesheet)
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.get_data()) < len(plain.get_data()) / 2
    assert gzip.decompress(packed.get_data()) == plain.get_data() == (PROJECT_ROOT / "static/css/site.css").read_bytes()


def test_a_changed_file_gets_a_new_name_and_the_old_one_stays(tmp_path):
    source, target = tmp_path / "static", tmp_path / "built"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_text("body { color: black; }" * 50)
    first = build(source, target)["css/site.css"]
    (source / "css" / "site.css").write_text("body { color: navy; }" * 50)
    second = build(source, target)["css/site.css"]
    assert first != second and first.startswith("css/site.") and first.endswith(".css")
    assert (target / first).exists() and (target / second).exists(), "a page cached with the old name still works"
    assert (target / (second + ".gz")).exists()


def test_the_plain_name_still_answers_but_is_revalidated(client):
    response = fetch(client, "/static/css/site.css")
    assert response.status_code == 200 and "immutable" not in response.headers.get("Cache-Control", "")
