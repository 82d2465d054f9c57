"""Abuse protection that does not lock out real scholars: honeypot, fill time, rate limits, login
lockout, trusted proxies, hashed IP addresses."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from petition.db.types import now_utc
from petition.extensions import db, limiter
from petition.organisers import lockout
from petition.privacy.addresses import email_hash
from petition.signatories.counts import current_counts
from petition.signatures import abuse
from petition.signatures.models import Signature
from tests.support import (
    create_organiser_account,
    csrf_token,
    emails_to,
    log_in,
    settings,
    settle_signings_now,
    sign_as,
)


def stored(app, email):
    with app.app_context():
        return db.session.execute(
            select(Signature).where(Signature.email_hash == email_hash(email))
        ).scalar_one_or_none()


def test_ip_addresses_are_kept_only_as_a_keyed_hash(client, app):
    sign_as(client, email="sam@example.org")
    signature = stored(app, "sam@example.org")
    assert signature.ip_hash and "127.0.0.1" not in signature.ip_hash and len(signature.ip_hash) == 64
    with app.app_context():
        assert signature.ip_hash == abuse.ip_hash("127.0.0.1")
        assert abuse.ip_hash("127.0.0.1") != abuse.ip_hash("127.0.0.2")


def test_a_filled_honeypot_looks_like_success_but_is_flagged_never_emailed_or_counted(client, app):
    bot = sign_as(client, email="bot@example.org", website="http://spam.example")
    person = sign_as(client, email="person@example.org")
    assert bot.status_code == person.status_code == 302 and bot.headers["Location"] == person.headers["Location"]
    assert stored(app, "bot@example.org").suspected_bot
    assert emails_to(app, "bot@example.org") == [] and len(emails_to(app, "person@example.org")) == 1
    with app.app_context():
        assert current_counts().total == 0


def test_the_honeypot_is_hidden_by_a_class_not_an_inline_style(client):
    html = client.get("/sign").get_data(as_text=True)
    assert '<div class="hp" aria-hidden="true">' in html and 'name="website"' in html


def test_a_fast_browser_is_never_dropped_its_timing_is_recorded_for_organisers(client, app, organiser_client):
    # Autofill sends the form in about two seconds: the signer still gets the email and counts.
    from tests.support import link_in_latest_email, press_confirm

    with settings(app, SIGN_MIN_SECONDS=3):
        page = client.get("/sign").get_data(as_text=True)
        started = page.split('name="started" type="hidden" value="')[1].split('"')[0]
        token = csrf_token(client, "/sign")
        fast = client.post(
            "/sign",
            data={
                "name": "Quick Autofill",
                "affiliation": "U",
                "email": "fast@example.org",
                "group": "chinese",
                "listed": "y",
                "csrf_token": token,
                "started": started,
            },
        )
        forged = sign_as(client, email="forged@example.org", started="12345")
        assert fast.status_code == forged.status_code == 302
        signature = stored(app, "fast@example.org")
        assert not signature.suspected_bot and 0 <= signature.fill_seconds < 3
        assert stored(app, "forged@example.org").fill_seconds is None
        assert len(emails_to(app, "fast@example.org")) == 1, "the confirmation email is sent"
        press_confirm(client, link_in_latest_email(app, "fast@example.org"))
        with app.app_context():
            assert current_counts().total == 1
        resent = client.post("/resend", data={"email": "fast@example.org", "csrf_token": csrf_token(client, "/resend")})
        assert resent.status_code == 302 and len(emails_to(app, "fast@example.org")) == 2
        detail = organiser_client.get(f"/organisers/signatures/{signature.id}").get_data(as_text=True)
        assert "faster than most people type" in detail
        assert "sent after" in organiser_client.get("/organisers/").get_data(as_text=True)


def test_flagged_signatures_are_listed_for_organisers_to_review(organiser_client, app):
    sign_as(organiser_client, name="Suspicious Bot", email="bot@example.org", website="x")
    html = organiser_client.get("/organisers/?review=flagged").get_data(as_text=True)
    assert "Suspicious Bot" in html and "flagged" in html


def test_one_address_cannot_flood_its_owner_but_keeps_what_was_typed(client, app):
    with settings(app, SIGN_LIMIT_PER_EMAIL="2 per hour"):
        for _ in range(2):
            assert sign_as(client, email="victim@example.org").status_code == 302
        blocked = sign_as(client, email="victim@example.org", name="Typed Name")
        assert blocked.status_code == 429
        html = blocked.get_data(as_text=True)
        assert "Too many attempts" in html and 'value="Typed Name"' in html and 'value="victim@example.org"' in html
        assert sign_as(client, email="colleague@example.org").status_code == 302
    # Each signing replaced the unconfirmed one and its unsent email: one email waits, with live links.
    assert len(emails_to(app, "victim@example.org")) == 1


def test_strangers_typos_never_lock_anyone_out(app):
    # Empty and malformed addresses once shared one rate-limit key: five typos from anyone, and
    # every visitor who mistyped got "too many attempts" instead of the message beside the field.
    with settings(app, SIGN_LIMIT_PER_EMAIL="5 per hour", RESEND_LIMIT_PER_EMAIL="5 per hour"):
        strangers = [app.test_client() for _ in range(8)]
        for i, stranger in enumerate(strangers):
            response = sign_as(stranger, email=["", "typo", "x@", "@y", " "][i % 5])
            assert response.status_code == 422 and "Enter" in response.get_data(as_text=True)
        for stranger in strangers:
            resend = stranger.post(
                "/resend", data={"email": "not an address", "csrf_token": csrf_token(stranger, "/resend")}
            )
            assert resend.status_code == 422
        assert sign_as(app.test_client(), email="typo").status_code == 422


def test_a_form_with_mistakes_does_not_use_up_its_addresss_limit(client, app):
    with settings(app, SIGN_LIMIT_PER_EMAIL="2 per hour"):
        for _ in range(5):
            assert sign_as(client, email="careful@example.org", name="").status_code == 422
        assert sign_as(client, email="careful@example.org").status_code == 302


def test_one_network_is_limited_generously_not_per_signature(client, app):
    with settings(app, SIGN_LIMIT_PER_IP="3 per hour"):
        assert [sign_as(client, email=f"p{i}@campus.example").status_code for i in range(4)] == [302, 302, 302, 429]


def test_resending_is_limited_per_address(client, app):
    with settings(app, RESEND_LIMIT_PER_EMAIL="1 per hour"):
        sign_as(client, email="sam@example.org")
        for expected in (302, 429):
            response = client.post(
                "/resend", data={"email": "sam@example.org", "csrf_token": csrf_token(client, "/resend")}
            )
            assert response.status_code == expected
    assert len(emails_to(app, "sam@example.org")) == 2


def post_from(client, forwarded_for, email):
    """Sign with an X-Forwarded-For header, as a proxy (or someone pretending to be one) sends it."""
    data = {
        "name": "N",
        "affiliation": "A",
        "email": email,
        "group": "chinese",
        "csrf_token": csrf_token(client, "/sign"),
    }
    return client.post("/sign", headers={"X-Forwarded-For": forwarded_for}, data=data).status_code


def test_a_spoofed_forwarded_for_header_does_not_escape_the_limit(client, app):
    with settings(app, SIGN_LIMIT_PER_IP="2 per hour"):
        statuses = [post_from(client, f"10.0.0.{i}", f"p{i}@example.org") for i in range(3)]
    assert statuses == [302, 302, 429]


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_used(app_factory):
    proxied = app_factory(TRUSTED_PROXIES=1, SIGN_LIMIT_PER_IP="1 per hour")
    client = proxied.test_client()
    limiter.reset()
    statuses = [post_from(client, f"192.0.2.{i}", f"p{i}@example.org") for i in range(2)]
    assert statuses == [302, 302]
    settle_signings_now(proxied)
    with proxied.app_context():
        hashes = db.session.execute(select(Signature.ip_hash).order_by(Signature.id)).scalars().all()
        assert hashes == [abuse.ip_hash("192.0.2.0"), abuse.ip_hash("192.0.2.1")]
    limiter.reset()


def test_login_locks_an_account_after_repeated_failures_with_the_same_message(client, app):
    with app.app_context():
        email, password = create_organiser_account()
    wrong = [log_in(client, email, "wrong password here") for _ in range(5)]
    right = log_in(client, email, password)
    assert right.status_code == 422
    assert (
        right.get_data(as_text=True).count("too many attempts")
        == wrong[0].get_data(as_text=True).count("too many attempts")
        == 1
    )
    assert client.get("/organisers/").status_code == 302
    with app.app_context():
        assert not lockout.is_locked_out(email, abuse.ip_hash("127.0.0.1"), now=now_utc() + timedelta(minutes=16))


def test_many_failures_from_one_address_lock_it_for_every_account(client, app):
    with app.app_context():
        email, password = create_organiser_account("second@example.org")
    for i in range(20):
        log_in(client, f"guess{i}@example.org", "wrong password here")
    assert log_in(client, email, password).status_code == 422


def test_logging_in_starts_a_fresh_session_with_safe_cookies(client, app):
    with app.app_context():
        email, password = create_organiser_account()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    response = log_in(client, email, password)
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_client_that_reaches_the_app_directly_cannot_forge_its_address(app_factory):
    """TRUSTED_PROXIES=1 believes X-Forwarded-For only from the proxy's own addresses: a client that
    reached gunicorn itself (not through the proxy) and writes the header gets its own address."""
    proxied = app_factory(TRUSTED_PROXIES=1, SIGN_LIMIT_PER_IP="2 per hour")
    client = proxied.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    limiter.reset()
    statuses = [post_from(client, f"203.0.113.{i}", f"f{i}@example.org") for i in range(3)]
    assert statuses == [302, 302, 429]
    settle_signings_now(proxied)
    with proxied.app_context():
        hashes = set(db.session.execute(select(Signature.ip_hash)).scalars())
        assert hashes == {abuse.ip_hash("198.51.100.7")}
    limiter.reset()


def test_the_proxys_own_addresses_can_be_named(app_factory):
    proxied = app_factory(TRUSTED_PROXIES=1, TRUSTED_PROXY_ADDRESSES=["10.1.0.0/16"], SIGN_LIMIT_PER_IP="9 per hour")
    client = proxied.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    limiter.reset()
    assert post_from(client, "192.0.2.44", "named@example.org") == 302
    settle_signings_now(proxied)
    with proxied.app_context():
        assert db.session.execute(select(Signature.ip_hash)).scalar_one() == abuse.ip_hash("192.0.2.44")
    limiter.reset()


def test_gunicorn_listens_only_on_the_machine_itself_unless_told_otherwise(monkeypatch):
    import runpy

    from tests.support import PROJECT_ROOT

    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))["bind"] == "127.0.0.1:8000"


def test_a_mistyped_proxy_address_stops_the_site_with_a_message(app_factory):
    from petition.config import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"TRUSTED_PROXY_ADDRESSES: '10\.0\.0\.300'"):
        app_factory(TRUSTED_PROXIES=1, TRUSTED_PROXY_ADDRESSES=["10.0.0.300"])
