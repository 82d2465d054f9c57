"""Organiser pages: login, dashboard, export; and that none of it is open to anyone else."""

import re

import pytest

from tests.support import create_organiser_account, csrf_token, log_in, sign_as


def organiser_routes(app):
    rules = [
        r for r in app.url_map.iter_rules() if r.endpoint.startswith("organisers.") and r.endpoint != "organisers.login"
    ]
    return [(sorted(r.methods - {"HEAD", "OPTIONS"})[0], r.rule) for r in rules]


def test_the_organiser_area_has_the_routes_we_protect(app):
    # If a route is added, it is covered by the parametrised test below automatically.
    assert {rule for _, rule in organiser_routes(app)} >= {
        "/organisers/",
        "/organisers/export.csv",
        "/organisers/logout",
        "/organisers/bulk-hide",
        "/organisers/signatures/<id:signature_id>",
        "/organisers/signatures/<id:signature_id>/<action>",
    }


def pytest_generate_tests(metafunc):
    if "organiser_route" in metafunc.fixturenames:
        from petition import create_app
        from petition.config import TestConfig

        metafunc.parametrize(
            "organiser_route", organiser_routes(create_app(TestConfig)), ids=lambda r: f"{r[0]} {r[1]}"
        )


def test_every_organiser_route_refuses_anonymous_visitors(client, organiser_route):
    method, path = organiser_route
    path = re.sub(r"<id:\w+>", "1", path).replace("<action>", "hide").replace("<language>", "en")
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert "/organisers/login" in response.headers["Location"]
    assert "@" not in response.get_data(as_text=True)


def test_login_with_the_right_password_opens_the_dashboard_with_emails(client, app):
    with app.app_context():
        email, password = create_organiser_account()
    sign_as(client, name="Ada", email="ada@example.ac.uk")
    sign_as(client, name="Quiet", email="quiet@example.ac.uk", listed=None)
    response = log_in(client, email, password)
    assert response.status_code == 302 and response.headers["Location"] == "/organisers/"
    dashboard = client.get("/organisers/")
    html = dashboard.get_data(as_text=True)
    assert "ada@example.ac.uk" in html and "quiet@example.ac.uk" in html
    assert dashboard.headers["Cache-Control"] == "no-store"


def test_a_wrong_password_or_unknown_address_gets_the_same_message(client, app):
    with app.app_context():
        email, _ = create_organiser_account()
    wrong_password = log_in(client, email, "not the password at all")
    unknown = log_in(client, "nobody@example.org", "not the password at all")
    for response in (wrong_password, unknown):
        assert response.status_code == 422
        assert "do not match an organiser account" in response.get_data(as_text=True)
    assert client.get("/organisers/").status_code == 302


def test_login_returns_to_the_page_asked_for_but_never_to_another_site(client, app):
    with app.app_context():
        email, password = create_organiser_account()
    for target, expected in [
        ("/organisers/export.csv", "/organisers/export.csv"),
        ("//evil.example", "/organisers/"),
        ("https://evil.example/", "/organisers/"),
    ]:
        token = csrf_token(client, "/organisers/login")
        response = client.post(
            f"/organisers/login?next={target}", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.headers["Location"] == expected
        client.post("/organisers/logout", data={"csrf_token": csrf_token(client, "/organisers/")})


def test_logout_ends_the_session(organiser_client):
    token = csrf_token(organiser_client, "/organisers/")
    assert organiser_client.post("/organisers/logout", data={"csrf_token": token}).status_code == 302
    assert organiser_client.get("/organisers/").status_code == 302


def test_logout_without_the_form_token_does_not_log_out(organiser_client):
    organiser_client.post("/organisers/logout")
    assert organiser_client.get("/organisers/").status_code == 200


def test_names_written_as_markup_are_text_on_the_dashboard(organiser_client):
    sign_as(organiser_client, name="<script>alert(1)</script>")
    html = organiser_client.get("/organisers/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


@pytest.mark.parametrize("field", ["email", "password"])
def test_login_form_errors_sit_beside_the_field(client, field):
    data = {
        "email": "someone@example.org",
        "password": "pw",
        field: "",
        "csrf_token": csrf_token(client, "/organisers/login"),
    }
    html = client.post("/organisers/login", data=data).get_data(as_text=True)
    assert f'id="{field}-errors"' in html


# --- Attacks on organiser accounts ------------------------------------------------------------------


def test_the_lockout_holds_whatever_the_spelling_of_the_address(app, client):
    with app.app_context():
        create_organiser_account("lock@example.org", "correct horse battery")
    for _ in range(6):
        log_in(client, "lock@example.org", "wrong password here")
    for spelling in ("lock@example.org", "LOCK@EXAMPLE.ORG", "lock@ｅxample.org", " Lock@Example.org "):
        assert log_in(client, spelling, "correct horse battery").status_code == 422, spelling
    assert client.get("/organisers/").status_code == 302


def test_failures_under_other_spellings_count_towards_one_lockout(app, client):
    with app.app_context():
        create_organiser_account("lock@example.org", "correct horse battery")
    for spelling in (
        "LOCK@example.org",
        "lock@ｅxample.org",
        "Lock@EXAMPLE.org",
        "lock@example.ORG",
        "lOcK@example.org",
    ):
        log_in(client, spelling, "wrong password here")
    assert log_in(client, "lock@example.org", "correct horse battery").status_code == 422


def copied_session(app, client):
    """Another browser holding a copy of this organiser's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_logging_out_ends_every_copy_of_the_session(app, organiser_client):
    thief = copied_session(app, organiser_client)
    assert thief.get("/organisers/").status_code == 200
    token = csrf_token(organiser_client, "/organisers/")
    organiser_client.post("/organisers/logout", data={"csrf_token": token})
    for path in ("/organisers/", "/organisers/export.csv", "/organisers/bulk-hide"):
        assert thief.get(path).status_code == 302, path


def test_a_new_password_ends_every_session_of_the_account(app, organiser_client, runner):
    thief = copied_session(app, organiser_client)
    result = runner.invoke(
        args=["organisers", "set-password", "Organiser@Example.org"],
        input="another long passphrase\nanother long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert thief.get("/organisers/").status_code == 302
    assert organiser_client.get("/organisers/").status_code == 302
    fresh = app.test_client()
    assert log_in(fresh, "organiser@example.org", "another long passphrase").status_code == 302


def test_logging_out_in_one_browser_leaves_the_other_login_alone(app, organiser_client):
    other = app.test_client()
    assert log_in(other, "organiser@example.org", "correct horse battery").status_code == 302
    organiser_client.post("/organisers/logout", data={"csrf_token": csrf_token(organiser_client, "/organisers/")})
    assert other.get("/organisers/").status_code == 200


def review_page_for(app, organiser_client):
    from tests.support import confirmed_signature

    with app.app_context():
        signature_id = confirmed_signature(email="reviewed@example.org").id
    return signature_id, f"/organisers/signatures/{signature_id}"


def test_hiding_without_a_reason_shows_the_error_under_the_hide_box_only(app, organiser_client):
    import re

    _, path = review_page_for(app, organiser_client)
    response = organiser_client.post(
        path + "/hide", data={"reason": "", "csrf_token": csrf_token(organiser_client, path)}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and html.count('class="field-errors"') == 1
    assert re.search(r'id="reason-hide-errors"', html) and 'id="reason-delete-errors"' not in html
    assert 'href="#reason-hide"' in html, "the summary leads to the box that was pressed"


def test_delete_for_good_asks_first_and_deletes_only_when_confirmed(app, organiser_client):
    from petition.extensions import db
    from petition.signatures.models import Signature

    signature_id, path = review_page_for(app, organiser_client)
    token = csrf_token(organiser_client, path)
    asked = organiser_client.post(path + "/delete", data={"reason": "spam", "csrf_token": token})
    assert asked.status_code == 200 and "Yes, delete it for good" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Signature, signature_id) is not None, "nothing is deleted before the answer"
    done = organiser_client.post(path + "/delete", data={"reason": "spam", "confirm": "yes", "csrf_token": token})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Signature, signature_id) is None
