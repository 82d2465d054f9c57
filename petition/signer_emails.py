"""The emails a signer receives, queued in the outbox in the same transaction as the signature."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l

from .links import site_link
from .outbox import queue_email
from .tokens import CONFIRM, MANAGE, make_token

Row = dict[str, Any]  # an outbox row's values

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString

    from .models import Signature


def _links(signature: Signature) -> dict[str, str | int]:
    language = signature.language
    return {
        "confirm_url": site_link("public.confirm", token=make_token(signature, CONFIRM), lang=language),
        "manage_url": site_link("public.manage", token=make_token(signature, MANAGE), lang=language),
        "resend_url": site_link("public.resend", lang=language),
        "confirm_days": max(1, round(current_app.config["CONFIRM_MAX_AGE"] / 86400)),
    }


def render_email(template: str, **context: Any) -> str:
    """An email's text from its template and what it is given. Not render_template: an email uses
    none of a page's context (language switcher, canonical address, closing banner), which costs
    more than the email itself in a signing request."""
    return current_app.jinja_env.get_template(template).render(**context)


def queue_signer_email(signature: Signature, template: str, subject: LazyString, to: str | None = None) -> None:
    """Write the email in the signer's language, whatever language this request is in; to the
    signature's address, or to `to` (the address someone typed, when the stored one was erased)."""
    # force_locale reloads the catalogue from disk; skip it when the page is already in that language.
    switch = force_locale(signature.language) if str(get_locale()) != signature.language else nullcontext()
    with switch:
        body = render_email(template, signature=signature, **_links(signature))
        subject = str(subject)
    address = to or signature.email
    if address is None:
        raise ValueError(f"signature #{signature.id} has no address to write to")
    queue_email(address, subject, body, signature_id=signature.id)


def in_their_languages(signatures: Sequence[Signature], write: Callable[[int, Signature], Row]) -> list[Row]:
    """write(i, signature) for each signature of a batch, in that signer's language: the catalogue is
    switched once per language, not once per email (a batch is hundreds of emails)."""
    places: dict[str, list[int]] = defaultdict(list)
    for i, signature in enumerate(signatures):
        places[signature.language].append(i)
    rows: list[Row | None] = [None] * len(signatures)
    for language, indexes in places.items():
        with force_locale(language):
            for i in indexes:
                rows[i] = write(i, signatures[i])
    return [row for row in rows if row is not None]


# Lazy: translated in _queue, in the signer's language.
CONFIRM_SUBJECT = _l("Please confirm your signature on the open letter")
ALREADY_SIGNED_SUBJECT = _l("You have already signed the open letter")


def queue_confirmation(signature: Signature) -> None:
    queue_signer_email(signature, "emails/confirm.txt", CONFIRM_SUBJECT)


def queue_already_signed(signature: Signature, to: str | None = None) -> None:
    """Sent when someone signs again with this address: nothing on the site says so, the owner learns
    it here (at `to`, the address typed, if the stored one was erased)."""
    if signature.is_confirmed:
        queue_signer_email(signature, "emails/already_confirmed.txt", ALREADY_SIGNED_SUBJECT, to)
    else:
        queue_signer_email(signature, "emails/already_pending.txt", CONFIRM_SUBJECT)
