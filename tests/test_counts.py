import pytest

from conftest import confirmed_signature
from petition.counts import current_counts
from petition.signing import sign

pytestmark = pytest.mark.usefixtures("ctx")


def add(n, group, listed=True, prefix="s"):
    for i in range(n):
        confirmed_signature(name=f"{prefix}{i}", affiliation="Uni", email=f"{prefix}{group}{i}@example.org", group=group, listed=listed)


def test_no_signatures_counts_zero():
    counts = current_counts()
    assert (counts.international, counts.chinese, counts.total) == (0, 0, 0)


def test_counts_are_split_by_group_and_include_unlisted_signers():
    add(3, "international")
    add(2, "international", listed=False, prefix="u")
    add(4, "chinese")
    add(1, "chinese", listed=False, prefix="u")
    counts = current_counts()
    assert counts.international == 5
    assert counts.chinese == 5
    assert counts.total == 10
    assert counts.unlisted_international == 2
    assert counts.unlisted_chinese == 1
    assert counts.as_json()["total"] == 10


def test_only_confirmed_signatures_count():
    sign(name="Pending", affiliation="Uni", email="pending@example.org", group="chinese")
    sign(name="Bot", affiliation="Uni", email="bot@example.org", group="chinese", suspected_bot=True)
    add(1, "chinese")
    assert current_counts().chinese == 1
