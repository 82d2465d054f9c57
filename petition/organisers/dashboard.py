"""What the organisers' dashboard shows."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, select

from petition.extensions import db
from petition.signatories.counts import current_counts
from petition.signatures.abuse import is_fast
from petition.signatures.institutions import institutional_hint
from petition.signatures.lifecycle import ListingReview, Review, Status
from petition.signatures.models import Signature

# Which signatures a dashboard tab lists. Those that do not count say `visible = false` as well
# (the database's visible_rule implies it), so the index on visible finds their few rows.
NOT_COUNTED = Signature.visible == false()
REVIEW_FILTERS: dict[str, tuple[Any, ...]] = {  # SQL conditions
    "all": (),
    "pending": (
        NOT_COUNTED,
        Signature.status == Status.PENDING.value,
        Signature.hidden.is_(False),
        Signature.suspected_bot.is_(False),
    ),
    # Nearly every row: walked newest first by id, not read through the index on visible and sorted.
    "counted": (
        Signature.status == Status.CONFIRMED.value,
        Signature.hidden.is_(False),
        Signature.suspected_bot.is_(False),
    ),
    "hidden": (NOT_COUNTED, Signature.hidden.is_(True), Signature.suspected_bot.is_(False)),
    "flagged": (NOT_COUNTED, Signature.suspected_bot.is_(True)),
    # Through the partial index of the names kept off the list.
    "listing": (Signature.awaiting_listing, Signature.listing_review == ListingReview.PENDING.value),
}


def possible_duplicates(signatures: Sequence[Signature]) -> dict[int, list[int]]:
    """For each signature, the others whose address reaches the same mailbox (a.da+x@gmail.com and
    ada@gmail.com): perhaps one person signing twice. Shown, never acted on by itself."""
    keys = {s.email_key for s in signatures if s.email_key}
    if not keys:
        return {}
    by_key: dict[str, list[int]] = {}
    for id_, key in db.session.execute(
        select(Signature.id, Signature.email_key).where(Signature.email_key.in_(keys)).order_by(Signature.id)
    ):
        by_key.setdefault(key or "", []).append(id_)
    return {s.id: [other for other in by_key.get(s.email_key or "", []) if other != s.id] for s in signatures}


# What organisers read for a review status and an audit action, in their language. The database
# keeps the plain English keys.
REVIEW_LABELS = {
    Review.FLAGGED: _l("flagged as a bot"),
    Review.HIDDEN: _l("hidden"),
    Review.PENDING: _l("not confirmed"),
    Review.CONFIRMED: _l("counted"),
}
ACTION_LABELS = {
    "hide": _l("hid"),
    "restore": _l("restored"),
    "approve": _l("approved"),
    "delete": _l("deleted"),
    "bulk-hide": _l("bulk hid"),
    "export": _l("exported"),
    "delivery": _l("made the delivery copy"),
    "delivery-request": _l("asked for the delivery copy"),
    "delivery-download": _l("downloaded the delivery copy"),
    "close": _l("closed signing"),
    "reopen": _l("reopened signing"),
    "publish-update": _l("published news"),
    "edit-update": _l("corrected news"),
    "withdraw-update": _l("withdrew news"),
    "create-account": _l("created an account"),
    "set-role": _l("changed a role"),
    "disable-account": _l("disabled an account"),
    "reset-2fa": _l("reset two-factor sign-in"),
    "enrol-2fa": _l("turned on two-factor sign-in"),
    "change-password": _l("changed a password"),
    "logout-everywhere": _l("logged out everywhere"),
    "approve-listing": _l("approved a listing"),
    "decline-listing": _l("declined a listing"),
}
LISTING_LABELS = {
    ListingReview.NONE: _l("listed without review"),
    ListingReview.PENDING: _l("waiting for review before it is listed"),
    ListingReview.APPROVED: _l("approved for the list"),
    ListingReview.DECLINED: _l("declined: counted, not listed"),
}
ROLE_LABELS = {
    "viewer": _l("viewer: counts and the list, no email addresses"),
    "moderator": _l("moderator: also email addresses, hiding, restoring and reviewing"),
    "admin": _l("admin: everything, including exports and accounts"),
}


# A role in a word, for the header beside the organiser's address.
ROLE_NAMES = {"viewer": _l("viewer"), "moderator": _l("moderator"), "admin": _l("admin")}


def review_label(status: str) -> str:
    return str(REVIEW_LABELS.get(Review(status), status))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def listing_label(state: str) -> str:
    return str(LISTING_LABELS.get(ListingReview(state), state))


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def role_name(role: str) -> str:
    return str(ROLE_NAMES.get(role, role))


# The audit log keeps plain English (the record does not change with the reader); what the code
# writes there is read back in the organiser's language. Reasons organisers typed are shown as typed.
SYSTEM_REASONS = {
    "from the command line": _l("from the command line"),
    "emailed to subscribers": _l("emailed to subscribers"),
}
DELIVERY_COPIES = {"en": _l("the delivery copy in English"), "zh": _l("the delivery copy in Chinese")}
_TARGETS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"signature #(\d+)"), lambda m: gettext("signature #%(id)s", id=m[1])),
    (re.compile(r"update #(\d+)"), lambda m: gettext("news #%(id)s", id=m[1])),
    (
        re.compile(r"organiser (\S+) \((\w+)\)"),
        lambda m: gettext("organiser %(email)s (%(role)s)", email=m[1], role=role_name(m[2])),
    ),
    (re.compile(r"organiser (\S+)"), lambda m: gettext("organiser %(email)s", email=m[1])),
    (re.compile(r"delivery copy \((en|zh)\)"), lambda m: str(DELIVERY_COPIES[m[1]])),
    (
        re.compile(r"delivery copy #(\d+) \((en|zh), list (\w+)\)"),
        lambda m: gettext(
            "%(copy)s #%(id)s (list %(fingerprint)s)", copy=DELIVERY_COPIES[m[2]], id=m[1], fingerprint=m[3]
        ),
    ),
    (re.compile(r"all signatures"), lambda m: gettext("all signatures")),
    (re.compile(r"confirmed signatures"), lambda m: gettext("confirmed signatures")),
    (re.compile(r"signing"), lambda m: gettext("signing")),
    (re.compile(r"(\d+) signatures: (.*)"), lambda m: _bulk_hidden(int(m[1]), m[2])),
]


def _bulk_hidden(n: int, selection: str) -> str:
    """moderation.BulkSelection.describe(), read back: "domain x.org, signed from A until B"."""
    parts = []
    for part in selection.split(", "):
        if domain := re.fullmatch(r"domain (\S+)", part):
            parts.append(gettext("domain %(domain)s", domain=domain[1]))
        elif window := re.fullmatch(r"signed from (.+) until (.+)", part):
            since = gettext("the start") if window[1] == "the start" else window[1]
            until = gettext("now") if window[2] == "now" else window[2]
            parts.append(gettext("signed from %(since)s until %(until)s", since=since, until=until))
        else:
            parts.append(part)
    what = parts[0]
    if len(parts) > 1:
        what = gettext("%(first)s, %(second)s", first=parts[0], second=", ".join(parts[1:]))
    return ngettext("%(num)s signature: %(what)s", "%(num)s signatures: %(what)s", n, what=what)


def audit_target(target: str) -> str:
    """What an audit entry was about, in the reader's language (as stored, if the code never wrote it)."""
    for pattern, say in _TARGETS:
        if found := pattern.fullmatch(target):
            return say(found)
    return target


def audit_reason(reason: str) -> str:
    return str(SYSTEM_REASONS[reason]) if reason in SYSTEM_REASONS else reason


def review_hints() -> dict[str, Callable[..., object]]:
    """For the organiser pages' templates: does an address look institutional, was a form sent
    suspiciously fast (hints beside each signature, never stored on it), and the words for a review
    status and an audit action."""
    return {
        "institution_hint": institutional_hint,
        "sent_fast": is_fast,
        "review_label": review_label,
        "action_label": action_label,
        "role_label": role_label,
        "role_name": role_name,
        "audit_target": audit_target,
        "audit_reason": audit_reason,
        "listing_label": listing_label,
    }


def review_counts() -> dict[str, int]:
    """How many signatures are in each tab, each read from an index, not from every row: those that
    count from the counters the triggers keep, those that do not (a few, however many signed) from
    the index on visible; "all" is the two together."""
    tabs = [key for key in REVIEW_FILTERS if key not in ("all", "counted")]
    queries = [
        select(func.count()).select_from(Signature).where(*conditions).scalar_subquery()
        for conditions in [(NOT_COUNTED,), *(REVIEW_FILTERS[key] for key in tabs)]
    ]
    not_counted, *figures = db.session.execute(select(*queries)).one()
    counted = current_counts().total
    return {"all": counted + not_counted, "counted": counted, **dict(zip(tabs, figures, strict=True))}
