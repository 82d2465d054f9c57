"""Does an email address look like it belongs to a scholar's institution? An aid to an organiser's
judgement, never a reason to refuse a signature: many scholars sign from personal addresses."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

# Second-level labels that universities use under a country code (ac.uk, edu.cn, ac.jp, edu.au ...).
ACADEMIC_LABELS = {"ac", "edu"}
IGNORED_LABELS = {"www", "mail", "email", "staff", "student", "students", "alumni", "edu", "ac", "com", "org", "net"}
STOP_WORDS = {"of", "the", "and", "for", "de", "la", "du", "des", "der", "und", "at", "in", "di", "y"}


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _initials(affiliation: str) -> str:
    words = re.findall(r"[a-z]+", affiliation.lower())
    return "".join(w[0] for w in words if w not in STOP_WORDS)


def institutional_hint(email: str, affiliation: str) -> LazyString | None:
    """A short reason the address looks institutional, in the organiser's language, or None."""
    domain = email.rsplit("@", 1)[-1].lower()
    labels = domain.split(".")
    if labels[-1] == "edu":
        return _l("%(suffix)s address", suffix=".edu")
    if len(labels) >= 3 and labels[-2] in ACADEMIC_LABELS and len(labels[-1]) == 2:
        return _l("%(suffix)s address", suffix=f".{labels[-2]}.{labels[-1]}")
    if any(label.startswith(("uni-", "univ")) for label in labels[:-1]):
        return _l("university domain")
    squashed, initials = _squash(affiliation), _initials(affiliation)
    for label in labels[:-1]:
        name = _squash(label)
        if len(name) >= 3 and name not in IGNORED_LABELS and (name in squashed or name == initials):
            return _l("domain matches affiliation")
    return None
