"""Every kind of email the site sends, in both languages, as SpamAssassin scores it with its local
tests (`spamassassin -L`: no network lookups). A score of 1 or more is a failure: mail providers
add their own points, and a confirmation in the spam folder is a signature lost."""

import re
import shutil
import subprocess
from datetime import date

import pytest
from flask import current_app
from sqlalchemy import select

from petition.extensions import db
from petition.letter import versions
from petition.letter.models import LetterVersion
from petition.mail import mailings
from petition.mail.outbox import queue_mailing
from petition.mail.worker import deliver_due
from petition.news import publishing as news
from petition.organisers.models import Organiser
from petition.signatures import listing
from petition.signatures.models import Signature
from petition.signatures.signing import ask_again, confirm_signature, sign
from tests.support import create_organiser_account, settings

# Every other address the letter can have, as docs/reach.md suggests them: another domain, the
# server's IP address, an onion service and copies on storage services' own hostnames.
ADDRESSES = {
    "ALTERNATE_URLS": ["https://letter-two.example.net", "http://203.0.113.7"],
    "ONION_URL": "http://lettervv2hpxmbdifqgdnmm4u5isbhmq6cmhvhzsjidbdhkuibqnsyd.onion",
    "MIRROR_URLS": [
        "https://letter-copies.s3.eu-central-1.amazonaws.com/letter/",
        "https://letter-copies.oss-cn-hongkong.aliyuncs.com/letter/",
    ],
    # Signing by email on: confirmations say a reply confirms, with Reply-To the signing address.
    "SIGN_BY_EMAIL_ADDRESS": "sign@letter.example.org",
}
NO_ADDRESSES = {"ALTERNATE_URLS": [], "ONION_URL": "", "MIRROR_URLS": [], "SIGN_BY_EMAIL_ADDRESS": ""}
SCORE = re.compile(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", re.M)
LANGUAGES = {"en": ("Ada Lovelace", "University College London"), "zh": ("王小明", "中山大学")}


def spam_score(raw):
    result = subprocess.run(["spamassassin", "-L", "-t"], input=raw, capture_output=True, check=True)
    report = result.stdout.decode("utf-8", "replace")
    return float(SCORE.search(report).group(1)), report.split("Content analysis details:", 1)[-1]


def every_kind_of_email(language, organiser):
    """Queue each email a signer can receive, in their language; the kind of each, by address."""
    name, affiliation = LANGUAGES[language]
    kinds = {}

    def signer(kind, **extra):
        address = f"{kind}.{language}@example.org"
        kinds[address] = kind
        return sign(name=name, affiliation=affiliation, email=address, group="chinese", language=language, **extra)

    signer("confirmation")
    pending = signer("already-signed-pending").signature
    sign(name=name, affiliation=affiliation, email=pending.email, group="chinese", language=language)
    confirmed = confirm_signature(signer("already-signed").signature)
    sign(name=name, affiliation=affiliation, email=confirmed.email, group="chinese", language=language)
    signer("resend")
    # Asked for at the onion service, when there is one: its links are there (hosts of random letters).
    ask_again(f"resend.{language}@example.org", base=current_app.config["ONION_URL"] or None)
    declined = confirm_signature(signer("decline").signature)
    listing.decline(declined, organiser, "the affiliation could not be checked")
    reader = confirm_signature(signer("news", wants_updates=True).signature)
    update = news.publish(
        organiser,
        published_on=date(2026, 12, 1),
        titles={"en": "Delivered to the provincial government", "zh": "已递交广东省政府"},
        bodies={
            "en": "We handed the letter to the **provincial** office.\n\nRead the [background](/en/background).",
            "zh": "我们已把公开信递交省政府。\n\n请阅读[背景文章](/zh/background)。",
        },
        email=False,
    )
    queue_mailing(mailings.request("update", update_id=update.id), [reader])
    notified = confirm_signature(signer("version-notice").signature)
    first = db.session.execute(select(LetterVersion)).scalars().first() or versions.publish("first text")
    changed = {"en": ("We are scholars", "We, the undersigned, are scholars"), "zh": ("我们是", "我们，下列签名者，是")}
    texts = {language: first.text(language).replace(*changed[language], 1) for language in changed}
    db.session.add(
        LetterVersion(
            number=first.number + 1,
            reason="Named the signers",
            text_en=texts["en"],
            text_zh=texts["zh"],
            sha256_en=versions.sha256(texts["en"]),
            sha256_zh=versions.sha256(texts["zh"]),
        )
    )
    queue_mailing(mailings.request("version", version_number=first.number + 1), [notified])
    db.session.commit()
    return kinds


@pytest.mark.parametrize("addresses", [NO_ADDRESSES, ADDRESSES], ids=["one-address", "every-kind-of-address"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_email_scores_below_one_at_spamassassin(app, smtp_server, language, addresses):
    """With other addresses configured, each email lists them as text at its end."""
    if not shutil.which("spamassassin"):
        pytest.skip("SpamAssassin is not installed (apt-get install spamassassin); .ci/run installs it")
    # What an operator sets (deploy/petition.env): a bare sender at the site's own domain (the email
    # goes out under the letter's name), and who is behind the letter (every email's footer).
    behind = {
        "MAIL_DEFAULT_SENDER": "letter@letter.example.org",
        "INITIATORS": ["Anita Chan, University of Technology, Sydney", "陈杰，华南理工大学"],
        "CONTACT_EMAIL": "initiators@letter.example.org",
    }
    with settings(app, **behind, **addresses), app.app_context():
        create_organiser_account()
        organiser = db.session.execute(select(Organiser)).scalar_one()
        kinds = every_kind_of_email(language, organiser)
        while deliver_due().sent:
            pass
        assert db.session.execute(select(Signature)).scalars().all()
    received = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages}
    scored = {}
    for address, kind in kinds.items():
        message = received[address]
        assert message["Date"] and message["Message-ID"]
        assert "initiators@letter.example.org" in message.text(), "scored with its footer"
        assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
        assert ("http://203.0.113.7/" in message.text()) == (addresses is ADDRESSES), "the addresses, as text"
        if kind == "resend" and addresses is ADDRESSES:
            assert f"{ADDRESSES['ONION_URL']}/{language}/confirm/" in message.text(), "its links on the onion"
        score, details = spam_score(message.raw)
        scored[kind] = score
        assert score < 1.0, f"{kind} ({language}) scored {score}:{details}"
    assert len(scored) == 7
    print(f"SpamAssassin -L scores ({language}, {'several addresses' if addresses['ONION_URL'] else 'one'}):", scored)
