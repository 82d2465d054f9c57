"""Who is behind the letter: its initiators (INITIATORS, "Name, Affiliation; Name, Affiliation") and
the address to write to (CONTACT_EMAIL). The letter page, the privacy page (as those responsible for
the data), every email's footer and the delivery copy's cover name them. Unset, each says nothing
rather than make someone up; production warns at start (config.check_initiators)."""

from __future__ import annotations

import re

from babel.lists import format_list
from flask import current_app
from flask_babel import get_locale, gettext


def initiators() -> list[tuple[str, str]]:
    """INITIATORS as (name, affiliation) each (a full-width comma separates too)."""
    split = (re.split(r"\s*[,，]\s*", entry.strip(), maxsplit=1) for entry in current_app.config["INITIATORS"])
    return [(parts[0], parts[1] if len(parts) > 1 else "") for parts in split]


def contact_email() -> str:
    """CONTACT_EMAIL, or "" when unset."""
    return str(current_app.config["CONTACT_EMAIL"])


def named() -> str:
    """The initiators as one phrase in the current language, "" when none: "Ada Lovelace (UCL) and
    Chen Jie (SCUT)", "陈杰（华南理工大学）和Ada Lovelace（UCL）"."""
    people = [
        gettext("%(name)s (%(affiliation)s)", name=name, affiliation=affiliation) if affiliation else name
        for name, affiliation in initiators()
    ]
    return format_list(people, locale=get_locale() or "en") if people else ""
