"""Addresses sealed at rest with a key of their own (AES-256-GCM), rotated through fallbacks."""

import pytest

from petition.config import DEVELOPMENT_ADDRESS_KEY, ConfigurationError, ProductionConfig
from petition.sealing import Keys, SealingError, make_key

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
