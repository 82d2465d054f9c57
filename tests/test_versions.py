"""Versions of the letter: what people signed stays what the site shows until a change is published."""

import shutil

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.letter.models import LetterVersion
from petition.privacy.addresses import email_hash
from petition.signatures.models import Signature
from tests.support import PROJECT_ROOT, csrf_token, sign_as, signature_form


@pytest.fixture
def site(app_factory, tmp_path):
    """The site with a copy of the content an organiser can edit."""
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "petition" / "content", content)
    return app_factory(CONTENT_DIR=str(content), PAGE_CACHE_SECONDS=0), content


def edit(content, language, old, new):
    path = content / f"letter.{language}.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def publish(app, reason):
    return app.test_cli_runner().invoke(args=["letter", "publish", "--reason", reason])


def test_an_edited_file_is_not_the_letter_until_it_is_published_in_both_languages(site):
    app, content = site
    reader = app.test_client()
    assert publish(app, "first publication").exit_code == 0
    assert "Version 1" in reader.get("/en/").get_data(as_text=True)

    edit(content, "en", "We are scholars", "We, the undersigned, are scholars")
    assert "the undersigned" not in reader.get("/en/").get_data(as_text=True), "not shown before it is published"
    refused = publish(app, "wording")
    assert refused.exit_code != 0 and "zh" in refused.output, "one language alone cannot change"

    edit(content, "zh", "我们是", "我们，下列签名者，是")
    assert publish(app, "wording").exit_code == 0
    page = reader.get("/en/").get_data(as_text=True)
    assert "the undersigned" in page and "Version 2" in page
    assert publish(app, "again").exit_code != 0, "nothing changed: no new version"

    history = reader.get("/en/letter/versions").get_data(as_text=True)
    assert history.index("Version 2") < history.index("Version 1")
    assert "We, the undersigned, are scholars" in history and "wording" in history
    with app.app_context():
        first, second = db.session.execute(select(LetterVersion).order_by(LetterVersion.number)).scalars().all()
        assert first.sha256_en != second.sha256_en and len(second.sha256_zh) == 64


def test_on_a_fresh_site_the_first_signature_publishes_version_1_and_the_csv_and_history_say_it(site):
    from tests.support import create_organiser_account, link_in_latest_email, log_in, press_confirm

    app_, content = site
    client = app_.test_client()
    assert "No version has been published yet" in client.get("/en/letter/versions").get_data(as_text=True)
    sign_as(client, email="first@example.org")  # the form's row, settled by the worker
    press_confirm(client, link_in_latest_email(app_, "first@example.org"))

    english = client.get("/en/letter/versions").get_data(as_text=True)
    assert "Version 1" in english and "First published, with the first signature." in english
    chinese = client.get("/zh/letter/versions").get_data(as_text=True)
    assert "第 1 版" in chinese and "首次发布" in chinese
    assert "Version 1" in client.get("/en/").get_data(as_text=True), "the letter page names the version"
    with app_.app_context():
        (first,) = db.session.execute(select(LetterVersion)).scalars().all()
        assert first.text_en == (content / "letter.en.md").read_text(encoding="utf-8"), "the text they read"
        email, password = create_organiser_account()
    organiser = app_.test_client()
    log_in(organiser, email, password)
    csv = organiser.get("/organisers/export.csv?scope=all").get_data(as_text=True).splitlines()
    header = csv[0].lstrip("\ufeff").rstrip().split(",")
    (row,) = [line.split(",") for line in csv[1:] if "first@example.org" in line]
    assert row[header.index("letter_version")] == "1"


def test_each_signature_records_the_version_its_signer_read(site):
    app_, content = site
    client = app_.test_client()
    client.post("/sign", data={**signature_form(email="early@example.org"), "csrf_token": csrf_token(client, "/sign")})
    assert publish(app_, "first publication").exit_code == 0, "an organiser publishes before the worker settles"
    sign_as(client, email="one@example.org")
    edit(content, "en", "We are scholars", "We, the undersigned, are scholars")
    edit(content, "zh", "我们是", "我们，下列签名者，是")
    assert publish(app_, "wording").exit_code == 0
    sign_as(client, email="two@example.org")
    with app_.app_context():
        recorded = dict(db.session.execute(select(Signature.email_hash, Signature.letter_version)).all())
        reasons = db.session.execute(select(LetterVersion.reason).order_by(LetterVersion.number)).scalars().all()
        # Signed before any version was published, the early signer read the files: version 1.
        assert recorded == {
            email_hash("early@example.org"): 1,
            email_hash("one@example.org"): 1,
            email_hash("two@example.org"): 2,
        }
    assert reasons == ["first publication", "wording"], "a version published by hand is not published again"


def test_two_workers_settling_the_first_signings_at_once_publish_one_version_1(app_factory, tmp_path):
    """One worker has published version 1 with its signing, not yet committed, when a second worker
    settles another: the second waits for the first, then adds no version of its own (the database's
    rule, not a look before the insert), and both signatures record version 1."""
    import threading

    from petition.mail.models import OutgoingEmail
    from petition.mail.signer_emails import SIGNED
    from petition.signatures.settling import settle_signings

    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "petition" / "content", content)
    first, second = app_factory(CONTENT_DIR=str(content)), app_factory(CONTENT_DIR=str(content))
    client = first.test_client()
    for email in ("one@example.org", "two@example.org"):
        form = {**signature_form(email=email), "csrf_token": csrf_token(client, "/sign")}
        assert client.post("/sign", data=form).status_code == 302
    with first.app_context():
        rows = db.session.execute(select(OutgoingEmail.id).where(OutgoingEmail.template == SIGNED)).scalars().all()

    def settle(row):
        mine = db.session.execute(select(OutgoingEmail).where(OutgoingEmail.id == row)).scalars().all()
        assert settle_signings(mine)[1] == {}

    errors = []

    def second_worker():
        with second.app_context():
            try:
                settle(rows[1])
                db.session.commit()
            except Exception as error:  # collected, so the test can say what went wrong
                errors.append(error)
            finally:
                db.session.remove()

    with first.app_context():
        settle(rows[0])  # version 1 published in this transaction, not yet committed
        waiting = threading.Thread(target=second_worker)
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive(), "the second worker waits for the first"
        db.session.commit()
        db.session.remove()
    waiting.join()
    assert errors == []
    with first.app_context():
        assert db.session.execute(select(LetterVersion.number)).scalars().all() == [1]
        assert db.session.execute(select(Signature.letter_version)).scalars().all() == [1, 1]


def test_before_the_first_version_the_file_is_shown_and_no_version_is_claimed(site):
    app, _ = site
    page = app.test_client().get("/en/").get_data(as_text=True)
    assert "Version 1" not in page and "To the People" in page


def test_publishing_a_change_can_tell_every_earlier_signer_once_in_their_language(app_factory, tmp_path):
    from tests.support import SmtpServer, csrf_token, link_in_latest_email, press_confirm, signature_form

    server = SmtpServer()
    server.start()
    try:
        content = tmp_path / "content"
        shutil.copytree(PROJECT_ROOT / "petition" / "content", content)
        app = app_factory(CONTENT_DIR=str(content), MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
        assert publish(app, "first publication").exit_code == 0
        for email, language in (("early.en@example.org", "en"), ("early.zh@example.org", "zh")):
            client = app.test_client()
            form = {**signature_form(email=email), "csrf_token": csrf_token(client, f"/{language}/sign")}
            client.post(f"/{language}/sign", data=form)
            press_confirm(client, link_in_latest_email(app, email))
        sign_as(app.test_client(), email="never.confirmed@example.org")
        edit(content, "en", "We are scholars", "We, the undersigned, are scholars")
        edit(content, "zh", "我们是", "我们，下列签名者，是")
        runner = app.test_cli_runner()
        result = runner.invoke(args=["letter", "publish", "--reason", "named the signers", "--email-signers"])
        assert result.exit_code == 0, result.output
        for _ in range(2):  # the worker runs on: nobody is told twice
            assert runner.invoke(args=["mail", "deliver"]).exit_code == 0
        notices = {
            m["To"].addresses[0].addr_spec: m
            for m in server.messages
            if "(version 2)" in m["Subject"] or "第 2 版" in m["Subject"]
        }
        assert set(notices) == {"early.en@example.org", "early.zh@example.org"}
        english = notices["early.en@example.org"].text()
        assert "+ We, the undersigned, are scholars" in english and "named the signers" in english
        assert "/en/signature/" in english, "their private link to withdraw"
        assert "/zh/signature/" in notices["early.zh@example.org"].text()
    finally:
        server.stop()


def test_notices_are_queued_unwritten_and_written_in_each_signers_language_when_sent(site):
    """A notice names its version and signer and holds no text until the worker writes it, with what
    changed in the signer's language; one whose signature was withdrawn meanwhile is not sent."""
    from petition.mail.mailings import queue_due_mailings, write_waiting
    from petition.mail.models import OutgoingEmail
    from petition.signatures.signing import withdraw_signature
    from tests.support import confirmed_signature

    app, content = site
    assert publish(app, "first publication").exit_code == 0
    with app.app_context():
        for address, language in (("en@example.org", "en"), ("zh@example.org", "zh"), ("gone@example.org", "en")):
            confirmed_signature(email=address, language=language)
        db.session.commit()
    edit(content, "en", "We are scholars", "We, the undersigned, are scholars")
    edit(content, "zh", "我们是", "我们，下列签名者，是")
    result = app.test_cli_runner().invoke(args=["letter", "publish", "--reason", "named", "--email-signers"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert queue_due_mailings() == 3
        db.session.commit()
        queued = db.session.execute(select(OutgoingEmail).where(OutgoingEmail.version_notice == 2)).scalars().all()
        assert {(e.template, e.subject, e.body) for e in queued} == {("letter_changed", None, None)}
        gone = db.session.execute(select(Signature).where(Signature.email_hash == email_hash("gone@example.org")))
        withdraw_signature(gone.scalar_one())
        db.session.commit()
        queued = db.session.execute(select(OutgoingEmail).where(OutgoingEmail.version_notice == 2)).scalars().all()
        assert len(queued) == 2, "a withdrawn signature's notice goes with it"
        assert write_waiting(queued) == {}
        written = {e.to_address: e for e in queued}
    english, chinese = written["en@example.org"], written["zh@example.org"]
    assert "(version 2)" in english.subject and "+ We, the undersigned, are scholars" in english.body
    assert "第 2 版" in chinese.subject and "+ 我们，下列签名者，是" in chinese.body
    assert "/zh/signature/" in chinese.body and "/en/signature/" in english.body
