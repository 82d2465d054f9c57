"""A signature's states, the transitions between them, and what they mean: one owner (lifecycle.py)."""

import ast
import itertools
from pathlib import Path

import pytest
from sqlalchemy import select

from petition.db.types import now_utc
from petition.extensions import db
from petition.privacy.addresses import domain_hash
from petition.signatures import lifecycle
from petition.signatures.lifecycle import Review, Status
from petition.signatures.models import Signature

pytestmark = pytest.mark.usefixtures("ctx")
STATE = ("status", "hidden", "suspected_bot", "visible")


def new(email="s@example.org", suspected_bot=False, listed=True):
    signature = Signature(
        email=email,
        name="N",
        affiliation="A",
        group="chinese",
        listed=listed,
        secret="s",
        signed_at=now_utc(),
        **lifecycle.new_state(suspected_bot),
    )
    db.session.add(signature)
    db.session.flush()
    return signature


def test_a_new_signature_is_pending_and_does_not_count():
    signature = new()
    assert (signature.status, signature.counted, signature.review_status) == (Status.PENDING, False, Review.PENDING)


def test_confirming_makes_it_count_and_confirming_again_changes_nothing():
    signature = new()
    lifecycle.confirm(signature, now_utc())
    first = signature.confirmed_at
    lifecycle.confirm(signature, now_utc())
    assert signature.counted and signature.visible and signature.confirmed_at == first


def test_hiding_and_restoring_and_approving_keep_the_stored_visibility_in_step():
    signature = new(suspected_bot=True)
    lifecycle.confirm(signature, now_utc())
    assert signature.review_status == Review.FLAGGED and not signature.visible
    lifecycle.approve(signature)
    assert signature.review_status == Review.CONFIRMED and signature.visible
    lifecycle.hide(signature)
    assert signature.review_status == Review.HIDDEN and not signature.visible
    lifecycle.restore(signature)
    assert signature.visible
    db.session.commit()  # the database's visible_rule agrees at every step that was flushed


def test_a_confirmed_signature_is_never_replaced():
    signature = new()
    lifecycle.confirm(signature, now_utc())
    with pytest.raises(ValueError):
        lifecycle.replace_unconfirmed(signature, suspected_bot=False, secret="x", signed_at=now_utc(), name="Other")


def test_review_precedence_and_meanings_are_the_same_in_python_and_in_sql():
    # Every combination of state, stored, then asked of Python and of the database.
    combinations = list(itertools.product(Status, (False, True), (False, True), (False, True)))
    for i, (status, hidden, bot, listed) in enumerate(combinations):
        signature = new(email=f"c{i}@example.org", suspected_bot=bot, listed=listed)
        if status == Status.CONFIRMED:
            lifecycle.confirm(signature, now_utc())
        if hidden:
            lifecycle.hide(signature)
    db.session.commit()
    rows = db.session.execute(
        select(Signature, Signature.counted, Signature.listed_publicly, Signature.review_status)
    ).all()
    assert len(rows) == len(combinations)
    for signature, counted, listed_publicly, review in rows:
        assert (signature.counted, signature.listed_publicly, signature.review_status) == (
            bool(counted),
            bool(listed_publicly),
            review,
        )
        expected = (
            Review.FLAGGED
            if signature.suspected_bot
            else Review.HIDDEN
            if signature.hidden
            else Review(signature.status)
        )
        assert signature.review_status == expected
        assert signature.counted == (
            signature.status == Status.CONFIRMED and not signature.hidden and not signature.suspected_bot
        )


def test_bulk_hiding_keeps_the_stored_visibility_in_step():
    for i in range(3):
        lifecycle.confirm(new(email=f"b{i}@flood.example"), now_utc())
    db.session.commit()
    assert lifecycle.hide_where(Signature, [Signature.email_domain_hash == domain_hash("flood.example")]) == 3
    db.session.commit()
    assert db.session.execute(select(Signature).where(Signature.counted)).all() == []


def assignments_to_state(tree):
    for node in ast.walk(tree):
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        )
        for target in targets:
            for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(element, ast.Attribute) and element.attr in STATE:
                    yield element.attr, node.lineno
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("values", "update"):
            for keyword in node.keywords:
                if keyword.arg in STATE:
                    yield keyword.arg, node.lineno


def test_no_module_but_lifecycle_changes_a_signatures_state():
    package = Path(lifecycle.__file__).parent
    offenders = [
        f"{path.relative_to(package)}:{line} sets {attr}"
        for path in package.rglob("*.py")
        if path.name != "lifecycle.py"
        for attr, line in assignments_to_state(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []
