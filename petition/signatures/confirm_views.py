"""Confirming a signature: by the emailed link (a page with a button, since link scanners open
links) or by typing the emailed code with the address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from petition.extensions import limiter
from petition.privacy.addresses import email_hash
from petition.signatures import abuse, confirmation_codes, listing, signing
from petition.signatures.forms import ButtonForm, CodeForm
from petition.signatures.models import Signature
from petition.signatures.tokens import CONFIRM, MANAGE, LinkExpired, make_token
from petition.signatures.views import link_problem, signature_from_link
from petition.web.headers import private_page
from petition.web.locales import localized_route
from petition.web.public import bp
from petition.web.text import normalise_email, tidy

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

LISTING_UNDER_REVIEW = _l(
    "Your signature is confirmed and now counts. The organisers check each name before it goes on the public list; yours will appear there once they have."  # noqa: E501 (one message for the catalogue)
)


HELD_FOR_REVIEW = _l(
    "Your signature is confirmed. The organisers are reviewing it: it is not counted or listed until they have."
)


@localized_route(bp, "/confirm/<token>", methods=["GET", "POST"])
@private_page
@signature_from_link(CONFIRM)
def confirm(signature: Signature, token: str) -> ResponseReturnValue:
    """Opening the link shows a button; only pressing it confirms (link scanners only open links)."""
    form = ButtonForm()
    if form.validate_on_submit():
        return confirmed(signature)
    return confirmation_page(signature, form)


def confirmed(signature: Signature) -> ResponseReturnValue:
    """Confirm the signature, and say what that did on the thank-you page (the link and the code)."""
    signing.confirm_signature(signature)
    if signature.counted and listing.is_pending(signature):
        flash(LISTING_UNDER_REVIEW, "success")
    elif signature.counted:
        flash(_l("Your signature is confirmed and now counts."), "success")
    else:
        flash(HELD_FOR_REVIEW, "info")
    # The thank-you page's address holds no secret: a phone's "share this page" shares the letter.
    return redirect(url_for(".thanks"))


def confirmation_page(signature: Signature, form: ButtonForm) -> str:
    return render_template(
        "confirm.html",
        signature=signature,
        form=form,
        already=signature.is_confirmed,
        manage_url=url_for(".manage", token=make_token(signature, MANAGE)),
    )


WRONG_CODE = _l(
    "This code and this email address do not go together. Check both against the email and try again, or open the link in the email."  # noqa: E501 (one message for the catalogue)
)


def code_limit_key() -> str:
    """Rate-limit key of the confirm-by-code page: the keyed hash of the address typed, so one
    signature's code can be tried only a few times, from however many networks; the same for an
    address that has not signed. Never the address itself: the limiter's storage keeps no addresses."""
    if "code_limit_key" not in g:
        try:
            g.code_limit_key = "code:" + email_hash(normalise_email(request.form.get("email", "")))
        except ValueError:
            g.code_limit_key = "code:invalid"  # never used: exempt below
    return g.code_limit_key


def no_guess_in_form() -> bool:
    """A malformed address or code guesses nothing: only the sender's IP limit counts it (and the
    page says what to correct). Read as the form reads it (tidied), so no guess escapes the count."""
    typed = request.form.get("code", "")
    return code_limit_key() == "code:invalid" or confirmation_codes.normalised(tidy(typed)) is None


# Every well-formed try counts against the address, right or wrong: the limiter counts it before the
# view runs, in one step in its storage, so simultaneous guesses cannot slip past the count.
@localized_route(bp, "/confirm", methods=["GET", "POST"])
@private_page  # it shows the address typed
@limiter.limit(abuse.configured_limit("CODE_LIMIT_PER_IP"), methods=["POST"])
@limiter.limit(
    abuse.configured_limit("CODE_LIMIT_PER_EMAIL"),
    key_func=code_limit_key,
    methods=["POST"],
    exempt_when=no_guess_in_form,
)
def confirm_with_code() -> ResponseReturnValue:
    """Confirm with the address and the code from the email, for a signer whose link does not open
    (a mail program that rewrites links, webmail inside an app). A wrong code and an address that
    has not signed get one answer; a right one confirms as the link does, under the link's rules."""
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("confirm_code.html", form=form), 422 if form.is_submitted() else 200
    try:
        signature = confirmation_codes.signature_for_code(form.email.data, form.code.data)
    except confirmation_codes.WrongCode:
        form.code.errors = [*form.code.errors, WRONG_CODE]
        return render_template("confirm_code.html", form=form), 422
    except LinkExpired as error:  # only someone who has the code learns this: the link's own page
        return link_problem(error, CONFIRM)
    if signature.is_confirmed:
        return confirmation_page(signature, ButtonForm())  # "already confirmed", as the link shows it
    return confirmed(signature)  # a POST's transaction holds the write lock from its start
