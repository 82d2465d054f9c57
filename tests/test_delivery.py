"""The delivery copy: read back from the PDF itself (pdftotext), as a recipient would read it."""

import re
import shutil
import subprocess

import pytest

from petition import delivery
from petition.delivery import delivery_copy, name_order
from tests.support import confirmed_signature


def pdf_text(path, *args):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils); .ci/run installs it")
    # -raw: in the order the PDF draws it (down one column, then the next), not side by side
    return subprocess.run(
        ["pdftotext", "-raw", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def signatories(app):
    with app.app_context():
        for name, group in [
            ("Zoe Zhang", "international"),
            ("Ada Lovelace", "international"),
            ("张伟", "chinese"),
            ("李娜", "chinese"),
            ("Wang Anna", "chinese"),
        ]:
            confirmed_signature(
                name=name, affiliation=f"{name} University", email=f"{abs(hash(name))}@example.org", group=group
            )
        confirmed_signature(name="Hidden Name", email="unnamed@example.org", group="chinese", listed=False)


def test_chinese_names_sort_by_their_pinyin_among_the_others():
    names = ["张伟", "Wang Anna", "李娜", "Ada Lovelace", "王小明"]
    assert sorted(names, key=name_order) == ["Ada Lovelace", "李娜", "Wang Anna", "王小明", "张伟"]


def test_the_pdf_lists_each_group_sorted_and_leaves_the_unnamed_out(app, runner, signatories, tmp_path):
    out = tmp_path / "copy.pdf"
    result = runner.invoke(args=["delivery", "pdf", str(out), "--language", "en"])
    assert result.exit_code == 0, result.output
    text = pdf_text(out)
    international = text.index("International scholars (2)")
    chinese = text.index("Chinese scholars (4)")
    assert international < text.index("Ada Lovelace") < text.index("Zoe Zhang") < chinese
    assert chinese < text.index("李娜") < text.index("Wang Anna") < text.index("张伟")
    assert "Hidden Name" not in text and "and 1 Chinese scholar who asked not to be named" in text
    with app.app_context():
        copy = delivery_copy("en")
    assert copy.list_fingerprint in text.replace("\n", "") and copy.letter_fingerprint in text.replace("\n", "")
    assert f"List SHA-256 {copy.list_fingerprint[:16]}" in text, "the fingerprint is on the pages too"
    assert "@example.org" not in text, "no email address in the copy"


def test_the_chinese_copy_embeds_every_font_it_uses(app, signatories, tmp_path):
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts is not installed (apt-get install poppler-utils); .ci/run installs it")
    out = tmp_path / "copy-zh.pdf"
    with app.app_context(), app.test_request_context():
        delivery.write_pdf(delivery_copy("zh"), str(out))
    assert "中国学者" in pdf_text(out) and "李娜" in pdf_text(out)
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(re.search(r"\byes\s+yes\s+(yes|no)\s+\d+\s+\d+\s*$", line) for line in fonts), fonts


def test_a_long_list_made_in_parts_keeps_its_numbering_and_its_pages(app, monkeypatch, tmp_path):
    monkeypatch.setattr(delivery, "NAMES_PER_PART", 3)
    with app.app_context():
        for i in range(8):
            confirmed_signature(name=f"Scholar {i}", email=f"part{i}@example.org", group="international")
    out = tmp_path / "parts.pdf"
    with app.app_context(), app.test_request_context():
        pages = delivery.write_pdf(delivery_copy("en"), str(out))
    text = pdf_text(out)
    assert [int(n) for n in re.findall(r"Page (\d+)", text)] == list(range(1, pages + 1))
    assert text.count("International scholars (continued)") == 2
    assert all(f"Scholar {i}" in text for i in range(8))
    names = text[text.index("International scholars (8)") :]
    assert re.findall(r"(\d+)\. Scholar", names) == [str(n) for n in range(1, 9)], "numbered on across parts"


def test_the_same_list_gives_the_same_fingerprint_and_one_change_a_new_one(app, signatories):
    from sqlalchemy import select

    from petition.extensions import db
    from petition.models import Signature

    with app.app_context():
        first, again = delivery_copy("en").list_fingerprint, delivery_copy("zh").list_fingerprint
        signature = db.session.execute(select(Signature).where(Signature.name == "Zoe Zhang")).scalar_one()
        signature.affiliation = "Another University"
        db.session.commit()
        changed = delivery_copy("en").list_fingerprint
    assert first == again, "both languages list the same signatories"
    assert changed != first


def test_organisers_download_the_copy_and_it_is_audited(app, organiser_client, signatories):
    from petition.audit import latest_entries

    response = organiser_client.get("/organisers/delivery.pdf?language=zh")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF") and "delivery-zh" in response.headers["Content-Disposition"]
    with app.app_context():
        assert latest_entries()[0].action == "delivery"


def test_organisers_can_print_the_same_copy_from_a_page(organiser_client, signatories):
    html = organiser_client.get("/organisers/delivery?language=en").get_data(as_text=True)
    assert "Ada Lovelace" in html and "Hidden Name" not in html and "unnamed@example.org" not in html
    assert re.search(r'<link rel="stylesheet" href="/static/css/delivery\.[0-9a-f]{12}\.css">', html)


def test_a_hostile_name_is_printed_as_text_and_a_huge_one_does_not_stop_the_copy(app, tmp_path):
    # A name is the signer's own input: markup must stay text (no image fetched, no style applied),
    # and a 200-character word with no space must wrap rather than break the copy.
    with app.app_context():
        confirmed_signature(name='<img src="http://evil.example/x.png">Mallory', email="m@example.org")
        confirmed_signature(name="W" * 200, affiliation="A" * 300, email="w@example.org")
        confirmed_signature(name="Plain Person", email="p@example.org")
    out = tmp_path / "hostile.pdf"
    with app.app_context(), app.test_request_context():
        delivery.write_pdf(delivery_copy("en"), str(out))
    text = pdf_text(out).replace("\n", "")
    assert '<img src="http://evil.example/x.png">Mallory' in text
    assert "Plain Person" in text and "W" * 200 in text and "A" * 300 in text, "printed whole, never clipped"
