import pytest

from petition.signatories.counts import current_counts
from petition.signatures.signing import sign
from tests.support import confirmed_signature

pytestmark = pytest.mark.usefixtures("ctx")


def add(n, group, listed=True, prefix="s"):
    for i in range(n):
        confirmed_signature(
            name=f"{prefix}{i}", affiliation="Uni", email=f"{prefix}{group}{i}@example.org", group=group, listed=listed
        )


def test_no_signatures_counts_zero():
    counts = current_counts()
    assert (counts.of("international"), counts.of("chinese"), counts.total) == (0, 0, 0)


def test_counts_are_split_by_group_and_include_unlisted_signers():
    add(3, "international")
    add(2, "international", listed=False, prefix="u")
    add(4, "chinese")
    add(1, "chinese", listed=False, prefix="u")
    counts = current_counts()
    assert counts.of("international") == 5
    assert counts.of("chinese") == 5
    assert counts.total == 10
    assert counts.unlisted_of("international") == 2
    assert counts.unlisted_of("chinese") == 1
    assert counts.as_json()["total"] == 10


def test_only_confirmed_signatures_count():
    sign(name="Pending", affiliation="Uni", email="pending@example.org", group="chinese")
    sign(name="Bot", affiliation="Uni", email="bot@example.org", group="chinese", suspected_bot=True)
    add(1, "chinese")
    assert current_counts().of("chinese") == 1


def test_running_counts_follow_every_change_to_a_signature(app):
    from sqlalchemy import select

    from petition.extensions import db
    from petition.organisers.models import Organiser
    from petition.signatories.counts import counted_from_signatures
    from petition.signatures import moderation
    from petition.signatures.signing import correct_signature, withdraw_signature
    from tests.support import create_organiser_account

    create_organiser_account()
    organiser = db.session.execute(select(Organiser)).scalar_one()
    people = [
        confirmed_signature(
            name=f"P{i}",
            affiliation="U",
            email=f"p{i}@x{i % 3}.example",
            group="chinese" if i % 2 else "international",
            listed=i % 4 != 0,
        )
        for i in range(12)
    ]
    sign(name="Pending", affiliation="U", email="pending@example.org", group="chinese")
    steps = [
        lambda: correct_signature(people[0], name="P0", affiliation="U", group="chinese", listed=True),
        lambda: correct_signature(people[1], name="P1", affiliation="U", group="chinese", listed=False),
        lambda: moderation.hide(people[2], organiser, "joke"),
        lambda: moderation.restore(people[2], organiser, "real"),
        lambda: moderation.hide(people[3], organiser, "joke"),
        lambda: withdraw_signature(people[4]),
        lambda: moderation.delete_signature(people[5], organiser, "fake"),
        lambda: moderation.bulk_hide(moderation.BulkSelection(domain="x1.example"), organiser, "flood"),
        lambda: withdraw_signature(people[3]),  # hidden, then withdrawn: must not count twice
    ]
    for step in steps:
        step()
        assert current_counts() == counted_from_signatures()
    # 12, less one withdrawn, one deleted, one hidden then withdrawn, and three bulk-hidden (#1, #7, #10;
    # #4 of that domain was already withdrawn).
    assert current_counts().total == 6


def test_reconcile_puts_wrong_counters_right(runner, app):
    from sqlalchemy import text

    from petition.extensions import db
    from petition.signatories.counts import counted_from_signatures

    add(3, "chinese")
    db.session.execute(text("UPDATE signature_counts SET n = n + 7"))
    db.session.commit()
    assert current_counts() != counted_from_signatures()
    result = runner.invoke(args=["counts", "reconcile"])
    assert result.exit_code == 0 and "were corrected" in result.output and "chinese 3" in result.output
    assert current_counts() == counted_from_signatures()
    assert "were right" in runner.invoke(args=["counts", "reconcile"]).output


def test_fifty_simultaneous_confirmations_are_all_counted(app):
    import threading

    from petition.extensions import db
    from petition.signatures.models import Signature
    from petition.signatures.signing import confirm_signature

    ids = [
        sign(name=f"C{i}", affiliation="U", email=f"c{i}@example.org", group="chinese").signature.id for i in range(50)
    ]
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(len(ids))

    def confirm(signature_id):
        with app.app_context():
            barrier.wait()
            confirm_signature(db.session.get(Signature, signature_id))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=confirm, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert current_counts().of("chinese") == 50


def test_the_split_bar_gives_each_group_its_share_side_by_side():
    add(3, "international")
    add(1, "chinese")
    counts = current_counts()
    assert counts.share_of("international") == (0.0, 75.0)
    assert counts.share_of("chinese") == (75.0, 25.0)


def test_before_anyone_signs_the_bar_has_nothing_to_split():
    assert current_counts().share_of("chinese") == (0.0, 0.0)
