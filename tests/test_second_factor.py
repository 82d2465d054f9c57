"""Organisers' two-factor sign-in: enrolling with the code the page shows, logging in with a code or a
recovery code, replays and guessing refused, and a lost phone reset from the command line. Codes are
computed here from the secret the page shows, as an authenticator app would."""

import re
from datetime import timedelta
from html import unescape

import pyotp
import pytest
from sqlalchemy import select

from petition.db.types import now_utc
from petition.extensions import db
from petition.organisers.models import AuditEntry, Organiser
from tests.support import create_organiser_account, csrf_token, log_in, settings

EMAIL, PASSWORD = "two@example.org", "correct horse battery"


class Clock:
    """The organisers' clock, moved by hand: each test step can be its own 30-second window."""

    def __init__(self):
        self.now = now_utc()

    def __call__(self):
        return self.now

    def tick(self, seconds=30):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(app):
    clock = Clock()
    with settings(app, ORGANISER_CLOCK=clock, REQUIRE_2FA=True):
        yield clock


@pytest.fixture
def account(app):
    with app.app_context():
        create_organiser_account(EMAIL, PASSWORD)


def post_code(client, path, code):
    return client.post(path, data={"csrf_token": csrf_token(client, path), "code": code})


def code_at(secret, clock):
    return pyotp.TOTP(secret).at(clock.now)


def enrol(client, clock):
    """Log in for the first time and enrol: the secret shown and the recovery codes."""
    assert log_in(client, EMAIL, PASSWORD).headers["Location"].endswith("/organisers/enrol")
    page = client.get("/organisers/enrol").get_data(as_text=True)
    secret = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    done = post_code(client, "/organisers/enrol", code_at(secret, clock))
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", done.get_data(as_text=True))
    return secret, codes


def log_out(client):
    client.post("/organisers/logout", data={"csrf_token": csrf_token(client, "/organisers/")})


@pytest.mark.usefixtures("account")
def test_the_first_login_enrols_with_a_qr_code_and_the_secret_as_text_then_opens_the_dashboard(client, clock):
    assert log_in(client, EMAIL, PASSWORD).status_code == 302
    assert client.get("/organisers/").headers["Location"].endswith("/organisers/login?next=%2Forganisers%2F")
    page = client.get("/organisers/enrol").get_data(as_text=True)
    assert "<svg" in page and 'id="totp-secret"' in page
    _, codes = enrol(client, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/organisers/").status_code == 200
    # Shown once: the account page never shows them again.
    assert codes[0] not in client.get("/organisers/account").get_data(as_text=True)


@pytest.mark.usefixtures("account")
def test_a_wrong_first_code_leaves_enrolment_open_with_a_message_beside_the_field(client, clock, app):
    log_in(client, EMAIL, PASSWORD)
    wrong = post_code(client, "/organisers/enrol", "000000")
    assert wrong.status_code == 422 and "error-summary" in wrong.get_data(as_text=True)
    assert client.get("/organisers/").status_code == 302
    with app.app_context():
        assert db.session.execute(select(Organiser.totp_enrolled_at)).scalar_one() is None


@pytest.mark.usefixtures("account")
def test_every_later_login_asks_for_a_code_and_a_code_cannot_be_replayed(client, clock):
    secret, _ = enrol(client, clock)
    log_out(client)
    clock.tick()
    assert log_in(client, EMAIL, PASSWORD).headers["Location"].endswith("/organisers/login/code")
    assert client.get("/organisers/").status_code == 302, "the password alone opens nothing"
    code = code_at(secret, clock)
    assert post_code(client, "/organisers/login/code", code).status_code == 302
    assert client.get("/organisers/").status_code == 200
    log_out(client)
    # The same code, overheard, within its 30 seconds: refused.
    log_in(client, EMAIL, PASSWORD)
    assert post_code(client, "/organisers/login/code", code).status_code == 422
    assert client.get("/organisers/").status_code == 302


@pytest.mark.usefixtures("account")
def test_a_recovery_code_logs_in_once(client, clock):
    _, codes = enrol(client, clock)
    log_out(client)
    log_in(client, EMAIL, PASSWORD)
    assert post_code(client, "/organisers/login/code", codes[3].upper()).status_code == 302
    log_out(client)
    log_in(client, EMAIL, PASSWORD)
    assert post_code(client, "/organisers/login/code", codes[3]).status_code == 422


@pytest.mark.usefixtures("account")
def test_guessing_codes_locks_the_account_and_a_new_password_login_does_not_reset_it(client, clock):
    secret, _ = enrol(client, clock)
    log_out(client)
    for _ in range(3):
        clock.tick()
        log_in(client, EMAIL, PASSWORD)  # the password is right every time
        for guess in ("111111", "222222"):
            post_code(client, "/organisers/login/code", guess)
    clock.tick()
    log_in(client, EMAIL, PASSWORD)
    refused = post_code(client, "/organisers/login/code", code_at(secret, clock))
    assert refused.status_code == 422 and "too many attempts" in refused.get_data(as_text=True)
    clock.tick(16 * 60)
    log_in(client, EMAIL, PASSWORD)
    assert post_code(client, "/organisers/login/code", code_at(secret, clock)).status_code == 302


@pytest.mark.usefixtures("account")
def test_a_half_finished_login_expires(client, clock):
    secret, _ = enrol(client, clock)
    log_out(client)
    log_in(client, EMAIL, PASSWORD)
    token = csrf_token(client, "/organisers/login/code")
    clock.tick(11 * 60)
    late = client.post("/organisers/login/code", data={"csrf_token": token, "code": code_at(secret, clock)})
    assert late.status_code == 302 and late.headers["Location"].endswith("/organisers/login")


@pytest.mark.usefixtures("account")
def test_reset_2fa_from_the_command_line_makes_the_next_login_enrol_again(client, clock, runner, app):
    enrol(client, clock)
    result = runner.invoke(args=["organisers", "reset-2fa", EMAIL])
    assert result.exit_code == 0, result.output
    assert client.get("/organisers/").status_code == 302, "its sessions ended"
    clock.tick()
    assert log_in(client, EMAIL, PASSWORD).headers["Location"].endswith("/organisers/enrol")
    with app.app_context():
        actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions == ["create-account", "enrol-2fa", "reset-2fa"]
    assert runner.invoke(args=["organisers", "reset-2fa", "nobody@example.org"]).exit_code != 0


def test_without_the_requirement_an_organiser_may_enrol_from_the_account_page(client, app):
    with app.app_context():
        create_organiser_account(EMAIL, PASSWORD)
    clock = Clock()
    with settings(app, ORGANISER_CLOCK=clock, REQUIRE_2FA=False):
        assert log_in(client, EMAIL, PASSWORD).headers["Location"].endswith("/organisers/")
        assert "/organisers/enrol" in client.get("/organisers/account").get_data(as_text=True)
        page = client.get("/organisers/enrol").get_data(as_text=True)
        secret = unescape(re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1))
        assert post_code(client, "/organisers/enrol", code_at(secret, clock)).status_code == 200
        log_out(client)
        clock.tick()
        assert log_in(client, EMAIL, PASSWORD).headers["Location"].endswith("/organisers/login/code")


def test_production_asks_for_two_factor_sign_in_by_default(monkeypatch):
    from petition.config import Config, ProductionConfig

    assert ProductionConfig.REQUIRE_2FA is True and Config.REQUIRE_2FA is False


def test_an_organiser_logged_in_before_2fa_was_required_must_enrol_before_anything_else(app, organiser_client):
    with settings(app, REQUIRE_2FA=True):
        for path in ("/organisers/", "/organisers/export.csv", "/organisers/account"):
            response = organiser_client.get(path)
            assert response.status_code == 302 and response.headers["Location"].endswith("/organisers/enrol"), path
        assert organiser_client.get("/organisers/enrol").status_code == 200


def shown_secret(client):
    page = client.get("/organisers/enrol").get_data(as_text=True)
    return re.search(r'<code class="secret" id="totp-secret">([A-Z2-7]+)</code>', page).group(1)


@pytest.mark.usefixtures("account")
def test_a_secret_seen_with_the_password_alone_never_opens_the_account_once_the_owner_enrols(app, client, clock):
    thief = app.test_client()
    assert log_in(thief, EMAIL, PASSWORD).headers["Location"].endswith("/organisers/enrol")
    seen = shown_secret(thief)
    secret, _ = enrol(client, clock)
    clock.tick()
    assert log_in(thief, EMAIL, PASSWORD).headers["Location"].endswith("/organisers/login/code")
    assert post_code(thief, "/organisers/login/code", code_at(seen, clock)).status_code == 422
    assert thief.get("/organisers/").status_code == 302
    assert secret != seen, "each enrolment has a secret of its own"


@pytest.mark.usefixtures("account")
def test_the_secret_is_kept_on_the_account_only_once_a_code_confirms_it(app, client, clock):
    log_in(client, EMAIL, PASSWORD)
    first = shown_secret(client)
    assert shown_secret(client) == first, "reloading the page keeps the secret the app has scanned"
    assert post_code(client, "/organisers/enrol", "000000").status_code == 422
    assert shown_secret(client) == first, "so does a wrong code"
    with app.app_context():
        assert db.session.execute(select(Organiser.totp_secret)).scalar_one() is None
    clock.tick()
    log_in(client, EMAIL, PASSWORD)
    second = shown_secret(client)
    assert second != first, "a new login enrols with a new secret"
    assert post_code(client, "/organisers/enrol", code_at(first, clock)).status_code == 422
    assert post_code(client, "/organisers/enrol", code_at(second, clock)).status_code == 200
    with app.app_context():
        assert db.session.execute(select(Organiser.totp_secret)).scalar_one() == second


def change_password(client, current, new):
    token = csrf_token(client, "/organisers/account")
    data = {"csrf_token": token, "current": current, "new": new, "again": new}
    return client.post("/organisers/account/password", data=data)


def log_out_everywhere(client):
    token = csrf_token(client, "/organisers/account")
    return client.post("/organisers/account/logout-everywhere", data={"csrf_token": token})


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize(
    "owner_acts",
    [
        lambda owner: change_password(owner, PASSWORD, "a brand new passphrase"),
        log_out_everywhere,
    ],
    ids=["password changed", "logged out everywhere"],
)
def test_a_half_made_login_ends_when_the_owner_changes_the_password_or_logs_out_everywhere(
    app, client, clock, owner_acts
):
    secret, _ = enrol(client, clock)
    clock.tick()
    thief = app.test_client()
    assert log_in(thief, EMAIL, PASSWORD).headers["Location"].endswith("/organisers/login/code")
    token = csrf_token(thief, "/organisers/login/code")
    assert owner_acts(client).status_code == 302
    clock.tick()
    late = thief.post("/organisers/login/code", data={"csrf_token": token, "code": code_at(secret, clock)})
    assert late.status_code == 302 and late.headers["Location"].endswith("/organisers/login")
    assert thief.get("/organisers/").status_code == 302


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.translate(FULL_WIDTH),
        lambda code: code.translate(ARABIC_INDIC),
        lambda code: code.translate(DEVANAGARI),
        lambda code: f"{code[:3]}\u3000{code[3:]}",
        lambda code: f" {code[:3]} {code[3:]} ",
    ],
    ids=["full-width", "arabic-indic", "devanagari", "ideographic space", "spaces"],
)
def test_a_code_typed_by_an_input_method_in_other_digits_is_read_as_its_digits(app, client, clock, typed):
    log_in(client, EMAIL, PASSWORD)
    secret = shown_secret(client)
    assert post_code(client, "/organisers/enrol", typed(code_at(secret, clock))).status_code == 200
    log_out(client)
    clock.tick()
    log_in(client, EMAIL, PASSWORD)
    assert post_code(client, "/organisers/login/code", typed(code_at(secret, clock))).status_code == 302
    assert client.get("/organisers/").status_code == 200


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize(
    "typed",
    ["12345", "1234567", "12345x", "１２３４５", "½23456", "١٢٣٤٥٦٧", "123 456 7", "\U0001d7ce" * 6 + "0"],
)
def test_a_code_that_is_not_six_digits_gets_the_form_back_with_a_message(client, clock, typed):
    log_in(client, EMAIL, PASSWORD)
    refused = post_code(client, "/organisers/enrol", typed)
    assert refused.status_code == 422
    assert "Enter the six digits" in refused.get_data(as_text=True)


@pytest.mark.usefixtures("account")
@pytest.mark.parametrize("typed", ["12345", "1234567", "12345x", "１２３４５６７", "abcde-fghij", "0123456789abc"])
def test_a_login_code_that_is_neither_six_digits_nor_a_recovery_code_gets_the_form_back(client, clock, typed):
    enrol(client, clock)
    log_out(client)
    clock.tick()
    log_in(client, EMAIL, PASSWORD)
    refused = post_code(client, "/organisers/login/code", typed)
    assert refused.status_code == 422
    assert "Enter the six digits" in refused.get_data(as_text=True)
