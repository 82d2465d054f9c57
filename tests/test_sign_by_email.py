"""Signing by email, as a mail server delivers it: each message is piped to `flask --app wsgi mail
receive` in a process of its own, on the test database, and the emails the site sends back are
delivered to the test's SMTP server and read as a mail program reads them."""

import base64
import os
import re
import shutil
import subprocess
import sys
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import func, select

from petition import inbound
from petition.extensions import db
from petition.mail.models import OutgoingEmail
from petition.mail.worker import deliver_due
from petition.privacy.addresses import email_hash
from petition.signatures.confirmation_codes import code_for, codes_in, shown
from petition.signatures.models import Signature
from tests.support import PROJECT_ROOT, free_port, settings
from tests.test_spam_scores import spam_score

SITE_ADDRESS = "sign@letter.example.org"


@pytest.fixture
def mail_receive(app, database, smtp_server):
    """Pipe one message (bytes) to `flask mail receive` as Postfix's pipe transport does; deliver what
    the site queued in answer (settings besides the test's as keyword arguments). Gives the finished
    process (exit code, output)."""
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ADDRESS_KEY": app.config["ADDRESS_KEY"],
        "PETITION_ENV": "development",
        "SITE_URL": app.config["SITE_URL"],
        "SIGN_BY_EMAIL_ADDRESS": f"Open letter <{SITE_ADDRESS}>",
        "MAIL_DEFAULT_SENDER": "Open letter <letter@letter.example.org>",
        "MAIL_SERVER": "",
    }

    def receive(raw, **more):
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "receive"],
            input=raw,
            cwd=PROJECT_ROOT,
            env=env | more,
            capture_output=True,
            timeout=120,
        )
        with app.app_context():
            deliver_due()
        return result

    with settings(app, SIGN_BY_EMAIL_ADDRESS=SITE_ADDRESS):
        yield receive


def filled_in(sender, lines, subject="Signing the open letter", charset="utf-8", **headers):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SITE_ADDRESS
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(lines, charset=charset)
    return message.as_bytes()


ENGLISH = "Name: Ada Lovelace\nAffiliation:   University of London \nGroup: International\nListed: yes\n"


def signature_of(app, address):
    with app.app_context():
        signature = db.session.execute(
            select(Signature).where(Signature.email_hash == email_hash(address))
        ).scalar_one_or_none()
        db.session.expunge_all()
        return signature


def reply_to(received, sender, typed=""):
    """A reply as a mail program writes it: Re: the subject, what the person typed, then the email
    quoted line by line."""
    quoted = "\n".join("> " + line for line in received.text().splitlines())
    body = f"{typed}\n\nOn Monday, Open letter wrote:\n{quoted}\n"
    return filled_in(sender, body, subject="Re: " + received["Subject"])


def test_signing_by_email_in_english_then_confirming_by_reply(app, smtp_server, mail_receive):
    result = mail_receive(filled_in("Ada <ada@example.ac.uk>", ENGLISH, Reply_To="someone.else@example.org"))
    assert result.returncode == 0, result.stderr.decode()
    signature = signature_of(app, "ada@example.ac.uk")
    assert (signature.name, signature.affiliation, signature.group) == (
        "Ada Lovelace",
        "University of London",
        "international",
    )
    assert signature.listed and signature.language == "en" and not signature.is_confirmed
    [confirmation] = smtp_server.messages
    assert confirmation["To"] == "ada@example.ac.uk"  # From is the signer; Reply-To is not
    assert confirmation["Subject"] == "Please confirm your signature on the open letter"
    with app.app_context():
        code = code_for(signature)
    assert code in codes_in(confirmation.text())  # the confirmation gives its code; the reply quotes it
    assert mail_receive(reply_to(confirmation, "ada@example.ac.uk", "Yes, I confirm.")).returncode == 0
    assert signature_of(app, "ada@example.ac.uk").is_confirmed
    assert len(smtp_server.messages) == 1  # confirming by reply is not answered, and nothing loops


def test_signing_by_email_in_chinese_from_a_gbk_mail_program(app, smtp_server, mail_receive):
    lines = "姓名：　王小明\n所属机构：中山大学　社会学系\n身份：中国学者\n公开：否\n"
    raw = filled_in(
        "=?gb2312?b?" + base64.b64encode("王小明".encode("gbk")).decode() + "?= <wang@example.cn>",
        lines,
        subject=Header("签署公开信", "gb2312").encode(),
        charset="gbk",
    )
    assert b'charset="gbk"' in raw and "中山大学".encode("gbk") in raw
    assert mail_receive(raw).returncode == 0
    signature = signature_of(app, "wang@example.cn")
    assert (signature.name, signature.affiliation) == ("王小明", "中山大学 社会学系")  # the form's own cleaning
    assert (signature.group, signature.listed, signature.language) == ("chinese", False, "zh")
    [confirmation] = smtp_server.messages
    assert confirmation["Subject"] == "请确认您在公开信上的签名"


def test_a_reply_with_a_wrong_code_confirms_nothing_and_says_nothing(app, smtp_server, mail_receive):
    mail_receive(filled_in("ada@example.ac.uk", ENGLISH))
    mail_receive(filled_in("bob@example.org", ENGLISH.replace("Ada Lovelace", "Bob Smith")))
    bob = signature_of(app, "bob@example.org")
    with app.app_context():
        bobs_code = code_for(bob)
    bobs_confirmation = smtp_server.messages[1]
    # From Ada's address, quoting Bob's email, with Bob's code and a made-up one: neither is hers.
    mail_receive(reply_to(bobs_confirmation, "ada@example.ac.uk", f"My code is {shown(bobs_code)}, or 1234 5678"))
    # Bob's email quoted from a stranger's address confirms Bob's signature no more.
    mail_receive(reply_to(bobs_confirmation, "mallory@example.org", shown(bobs_code)))
    assert not signature_of(app, "ada@example.ac.uk").is_confirmed
    assert not signature_of(app, "bob@example.org").is_confirmed
    assert len(smtp_server.messages) == 2  # the two confirmations; the replies got no answer


def test_missing_lines_get_one_answer_saying_what_to_fix(app, smtp_server, mail_receive):
    mail_receive(filled_in("ada@example.ac.uk", "Name: Ada Lovelace\nAffiliation:\nGroup: martians\nListed: yes"))
    mail_receive(filled_in("wang@example.cn", "姓名：王小明\n所属机构：\n身份：中国学者\n公开：是"))
    assert signature_of(app, "ada@example.ac.uk") is None and signature_of(app, "wang@example.cn") is None
    english, chinese = smtp_server.messages
    assert "Affiliation: Enter your affiliation." in english.text()
    assert "Group: Write one of the groups" in english.text()
    assert "\nName: \nAffiliation: \nGroup: \nListed: \n" in english.text()
    assert "所属机构：请填写所属机构。" in chinese.text()
    assert "\n姓名： \n所属机构： \n身份： \n公开： \n" in chinese.text()


def test_the_answer_about_missing_lines_is_not_spam(app, smtp_server, mail_receive):
    if not shutil.which("spamassassin"):
        pytest.skip("SpamAssassin is not installed (apt-get install spamassassin); .ci/run installs it")
    app.config["MAIL_DEFAULT_SENDER"] = "Open letter <letter@letter.example.org>"
    mail_receive(filled_in("ada@example.ac.uk", "Name: Ada Lovelace\nAffiliation:\nGroup:\nListed:"))
    mail_receive(filled_in("wang@example.cn", "姓名：王小明\n所属机构：\n身份：\n公开："))
    for message in smtp_server.messages:
        score, report = spam_score(message.raw)
        assert score < 1.0, report


def delivery_report(recipient, returned_headers):
    """A bounce as Postfix writes it (RFC 3464): a note, the status of each recipient, the headers of
    the email that could not be delivered."""
    return f"""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.ac.uk>
To: {SITE_ADDRESS}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.ac.uk

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B1
Content-Type: text/rfc822-headers

{returned_headers}
--B1--
""".encode()


def nested(depth, inner):
    message = inner
    for _ in range(depth):
        outer = MIMEMultipart()
        outer.attach(message)
        message = outer
    message["From"] = "deep@example.org"
    message["Subject"] = "Signing the open letter"
    return message.as_bytes()


def hostile_corpus(confirmation, code):
    """Messages that must sign nothing and be answered by nothing, each carrying filled-in lines (or
    the confirmation's code) so that only the rule it tests keeps it from signing."""
    quoted = "\n".join("> " + line for line in confirmation.text().splitlines())
    broken = filled_in("broken@example.org", ENGLISH).replace(
        b"Content-Transfer-Encoding: 7bit", b"Content-Transfer-Encoding: base64"
    )
    unknown = (
        b"From: klingon@example.org\nSubject: Signing the open letter\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=x-klingon\nContent-Transfer-Encoding: 8bit\n\n"
        + ENGLISH.replace("Ada Lovelace", "Ada \xff\xfe").encode("latin-1")
    )
    html = EmailMessage()
    html["From"], html["Subject"] = "html@example.org", "Signing the open letter"
    html.set_content(
        "<html><head><style>p{}</style></head><body><script>Name: Eve\nAffiliation: X\nGroup: chinese</script>"
        + "<div>" * 5000
        + "Buy now"
        + "</div>" * 5000
        + "</body></html>",
        subtype="html",
    )
    return {
        "auto-submitted": filled_in("auto@example.org", ENGLISH, Auto_Submitted="auto-generated"),
        "out-of-office quoting the code": filled_in(
            "ada@example.ac.uk",
            f"I am away until Monday.\n\n{quoted}\n> {shown(code)}",
            subject="Automatic reply: " + confirmation["Subject"],
            Auto_Submitted="auto-replied",
            X_Autoreply="yes",
        ),
        "precedence bulk": filled_in("bulk@example.org", ENGLISH, Precedence="bulk"),
        "empty return path": b"Return-Path: <>\n" + filled_in("nobody-home@example.org", ENGLISH),
        "mailing list": filled_in("list@example.org", ENGLISH, List_Id="<scholars.lists.example.org>"),
        "from postmaster": filled_in("postmaster@example.org", ENGLISH),
        "from the site itself": filled_in(SITE_ADDRESS, ENGLISH),
        "5 MB": filled_in("huge@example.org", ENGLISH + "x" * 76 * 70_000),
        "100 levels of MIME": nested(100, MIMEText(ENGLISH)),
        "broken base64": broken,
        "unknown charset, bytes that are not UTF-8": unknown,
        "HTML only, the lines hidden in a script": html.as_bytes(),
        "not an email at all": b"\x00\xff" * 1000,
    }


def test_hostile_mail_signs_nothing_answers_nothing_and_a_bounce_marks_the_address(app, smtp_server, mail_receive):
    mail_receive(filled_in("ada@example.ac.uk", ENGLISH))
    [confirmation] = smtp_server.messages
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(Signature)).scalar_one()
        code = code_for(db.session.execute(select(Signature)).scalar_one())
    for kind, raw in hostile_corpus(confirmation, code).items():
        result = mail_receive(raw)
        assert result.returncode == 0, (kind, result.stderr.decode()[-2000:])
        assert b"Traceback" not in result.stderr, (kind, result.stderr.decode()[-2000:])
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Signature)).scalar_one() == before
    assert not signature_of(app, "ada@example.ac.uk").is_confirmed  # the auto-reply's code did nothing
    assert len(smtp_server.messages) == 1  # not one answer
    # A bounce of the site's own email marks the address; a forged one naming another address does not.
    returned = f"Message-ID: {confirmation['Message-ID']}\nTo: ada@example.ac.uk\nSubject: x\n"
    assert mail_receive(delivery_report("bob@example.org", returned)).returncode == 0
    assert signature_of(app, "ada@example.ac.uk").bounced_at is None
    assert mail_receive(delivery_report("ada@example.ac.uk", returned)).returncode == 0
    assert signature_of(app, "ada@example.ac.uk").bounced_at is not None
    assert len(smtp_server.messages) == 1
    # ... and the next message after all of these is taken as ever.
    mail_receive(filled_in("bob@example.org", ENGLISH.replace("Ada Lovelace", "Bob Smith")))
    assert signature_of(app, "bob@example.org").name == "Bob Smith"


def test_organisers_see_a_bounced_address(app, organiser_client):
    with app.app_context():
        from tests.support import confirmed_signature

        signature = confirmed_signature()
        signature.bounced_at = signature.confirmed_at
        db.session.commit()
    assert "this address bounced" in organiser_client.get("/organisers/").get_data(as_text=True)


def test_an_html_only_message_signs_in_process(app):
    html = EmailMessage()
    html["From"], html["Subject"] = "ada@example.ac.uk", "Signing the open letter"
    html.set_content(
        "<p>Name: Ada&nbsp;Lovelace<br>Affiliation: University of London</p><p>Group: international</p>"
        "<p>Listed: no</p>",
        subtype="html",
    )
    with settings(app, SIGN_BY_EMAIL_ADDRESS=SITE_ADDRESS), app.app_context():
        outcome = inbound.receive_message(html.as_bytes())
        db.session.commit()
        assert outcome.action == "signed"
        signature = db.session.get(Signature, outcome.signature_id)
        assert (signature.name, signature.listed) == ("Ada Lovelace", False)
        assert db.session.execute(select(func.count()).select_from(OutgoingEmail)).scalar_one() == 1


def mailto_of(page):
    found = re.search(r'<a class="sign-by-email" href="(mailto:[^"]+)">', page)
    assert found, "no mailto: link on the page"
    parts = urlsplit(found.group(1).replace("&amp;", "&"))
    query = parse_qs(parts.query)
    return unquote(parts.path), query["subject"][0], query["body"][0]


@pytest.mark.parametrize(
    ("path", "subject", "lines"),
    [
        ("/en/", "Signing the open letter", "\r\nName: \r\nAffiliation: \r\nGroup: \r\nListed: \r\n"),
        ("/zh/", "签署公开信", "\r\n姓名： \r\n所属机构： \r\n身份： \r\n公开： \r\n"),
    ],
)
def test_every_page_offers_signing_by_email_in_its_language(app, client, path, subject, lines):
    assert "sign-by-email" not in client.get(path).get_data(as_text=True)  # unset: not offered
    with settings(app, SIGN_BY_EMAIL_ADDRESS=f"Open letter <{SITE_ADDRESS}>"):
        to, found_subject, body = mailto_of(client.get(path).get_data(as_text=True))
    assert (to, found_subject) == (SITE_ADDRESS, subject)
    assert body.endswith(lines)
    with settings(app, SIGN_BY_EMAIL_ADDRESS=f"Open letter <{SITE_ADDRESS}>"):
        footer = client.get(path).get_data(as_text=True).split('class="site-sign-by-email"')[1].split("</p>")[0]
    # Written out too: a browser inside WeChat, or a desktop with no mail program, opens no mailto: link.
    assert re.sub(r"<[^>]+>", "", footer).count(SITE_ADDRESS) == 1
    assert ("international or chinese" if path == "/en/" else "国际学者或中国学者") in body
    # What the link fills in is what the site reads back, once filled.
    from petition.inbound.parsing import form_lines

    filled = body.replace("Name: ", "Name: Ada").replace("姓名： ", "姓名：王")
    assert form_lines(filled)[0]["name"] in ("Ada", "王")


def test_the_static_copy_offers_signing_by_email(app, runner, tmp_path):
    with settings(app, SIGN_BY_EMAIL_ADDRESS=SITE_ADDRESS):
        result = runner.invoke(args=["mirror", "build", str(tmp_path / "copy")])
    assert result.exit_code == 0, result.output
    for name in ("en/index.html", "zh/sign/index.html"):
        page = (tmp_path / "copy" / name).read_text()
        assert mailto_of(page)[0] == SITE_ADDRESS
    # The copy's sign page writes out the address and the lines to fill, for a reader with no mail program.
    sign_page = (tmp_path / "copy" / "zh" / "sign" / "index.html").read_text()
    lines = sign_page.split('<pre class="sign-by-email-lines">')[1].split("</pre>")[0]
    assert SITE_ADDRESS in sign_page.split('<pre class="sign-by-email-lines">')[0] and "姓名：" in lines


def test_a_confirmation_says_a_reply_confirms_and_its_reply_goes_to_signing_by_email(app, smtp_server):
    """A signer whose mail program reaches the site only by email replies; the reply must reach the
    address signing by email reads, whatever address the site sends from, and the email must say so."""
    from petition.signatures.signing import sign

    with app.app_context():
        sign(name="Ada", affiliation="UCL", email="ada@example.ac.uk", group="international")
        db.session.commit()
        deliver_due()
    with settings(app, SIGN_BY_EMAIL_ADDRESS=f"Open letter <{SITE_ADDRESS}>"), app.app_context():
        sign(name="Bo", affiliation="SYSU", email="bo@example.cn", group="chinese", language="zh")
        db.session.commit()
        deliver_due()
    without, with_reply = smtp_server.messages
    assert without["Reply-To"] is None and "reply" not in without.text().lower()
    assert with_reply["Reply-To"] == SITE_ADDRESS
    assert "回复本邮件" in with_reply.text()


def test_mail_is_kept_for_later_while_the_database_is_away():
    """Exit 75 (EX_TEMPFAIL): Postfix and Exim keep the message and try again, nothing is lost."""
    raw = filled_in("ada@example.ac.uk", ENGLISH)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "receive"],
        input=raw,
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/nowhere",
            "PETITION_ENV": "development",
            "SIGN_BY_EMAIL_ADDRESS": SITE_ADDRESS,
        },
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 75, result.stderr.decode()[-2000:]


def test_mail_is_kept_for_later_while_the_rate_limit_store_is_away(app, smtp_server, mail_receive):
    """Redis down: exit 75 and nothing done, so the mail server keeps the message; tried again with a
    store that answers, it signs."""
    raw = filled_in("ada@example.ac.uk", ENGLISH)
    away = mail_receive(raw, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")
    assert away.returncode == 75, away.stderr.decode()[-2000:]
    assert b"Mail not taken, to be tried again: the rate-limit store" in away.stderr
    assert signature_of(app, "ada@example.ac.uk") is None and smtp_server.messages == []

    assert mail_receive(raw).returncode == 0
    assert signature_of(app, "ada@example.ac.uk").name == "Ada Lovelace"


def test_a_persons_message_the_pipe_does_not_act_on_is_logged_as_not_kept(app, smtp_server, mail_receive):
    result = mail_receive(filled_in("ada@example.ac.uk", "Please remove my name from the letter."))

    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert result.stdout == b"unhandled: neither the form's lines nor a code\n"
    assert b"Mail not acted on, and not kept (unhandled): neither the form's lines nor a code" in result.stderr
    assert b"ada@example.ac.uk" not in result.stdout + result.stderr
    assert smtp_server.messages == []


def test_a_flood_from_one_address_or_one_domain_is_dropped_unanswered(app):
    incomplete = "Name: Ada Lovelace\nAffiliation:\nGroup: international\nListed: yes"
    limits = {"SIGN_BY_EMAIL_ADDRESS": SITE_ADDRESS, "SIGN_LIMIT_PER_EMAIL": "2 per hour"}
    with settings(app, SIGN_BY_EMAIL_LIMIT_PER_DOMAIN="4 per hour", **limits), app.app_context():
        actions = [inbound.receive_message(filled_in("ada@example.ac.uk", incomplete)).action for _ in range(3)]
        actions.append(inbound.receive_message(filled_in("bob@example.ac.uk", incomplete)).action)
        actions.append(inbound.receive_message(filled_in("eve@example.ac.uk", incomplete)).action)
        db.session.commit()
        assert actions == ["answered", "answered", "ignored", "answered", "ignored"]
        assert db.session.execute(select(func.count()).select_from(OutgoingEmail)).scalar_one() == 3
