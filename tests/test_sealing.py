"""Addresses sealed at rest with a key of their own (AES-256-GCM), rotated through fallbacks."""

import pytest

from petition.config import DEVELOPMENT_ADDRESS_KEY, ConfigurationError, ProductionConfig
from petition.privacy.sealing import Keys, SealingError, make_key

ADDRESS = "ada@example.ac.uk"


def test_a_sealed_address_reads_as_nothing_and_opens_with_its_key():
    keys = Keys(make_key(), [])
    first, second = keys.seal(ADDRESS), keys.seal(ADDRESS)
    assert ADDRESS not in first and "example" not in first
    assert first != second, "the same address sealed twice looks different: rows cannot be matched"
    assert keys.open(first) == keys.open(second) == ADDRESS


def test_an_old_key_moved_to_the_fallbacks_still_opens_what_it_sealed():
    old, new = make_key(), make_key()
    sealed_before = Keys(old, []).seal(ADDRESS)
    rotated = Keys(new, [old])
    assert rotated.open(sealed_before) == ADDRESS
    assert not rotated.is_current(sealed_before) and rotated.is_current(rotated.seal(ADDRESS))


@pytest.mark.parametrize("damage", ["another key", "a changed byte", "nonsense"])
def test_a_value_no_key_opens_is_refused_not_misread(damage):
    keys = Keys(make_key(), [])
    sealed = keys.seal(ADDRESS)
    if damage == "another key":
        sealed = Keys(make_key(), []).seal(ADDRESS)
    elif damage == "a changed byte":
        sealed = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    else:
        sealed = "not sealed at all"
    with pytest.raises(SealingError):
        keys.open(sealed)


def test_production_refuses_to_start_without_an_address_key_of_its_own(app_factory):
    with pytest.raises(ConfigurationError, match=r"ADDRESS_KEY must be set in production.*urlsafe_b64encode"):
        app_factory(
            ENV_NAME=ProductionConfig.ENV_NAME,
            SECRET_KEY="s" * 48,
            ADDRESS_KEY=DEVELOPMENT_ADDRESS_KEY,
            RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
        )


@pytest.mark.parametrize("key", ["short", "", "x" * 60])
def test_a_malformed_address_key_stops_the_site_with_how_to_make_one(app_factory, key):
    with pytest.raises(ConfigurationError, match="ADDRESS_KEY must be 32 random bytes"):
        app_factory(ADDRESS_KEY=key)


SIGNERS = ["stolen.ada@example.ac.uk", "stolen.wang@example.edu.cn", "nobody.stolen@example.org"]


def database_bytes(app):
    """What a thief takes: the SQLite file and its write-ahead log, or a pg_dump of the database."""
    import subprocess
    from pathlib import Path

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    target = url.replace("postgresql+psycopg://", "postgresql://")
    return subprocess.run(["pg_dump", "--no-owner", target], capture_output=True, check=True).stdout


def test_a_stolen_database_names_no_one_and_the_site_still_works(app, client, organiser_client, smtp_server, runner):
    """A realistic run (signing in both languages, confirming, news to a subscriber, an email the
    server refuses by naming the address) leaves no signer's address in the database's bytes, while
    the emails went out and the organisers' export still lists every address."""
    from tests.support import csrf_token, link_in_latest_email, press_confirm, sign_as

    for address in SIGNERS:
        sign_as(client, email=address, updates="y")
        if not address.startswith("nobody"):  # the server refuses this one, naming it
            press_confirm(client, link_in_latest_email(app, address))
    token = csrf_token(organiser_client, "/organisers/updates")
    news = {"csrf_token": token, "published_on": "2026-12-01", "title_en": "News", "title_zh": "消息"}
    news |= {"body_en": "We delivered it.", "body_zh": "已递交。", "email": "y"}
    assert organiser_client.post("/organisers/updates", data=news).status_code == 302
    for _ in range(5):
        assert runner.invoke(args=["mail", "deliver"]).exit_code == 0
    delivered = {m["To"].addresses[0].addr_spec for m in smtp_server.messages}
    assert {"stolen.ada@example.ac.uk", "stolen.wang@example.edu.cn"} <= delivered
    exported = organiser_client.get("/organisers/export.csv?scope=all").get_data(as_text=True)
    assert all(address in exported for address in SIGNERS), "organisers still see every address"

    stolen = database_bytes(app)
    for address in SIGNERS:
        for form in (address, address.upper(), address.encode("utf-16-le").decode("latin-1")):
            assert form.encode("latin-1", "ignore") not in stolen, f"{address} is readable in the database"


def test_a_new_address_key_takes_over_after_reseal_and_the_old_one_can_go(app, runner):
    """Rotation: the new key seals, the old one (a fallback) still opens until `privacy reseal` has
    sealed everything again; then the site works without the old key."""
    from sqlalchemy import select, text

    from petition.extensions import db
    from petition.signatures.models import Signature
    from tests.support import confirmed_signature, settings

    old = app.config["ADDRESS_KEY"]
    with app.app_context():
        confirmed_signature(email="rotated@example.org")
    new = make_key()
    with settings(app, ADDRESS_KEY=new, ADDRESS_KEY_FALLBACKS=[old]):
        with app.app_context():
            assert db.session.execute(select(Signature.email)).scalar_one() == "rotated@example.org"
        result = runner.invoke(args=["privacy", "reseal"])
        # The signature's address and its confirmation's, in the outbox.
        assert result.exit_code == 0 and "Sealed 2 values again" in result.output
        assert "Sealed 0 values again" in runner.invoke(args=["privacy", "reseal"]).output
    with settings(app, ADDRESS_KEY=new, ADDRESS_KEY_FALLBACKS=[]), app.app_context():
        assert db.session.execute(select(Signature.email)).scalar_one() == "rotated@example.org"
        stored = db.session.execute(text("SELECT email FROM signatures")).scalar_one()
        assert Keys(new, []).is_current(stored)
