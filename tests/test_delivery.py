"""The delivery copy: read back from the PDF itself (pdftotext), as a recipient would read it."""

import re
import shutil
import subprocess

import pytest

from petition import delivery
from petition.delivery import delivery_copy, name_order
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


# --- The copy as a job: asked for on the dashboard, made by the worker, kept, downloaded -----------


def ask_for_copy(client, language="en"):
    token = csrf_token(client, "/organisers/")
    return client.post(f"/organisers/delivery/{language}", data={"csrf_token": token})


def jobs():
    from sqlalchemy import select

    from petition.extensions import db
    from petition.models import DeliveryJob

    db.session.expire_all()
    return db.session.execute(select(DeliveryJob).order_by(DeliveryJob.id)).scalars().all()


def run_worker(runner):
    result = runner.invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def pdfs_made(monkeypatch):
    """Every copy made, counted: the real write_pdf, watched."""
    made = []
    real = delivery.write_pdf

    def watched(copy, target, progress=None):
        made.append(copy.language)
        return real(copy, target, progress)

    monkeypatch.setattr(delivery, "write_pdf", watched)
    return made


def dashboard(client):
    return client.get("/organisers/").get_data(as_text=True)


def test_the_dashboard_button_queues_a_job_and_the_request_answers_at_once(
    app, organiser_client, signatories, monkeypatch
):
    from petition.audit import latest_entries

    def not_in_a_request(*args, **kwargs):
        raise AssertionError("a web request made the PDF")

    monkeypatch.setattr(delivery, "write_pdf", not_in_a_request)
    monkeypatch.setattr(delivery, "delivery_copy", not_in_a_request)
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
    from petition.audit import latest_entries

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
    from petition.extensions import db
    from petition.models import DeliveryJob

    seen = []
    real = delivery.write_pdf

    def looking(copy, target, progress=None):
        progress(2)  # as after a part of the list
        db.session.expire_all()
        seen.append(organiser_client.get("/organisers/").get_data(as_text=True))
        return real(copy, target, progress)

    monkeypatch.setattr(delivery, "write_pdf", looking)
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
    from petition.models import DeliveryFile

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
    def broken(copy, target, progress=None):
        raise RuntimeError("the font Noto Serif CJK SC was not found")

    monkeypatch.setattr(delivery, "write_pdf", broken)
    ask_for_copy(organiser_client, "zh")
    run_worker(runner)
    with app.app_context():
        (job,) = jobs()
        assert job.state == "failed" and "Noto Serif CJK SC" in job.error
    page = dashboard(organiser_client)
    assert "Could not make the Chinese copy: the font Noto Serif CJK SC was not found" in page
    assert 'action="/organisers/delivery/zh"' in page, "it can be asked for again"


def test_a_worker_that_dies_leaves_the_job_to_be_taken_up_after_its_lease(app, signatories, pdfs_made):
    from datetime import timedelta

    from petition import delivery_jobs
    from petition.extensions import db
    from petition.models import now_utc

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

    from petition import delivery_jobs
    from petition.extensions import db
    from petition.models import now_utc

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
        delivery.write_pdf(delivery_copy("en"), str(out))
    text = pdf_text(out).replace("\n", "")
    assert '<img src="http://evil.example/x.png">Mallory' in text
    assert "Plain Person" in text and "W" * 200 in text and "A" * 300 in text, "printed whole, never clipped"
