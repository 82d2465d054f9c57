"""The delivery copy: read back from the PDF itself (pdftotext), as a recipient would read it."""

import re
import shutil
import subprocess

import pytest

from petition.delivery import copy as copy_module
from petition.delivery import layout
from petition.delivery.copy import delivery_copy, name_order
from tests.support import confirmed_signature, csrf_token


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


def pdf_info(path):
    if not shutil.which("pdfinfo"):
        pytest.skip("pdfinfo is not installed (apt-get install poppler-utils); .ci/run installs it")
    lines = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line) | {"": ""}


def make_pdf(app, tmp_path, language, name="copy"):
    out = tmp_path / f"{name}-{language}.pdf"
    with app.app_context(), app.test_request_context():
        copy = delivery_copy(language)
        pages = layout.write_pdf(copy, str(out))
    return out, copy, pages


@pytest.fixture
def cover_settings(app, monkeypatch):
    from datetime import date

    monkeypatch.setitem(app.config, "INITIATORS", ["Chen Jie, South China University of Technology", "Anita Chan, UTS"])
    monkeypatch.setitem(app.config, "CONTACT_EMAIL", "letter@example.org")
    monkeypatch.setitem(app.config, "DELIVERY_DATE", date(2026, 12, 10))


def test_the_english_copy_opens_with_a_cover_naming_addressees_date_initiators_and_contact(
    app, signatories, cover_settings, tmp_path
):
    out, copy, pages = make_pdf(app, tmp_path, "en")
    cover = pdf_text(out, "-f", "1", "-l", "1")
    assert "Open letter to the Guangdong provincial government" in cover
    assert "Addressed to The People’s Government of Guangdong Province, and to the Shenzhen Municipal" in cover
    assert "Date of delivery 10 December 2026" in cover
    assert "Initiators Chen Jie, South China University of Technology\nAnita Chan, UTS" in cover
    assert "Contact letter@example.org" in cover
    assert "In all: 6, of whom 5 are named in this copy." in cover
    assert "List of signatories: from page 4" in cover
    last = pdf_text(out, "-f", str(pages), "-l", str(pages)).replace("\n", " ")
    assert "To check that a copy is complete and unchanged, send its list fingerprint to letter@example.org" in last
    assert copy.list_fingerprint in last.replace(" ", "") and f"This copy has {pages} pages." in last


def test_a_cover_without_initiators_or_contact_says_so_plainly(app, signatories, tmp_path):
    out, _, _ = make_pdf(app, tmp_path, "en")
    cover = pdf_text(out, "-f", "1", "-l", "1").replace("\n", " ")
    assert "The initiators are not named in this copy." in cover
    assert "No contact address is given in this copy." in cover
    assert "(the day this copy was made)" in cover, "no date of delivery set: the day it was made, said as such"


def test_the_chinese_copy_uses_chinese_punctuation(app, signatories, cover_settings, tmp_path):
    with app.app_context():
        confirmed_signature(name="陈杰", affiliation="华南理工大学", email="chen@example.org", group="chinese")
    out, _, _ = make_pdf(app, tmp_path, "zh")
    text = pdf_text(out)
    assert "中国学者（5）" in text and "陈杰，华南理工大学" in text
    assert "以及 1 位要求不公开姓名的中国学者" in text
    cover = pdf_text(out, "-f", "1", "-l", "1")
    assert "致 广东省人民政府、深圳市人民政府及各有关部门" in cover and "2026年12月10日" in cover.replace(" ", "")
    assert "Chen Jie，South China University of Technology" in cover


def test_names_not_listed_after_review_are_counted_in_neutral_words(app, signatories, tmp_path):
    from sqlalchemy import update

    from petition.extensions import db
    from petition.signatures.models import Signature

    with app.app_context():
        db.session.execute(update(Signature).where(Signature.name == "Zoe Zhang").values(listing_review="pending"))
        db.session.commit()
    out, _, _ = make_pdf(app, tmp_path, "en")
    text = pdf_text(out).replace("\n", " ")
    assert "Zoe Zhang" not in text and "and 1 more International scholar who signed" in text
    assert "organisers" not in text.split("Signatories", 1)[1].split("To check", 1)[0], "no hint of names held back"


def test_the_copy_has_no_links_and_does_not_send_the_reader_to_the_site(app, signatories, tmp_path):
    from pypdf import PdfReader

    for language, site in (("en", "this site"), ("zh", "本网站")):
        out, _, _ = make_pdf(app, tmp_path, language)
        text = pdf_text(out)
        assert "http" not in text and site not in text and "background" not in text and "背景介绍" not in text
        assert not any("/Annots" in page for page in PdfReader(out).pages), "no link in the PDF"
    assert "The list of signatories follows." in pdf_text(tmp_path / "copy-en.pdf")
    assert "联署人名单附后。" in pdf_text(tmp_path / "copy-zh.pdf")
    assert "University of Nottingham, 2012, and the reader comments below it." in pdf_text(tmp_path / "copy-en.pdf")


def test_the_copy_carries_its_title_author_subject_language_and_fingerprints(
    app, signatories, cover_settings, tmp_path
):
    from pypdf import PdfReader

    out, copy, pages = make_pdf(app, tmp_path, "zh")
    info = pdf_info(out)
    assert info["Title"].strip() == "就草根劳工组织问题致广东省人民政府及深圳市有关部门的公开信"
    assert info["Author"].strip() == "Chen Jie; Anita Chan"
    assert info["Subject"].strip() == "公开信及联署人名单：递交文本"
    assert copy.list_fingerprint in info["Keywords"] and int(info["Pages"]) == pages
    assert PdfReader(out).trailer["/Root"]["/Lang"] == "zh-Hans"
    printed = layout.fingerprints_in(out)
    assert (printed.language, printed.list_sha256) == ("zh", copy.list_fingerprint)


def test_english_text_is_set_in_a_latin_font(app, tmp_path):
    # Apostrophes and quotes drawn by the Chinese font look like "People’ s": with no Chinese name
    # listed, the English copy uses no Chinese font at all.
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts is not installed (apt-get install poppler-utils); .ci/run installs it")
    with app.app_context():
        confirmed_signature(name="Mary O’Brien", affiliation="“Quoted” College", email="m@example.org")
    out, _, _ = make_pdf(app, tmp_path, "en")
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    assert "Libertinus" in fonts and "CJK" not in fonts, fonts
    assert "Mary O’Brien, “Quoted” College" in pdf_text(out)


def test_names_in_other_scripts_are_printed_in_a_font_that_has_them(app, tmp_path):
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts is not installed (apt-get install poppler-utils); .ci/run installs it")
    with app.app_context():
        confirmed_signature(name="ნინო ბერიძე", affiliation="Ελληνικό Πανεπιστήμιο", email="g@example.org")
    out, _, _ = make_pdf(app, tmp_path, "en")
    assert "ნინო ბერიძე, Ελληνικό Πανεπιστήμιο" in pdf_text(out)
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    assert "DejaVu" in fonts, fonts


def test_the_check_command_says_whether_a_copy_matches_the_database(app, runner, signatories, tmp_path):
    out = tmp_path / "delivered.pdf"
    assert runner.invoke(args=["delivery", "pdf", str(out), "--language", "zh"]).exit_code == 0
    same = runner.invoke(args=["delivery", "check", str(out)])
    assert same.exit_code == 0, same.output
    assert "List of signatories: match" in same.output and "Letter (zh): match" in same.output
    assert "byte for byte, the copy the site made" in same.output
    with app.app_context():
        confirmed_signature(name="Late Signer", email="late@example.org")
    changed = runner.invoke(args=["delivery", "check", str(out)])
    assert changed.exit_code == 1
    assert "List of signatories: no match" in changed.output and "Letter (zh): match" in changed.output
    with app.app_context():
        from petition.extensions import db
        from petition.letter.models import LetterVersion
        from petition.letter.versions import current_number

        newer = current_number() + 1  # the first signature published version 1
        db.session.add(LetterVersion(number=newer, reason="r", text_en="A", text_zh="乙", sha256_en="a", sha256_zh="b"))
        db.session.commit()
    edited = runner.invoke(args=["delivery", "check", str(out)])
    assert edited.exit_code == 1 and "Letter (zh): no match" in edited.output
    other = tmp_path / "other.pdf"
    other.write_bytes(b"%PDF-1.4 not a copy")
    refused = runner.invoke(args=["delivery", "check", str(other)])
    assert refused.exit_code != 0 and "cannot be read as a PDF" in refused.output


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
        layout.write_pdf(delivery_copy("zh"), str(out))
    assert "中国学者" in pdf_text(out) and "李娜" in pdf_text(out)
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(re.search(r"\byes\s+yes\s+(yes|no)\s+\d+\s+\d+\s*$", line) for line in fonts), fonts


def many_signatures(n, group="international", prefix="Scholar"):
    """n confirmed, listed signatures at once (inside an app context)."""
    from sqlalchemy import insert

    from petition.db.types import now_utc
    from petition.extensions import db
    from petition.signatures.models import Signature

    now = now_utc()
    rows = [
        {
            "name": f"{prefix} {i:04d}",
            "affiliation": f"University {i % 7}",
            "email": f"{prefix.lower()}{i}@example.org",
            "group": group,
            "listed": True,
            "status": "confirmed",
            "visible": True,
            "signed_at": now,
            "confirmed_at": now,
        }
        for i in range(n)
    ]
    db.session.execute(insert(Signature), rows)
    db.session.commit()


def test_a_list_made_in_parts_runs_on_as_if_made_in_one_piece(app, monkeypatch, tmp_path):
    from petition.delivery import typeset

    with app.app_context():
        many_signatures(400)
        many_signatures(150, group="chinese", prefix="Chen")
    texts, pages = {}, {}
    for size in (10_000, 70):
        monkeypatch.setattr(typeset, "ITEMS_PER_PART", size)
        report = typeset.Report()
        out = tmp_path / f"parts-{size}.pdf"
        with app.app_context(), app.test_request_context():
            copy = delivery_copy("en")
            copy.made_at = copy.made_at.replace(second=0, microsecond=0, minute=0)
            pages[size] = layout.write_pdf(copy, str(out), report=report)
        texts[size] = pdf_text(out)
        assert report.parts >= (1 if size == 10_000 else 6)
    assert pages[70] == pages[10_000] and texts[70] == texts[10_000], "no page left half empty between parts"
    text = texts[70]
    assert [int(n) for n in re.findall(r"Page (\d+)", text)] == list(range(1, pages[70] + 1))
    listed = text[text.index("International scholars (400)") : text.index("Chinese scholars (150)")]
    assert re.findall(r"(\d+)\. Scholar", listed) == [str(n) for n in range(1, 401)], "numbered on across parts"
    assert "International scholars (continued)" in text and "Chinese scholars (continued)" in text


def test_the_same_list_gives_the_same_fingerprint_and_one_change_a_new_one(app, signatories):
    from sqlalchemy import select

    from petition.extensions import db
    from petition.signatures.models import Signature

    with app.app_context():
        first, again = delivery_copy("en").list_fingerprint, delivery_copy("zh").list_fingerprint
        signature = db.session.execute(select(Signature).where(Signature.name == "Zoe Zhang")).scalar_one()
        signature.affiliation = "Another University"
        db.session.commit()
        changed = delivery_copy("en").list_fingerprint
    assert first == again, "both languages list the same signatories"
    assert changed != first


# --- The copy as a job: asked for on the dashboard, made by the worker, kept, downloaded -----------


def ask_for_copy(client, language="en"):
    token = csrf_token(client, "/organisers/")
    return client.post(f"/organisers/delivery/{language}", data={"csrf_token": token})


def jobs():
    from sqlalchemy import select

    from petition.delivery.models import DeliveryJob
    from petition.extensions import db

    db.session.expire_all()
    return db.session.execute(select(DeliveryJob).order_by(DeliveryJob.id)).scalars().all()


def run_worker(runner):
    result = runner.invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def pdfs_made(monkeypatch):
    """Every copy made, counted: the real write_pdf, watched."""
    made = []
    real = layout.write_pdf

    def watched(copy, target, progress=None, report=None):
        made.append(copy.language)
        return real(copy, target, progress, report)

    monkeypatch.setattr(layout, "write_pdf", watched)
    return made


def dashboard(client):
    return client.get("/organisers/").get_data(as_text=True)


def test_the_dashboard_button_queues_a_job_and_the_request_answers_at_once(
    app, organiser_client, signatories, monkeypatch
):
    from petition.organisers.audit import latest_entries

    def not_in_a_request(*args, **kwargs):
        raise AssertionError("a web request made the PDF")

    monkeypatch.setattr(layout, "write_pdf", not_in_a_request)
    monkeypatch.setattr(copy_module, "delivery_copy", not_in_a_request)
    response = ask_for_copy(organiser_client, "en")
    assert response.status_code == 302 and response.headers["Location"].endswith("/organisers/#delivery")
    again = ask_for_copy(organiser_client, "en")  # a second press while it waits: the same job
    assert again.status_code == 302
    with app.app_context():
        queued = jobs()
        assert [(job.language, job.state, job.file_id) for job in queued] == [("en", "queued", None)]
        assert latest_entries()[0].action == "delivery-request"
    page = dashboard(organiser_client)
    assert "Waiting for the worker to make the English copy" in page
    assert 'action="/organisers/delivery/en"' not in page, "no second button while it waits"
    assert 'action="/organisers/delivery/zh"' in page


def test_the_worker_makes_the_copy_and_the_dashboard_offers_it_for_download(app, organiser_client, runner, signatories):
    from petition.organisers.audit import latest_entries

    ask_for_copy(organiser_client, "zh")
    run_worker(runner)
    with app.app_context():
        (job,) = jobs()
        assert job.state == "done" and job.file_id and job.names_done == job.names_total == 5
        list_fingerprint = delivery_copy("zh").list_fingerprint
    page = dashboard(organiser_client)
    link = re.search(r'href="(/organisers/delivery/copies/\d+\.pdf)"', page)
    assert link and "Download the Chinese copy (PDF)" in page and list_fingerprint[:16] in page
    response = organiser_client.get(link.group(1))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF") and "delivery-zh" in response.headers["Content-Disposition"]
    with app.app_context():
        entry = latest_entries()[0]
        assert entry.action == "delivery-download" and "(zh, list " in entry.target
    organiser_client.get(link.group(1))
    with app.app_context():
        assert [e.action for e in latest_entries()[:2]] == ["delivery-download"] * 2, "every download"


def test_the_dashboard_shows_how_far_the_worker_got(app, organiser_client, runner, signatories, monkeypatch):
    from petition.delivery.models import DeliveryJob
    from petition.extensions import db

    seen = []
    real = layout.write_pdf

    def looking(copy, target, progress=None, report=None):
        progress(2)  # as after a part of the list
        db.session.expire_all()
        seen.append(organiser_client.get("/organisers/").get_data(as_text=True))
        return real(copy, target, progress, report)

    monkeypatch.setattr(layout, "write_pdf", looking)
    ask_for_copy(organiser_client, "en")
    run_worker(runner)
    assert "Making the English copy: 2 of 5 names" in seen[0]
    with app.app_context():
        job = jobs()[0]
        job.state, job.names_done, job.names_total = "making", 4000, 10000
        db.session.commit()
        assert isinstance(job, DeliveryJob)
    assert "Making the English copy: 4,000 of 10,000 names" in dashboard(organiser_client)


def test_the_same_list_is_made_once_and_a_changed_list_anew(app, organiser_client, runner, signatories, pdfs_made):
    from petition.delivery.models import DeliveryFile

    ask_for_copy(organiser_client, "en")
    run_worker(runner)
    ask_for_copy(organiser_client, "en")
    run_worker(runner)
    with app.app_context():
        first, second = jobs()
        assert first.state == second.state == "done" and first.file_id == second.file_id
    assert pdfs_made == ["en"], "made once"
    old_link = f"/organisers/delivery/copies/{first.file_id}.pdf"
    with app.app_context():
        confirmed_signature(name="New Name", email="new@example.org", group="international")
    ask_for_copy(organiser_client, "en")
    run_worker(runner)
    with app.app_context():
        third = jobs()[-1]
        assert third.state == "done" and third.file_id != first.file_id
        from petition.extensions import db

        assert db.session.get(DeliveryFile, first.file_id).sha256, "the older copy's record stays"
    assert pdfs_made == ["en", "en"]
    assert f'href="/organisers/delivery/copies/{third.file_id}.pdf"' in dashboard(organiser_client)
    gone = organiser_client.get(old_link)
    assert gone.status_code == 302, "the older copy's PDF is not kept once a newer one is made"


def test_a_failing_job_shows_its_reason_and_can_be_asked_for_again(
    app, organiser_client, runner, signatories, monkeypatch
):
    def broken(copy, target, progress=None, report=None):
        raise RuntimeError("the font Noto Serif CJK SC was not found")

    monkeypatch.setattr(layout, "write_pdf", broken)
    ask_for_copy(organiser_client, "zh")
    run_worker(runner)
    with app.app_context():
        (job,) = jobs()
        assert job.state == "failed" and "Noto Serif CJK SC" in job.error
    page = dashboard(organiser_client)
    assert "Could not make the Chinese copy: the font Noto Serif CJK SC was not found" in page
    assert 'action="/organisers/delivery/zh"' in page, "it can be asked for again"


def test_a_missing_chinese_font_fails_the_job_and_says_what_to_install(
    app, organiser_client, runner, signatories, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "DELIVERY_FONT_DIRS", [str(tmp_path)])
    ask_for_copy(organiser_client, "en")
    run_worker(runner)
    with app.app_context():
        (job,) = jobs()
        assert job.state == "failed" and "Noto Serif CJK SC was not found" in job.error
        assert "fonts-noto-cjk" in job.error
    assert "fonts-noto-cjk" in dashboard(organiser_client)


def test_a_worker_that_dies_leaves_the_job_to_be_taken_up_after_its_lease(app, signatories, pdfs_made):
    from datetime import timedelta

    from petition.db.types import now_utc
    from petition.delivery import jobs as delivery_jobs
    from petition.extensions import db

    with app.app_context(), app.test_request_context():
        job, _ = delivery_jobs.request_copy("en", "someone@example.org")
        db.session.commit()
        assert delivery_jobs.claim(job.id, now_utc()) == (1, "en")  # a worker takes it ... and dies
        assert not delivery_jobs.job_due() and delivery_jobs.make_due_jobs() == 0, "its lease holds"
        stalled = jobs()[0]
        assert stalled.state == "making" and stalled.next_attempt_at > now_utc() + timedelta(seconds=60)
        stalled.next_attempt_at = now_utc() - timedelta(seconds=1)  # the lease runs out
        db.session.commit()
        assert delivery_jobs.job_due() and delivery_jobs.make_due_jobs() == 1
        taken_up = jobs()[0]
        assert taken_up.state == "done" and taken_up.attempts == 2
    assert pdfs_made == ["en"]


def test_a_job_whose_worker_keeps_dying_fails_with_the_reason(app, signatories):
    from datetime import timedelta

    from petition.db.types import now_utc
    from petition.delivery import jobs as delivery_jobs
    from petition.extensions import db

    with app.app_context(), app.test_request_context():
        job, _ = delivery_jobs.request_copy("en", "someone@example.org")
        db.session.commit()
        for _attempt in range(app.config["DELIVERY_MAX_ATTEMPTS"]):
            assert delivery_jobs.claim(job.id, now_utc())
            stalled = jobs()[0]
            stalled.next_attempt_at = now_utc() - timedelta(seconds=1)
            db.session.commit()
        assert delivery_jobs.make_due_jobs() == 0
        failed = jobs()[0]
        assert failed.state == "failed" and "stopped 3 times" in failed.error


def test_the_command_line_copy_is_kept_and_not_made_twice(app, runner, signatories, pdfs_made, tmp_path):
    first, second = tmp_path / "one.pdf", tmp_path / "two.pdf"
    for out in (first, second):
        result = runner.invoke(args=["delivery", "pdf", str(out), "--language", "en"])
        assert result.exit_code == 0, result.output
        assert "5 names" in result.output
    assert first.read_bytes() == second.read_bytes() and pdfs_made == ["en"]
    with app.app_context():
        assert [(job.requested_by, job.state) for job in jobs()] == [("command line", "done")] * 2


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
        layout.write_pdf(delivery_copy("en"), str(out))
    text = pdf_text(out).replace("\n", "")
    assert '<img src="http://evil.example/x.png">Mallory' in text
    assert "Plain Person" in text and "W" * 200 in text and "A" * 300 in text, "printed whole, never clipped"


def test_the_cover_settings_are_read_as_written_and_a_wrong_date_is_refused(app, monkeypatch):
    from datetime import date

    from petition.config import ConfigurationError, env_date, env_entries

    monkeypatch.setenv("INITIATORS", " 陈杰，华南理工大学 ; Anita Chan, University of Technology, Sydney ;")
    assert env_entries("INITIATORS") == ["陈杰，华南理工大学", "Anita Chan, University of Technology, Sydney"]
    with app.app_context():
        monkeypatch.setitem(app.config, "INITIATORS", env_entries("INITIATORS"))
        assert layout.initiators() == [("陈杰", "华南理工大学"), ("Anita Chan", "University of Technology, Sydney")]
    monkeypatch.setenv("DELIVERY_DATE", "2026-12-10")
    assert env_date("DELIVERY_DATE") == date(2026, 12, 10)
    monkeypatch.setenv("DELIVERY_DATE", "10/12/2026")
    with pytest.raises(ConfigurationError, match="DELIVERY_DATE"):
        env_date("DELIVERY_DATE")
