"""Signing and everything a signer does afterwards but confirming (confirm_views.py): the sign form,
checking one's email, the signer's page, correcting, withdrawing, asking for the link again."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from petition.db.transactions import reads_only
from petition.extensions import csrf, limiter
from petition.letter import closing
from petition.signatories.counts import current_counts
from petition.signatures import abuse, signing
from petition.signatures.forms import (
    ButtonForm,
    CodeForm,
    ResendForm,
    SignatoryDetailsForm,
    SignatureForm,
    data_when_valid,
)
from petition.signatures.models import Signature
from petition.signatures.tokens import CONFIRM, MANAGE, LinkExpired, LinkInvalid, make_token, read_token
from petition.web import locales
from petition.web.errors import render_error
from petition.web.headers import private_page
from petition.web.links import request_base
from petition.web.locales import localized_route
from petition.web.page_cache import cached_page
from petition.web.public import bp
from petition.web.text import normalise_email

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue
    from flask_babel.speaklater import LazyString
    from flask_limiter import RateLimitExceeded
    from flask_limiter._limits import RouteLimit

bp.url_value_preprocessor(locales.take_url_language)


bp.url_defaults(locales.keep_url_language)


def _language() -> str:
    return locales.current_language()


def email_in_form() -> str:
    """Rate-limit key: the address being signed with, so one address cannot flood its owner's inbox.
    Asked for several times per post (the key, the exemption, the deduction): worked out once."""
    if "limit_key" not in g:
        try:
            g.limit_key = "email:" + normalise_email(request.form.get("email", ""))
        except ValueError:
            g.limit_key = "email:invalid"  # never used: exempt below
    return g.limit_key


def no_valid_email_in_form() -> bool:
    """Typos share no key: a malformed or empty address is limited only by the sender's own IP."""
    return email_in_form() == "email:invalid"


def form_was_accepted(response: Response) -> bool:
    """Only a form that passed its checks (and was redirected on) counts against its address."""
    return response.status_code in (302, 303)


def per_address_limit(setting: str) -> RouteLimit:
    return limiter.limit(
        abuse.configured_limit(setting),
        key_func=email_in_form,
        methods=["POST"],
        exempt_when=no_valid_email_in_form,
        deduct_when=form_was_accepted,
    )


def render_sign_form(form: SignatureForm, status: int = 200, notice: LazyString | None = None) -> tuple[str, int]:
    return render_template("sign.html", form=form, counts=current_counts(), notice=notice), status


# The form checks its own CSRF token, so an expired token re-shows the form with everything typed kept.
@localized_route(bp, "/sign", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(abuse.configured_limit("SIGN_LIMIT_PER_IP"), methods=["POST"])
@per_address_limit("SIGN_LIMIT_PER_EMAIL")
# The request's own transaction only reads, its POST too (whether signing has closed, the counts for a
# form sent back): sign_now writes the signing in a transaction of its own, on another connection, so
# on SQLite the request must not hold the write lock that transaction waits for; and a form with a
# mistake is answered at once, however busy the writers are.
@reads_only
def sign() -> ResponseReturnValue:
    if request.method == "GET":
        return signing_closed_page(200) if closing.is_closed() else blank_sign_form()
    if closing.is_closed():  # before the form is read: a late or replayed post adds nothing, sends nothing
        return signing_closed_page(410)
    # A form sent right is read without building the WTForms form; one with a mistake builds it,
    # which checks again and shows each mistake next to its field.
    sent = data_when_valid(SignatureForm, request.form)
    if sent is None:
        form = SignatureForm()
        if not form.validate_on_submit():
            return render_sign_form(form, 422)
        sent = form.data
    try:
        signing.sign_now(**signing_details(sent), base=request_base())
    except closing.SigningClosed:  # closed between the check above and now
        return signing_closed_page(410)
    # For the next page only, in the signer's own browser: where the email went, and what they typed
    # to correct a mistyped address without typing the rest again.
    session["typed"] = {name: sent[name] for name in TYPED}
    return redirect(url_for(".check_email"))


TYPED = ("name", "affiliation", "email", "group", "listed", "updates")


def signing_closed_page(status: int) -> tuple[str, int]:
    return render_template("sign_closed.html", counts=current_counts()), status


def signing_details(sent: dict[str, Any]) -> dict[str, Any]:
    """What the form says (its data), and what the request adds (the hashed IP, the honeypot, the fill
    time)."""
    return {
        "name": sent["name"],
        "affiliation": sent["affiliation"],
        "email": sent["email"],
        "group": sent["group"],
        "listed": sent["listed"],
        "wants_updates": sent["updates"],
        "ip_hash": abuse.ip_hash(request.remote_addr),
        "suspected_bot": abuse.looks_like_a_bot(sent["website"]),
        "fill_seconds": abuse.seconds_to_fill(sent["started"]),
        "language": _language(),
    }


def blank_sign_form() -> str:
    """The empty form is the same for everyone but for its two hidden values: reuse one rendering
    (for PAGE_CACHE_SECONDS) and put this visitor's CSRF token and start time into it."""

    def render() -> tuple[str, str, str]:
        form = SignatureForm()
        form.started.data = abuse.form_started_token()
        html = render_template("sign.html", form=form, counts=current_counts(), notice=None)
        return html, str(form.csrf_token.current_token), form.started.data

    html, token, started = cached_page(("sign", _language(), request.path), render)
    return html.replace(token, generate_csrf()).replace(started, abuse.form_started_token())


@bp.errorhandler(429)
def too_many_requests(error: RateLimitExceeded) -> tuple[str, int]:
    """Slow down, but keep what was typed: a scholar behind a busy campus address loses nothing."""
    notice = _l(
        "Too many attempts from your network or for this address. Please wait a few minutes and press the button again; everything you typed is still here."  # noqa: E501 (one message for the catalogue)
    )
    if request.endpoint == "public.sign":
        return render_sign_form(SignatureForm(), 429, notice)
    if request.endpoint == "public.resend":
        return render_template("resend.html", form=ResendForm(), notice=notice), 429
    if request.endpoint == "public.confirm_with_code":
        return render_template("confirm_code.html", form=CodeForm(), notice=TOO_MANY_CODES), 429
    return render_error(error)  # a page that was only being read: no form, nothing typed


@localized_route(bp, "/sign/check-your-email")
@private_page  # it shows the address the signer typed
def check_email() -> ResponseReturnValue:
    """Where the confirmation went, with the form filled in as typed to send it to another address;
    the details are shown once and leave the session cookie with this page."""
    typed = session.pop("typed", None)
    if not isinstance(typed, dict) or closing.is_closed():
        return render_template("check_email.html", form=None)
    form = SignatureForm(formdata=None, data={name: typed.get(name) for name in TYPED})
    form.started.data = abuse.form_started_token()
    return render_template("check_email.html", form=form, sent_to=typed.get("email"))


def link_problem(error: LinkInvalid | LinkExpired, purpose: str) -> tuple[str, int]:
    """A clear page for a link that does not work. Once signing has closed, a confirmation link that
    does not work can confirm nothing any more, and no new one can be sent (closing's rule): the page
    says so instead of offering one."""
    expired = isinstance(error, LinkExpired)
    closed = purpose == CONFIRM and closing.is_closed()
    page = render_template(
        "link_problem.html", expired=expired, closed=closed, confirm_days=confirm_days(), form=ResendForm()
    )
    return page, 410 if expired or closed else 404


def confirm_days() -> int:
    """How long a confirmation link works, in days, as the emails say it."""
    return max(1, round(current_app.config["CONFIRM_MAX_AGE"] / 86400))


def signature_from_link(
    purpose: str,
) -> Callable[[Callable[..., ResponseReturnValue]], Callable[[str], ResponseReturnValue]]:
    """The view gets the signature its emailed link names; a bad or old link gets a clear page."""

    def decorate(view: Callable[..., ResponseReturnValue]) -> Callable[[str], ResponseReturnValue]:
        @wraps(view)
        def wrapper(token: str) -> ResponseReturnValue:
            try:
                signature = read_token(token, purpose)
            except (LinkExpired, LinkInvalid) as error:
                return link_problem(error, purpose)
            return view(signature, token)

        return wrapper

    return decorate


TOO_MANY_CODES = _l(
    "Too many tries for this address or from your network, so codes are not accepted for it for a while. Open the link in the email instead, or try again in an hour; what you typed is still here."  # noqa: E501 (one message for the catalogue)
)


@localized_route(bp, "/thanks")
def thanks() -> str:
    return render_template("thanks.html", counts=current_counts())


@localized_route(bp, "/signature/<token>", methods=["GET", "POST"])
@private_page
@signature_from_link(MANAGE)
def manage(signature: Signature, token: str) -> ResponseReturnValue:
    """The signer's private page: correct the details, or withdraw."""
    form = SignatoryDetailsForm(obj=signature, updates=signature.wants_updates)
    if form.validate_on_submit():
        signing.correct_signature(
            signature,
            name=form.name.data,
            affiliation=form.affiliation.data,
            group=form.group.data,
            listed=form.listed.data,
            wants_updates=form.updates.data,
        )
        flash(_l("Your changes are saved."), "success")
        return redirect(url_for(".manage", token=token))
    status = 422 if form.is_submitted() else 200
    confirm_url = None  # no new confirmation link once signing has closed (closing's rule)
    if closing.issues_confirmation_links():
        confirm_url = url_for(".confirm", token=make_token(signature, CONFIRM))
    return render_template(
        "manage.html",
        signature=signature,
        form=form,
        token=token,
        confirm_url=confirm_url,
        confirm_days=confirm_days(),
    ), status


@localized_route(bp, "/signature/<token>/withdraw", methods=["GET", "POST"])
@private_page
@signature_from_link(MANAGE)
def withdraw(signature: Signature, token: str) -> ResponseReturnValue:
    form = ButtonForm()
    if form.validate_on_submit():
        signing.withdraw_signature(signature)
        return redirect(url_for(".withdrawn"))
    return render_template("withdraw.html", form=form, token=token)


@localized_route(bp, "/signature/withdrawn")
def withdrawn() -> str:
    return render_template("withdrawn.html")


@localized_route(bp, "/resend", methods=["GET", "POST"])
@limiter.limit(abuse.configured_limit("RESEND_LIMIT_PER_IP"), methods=["POST"])
@per_address_limit("RESEND_LIMIT_PER_EMAIL")
def resend() -> ResponseReturnValue:
    """Ask for the email again. After signing has closed only a confirmed signer's private link is sent
    (the mail worker decides, closing's rule); the pages say so, the same for every address."""
    form = ResendForm()
    if form.validate_on_submit():
        signing.ask_again(form.email.data, base=request_base())
        return redirect(url_for(".check_email"))
    return render_template("resend.html", form=form), 422 if form.is_submitted() else 200
