"""Pages for readers and signers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from .. import abuse, closing, confirmation_codes, content, growth, listing, locales, news, sharing, signing, versions
from ..addresses import email_hash
from ..counts import current_counts
from ..database import reads_only
from ..errors import render_error
from ..extensions import csrf, limiter
from ..headers import list_exposure, private_page
from ..links import here_link, request_base, site_link
from ..locales import localized_route
from ..models import Signature
from ..page_cache import cached_page
from ..reach import building_mirror
from ..redirects import safe_local_path
from ..signatories import page_from_args
from ..text import normalise_email, tidy
from ..tokens import CONFIRM, MANAGE, UNSUBSCRIBE, LinkExpired, LinkInvalid, make_token, read_token
from .forms import ButtonForm, CodeForm, ResendForm, SignatoryDetailsForm, SignatureForm, data_when_valid

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue
    from flask_babel.speaklater import LazyString
    from flask_limiter import RateLimitExceeded
    from flask_limiter._limits import RouteLimit

LISTING_UNDER_REVIEW = _l(
    "Your signature is confirmed and now counts. The organisers check each name before it goes on the public list; yours will appear there once they have."  # noqa: E501 (one message for the catalogue)
)
HELD_FOR_REVIEW = _l(
    "Your signature is confirmed. The organisers are reviewing it: it is not counted or listed until they have."
)

bp = Blueprint("public", __name__)
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


@localized_route(bp, "/")
def index() -> str:
    language = _language()
    return cached_page(
        ("index", language, request.path),
        lambda: render_template(
            "index.html",
            letter=content.split_title(content.markdown(versions.letter_text(language))),
            version=versions.current(),
            counts=current_counts(),
            updates=news.published_updates(),
        ),
    )


@localized_route(bp, "/background")
def background() -> str:
    return render_template("background.html", article=content.rendered("background", _language()))


@localized_route(bp, "/privacy")
def privacy() -> str:
    return render_template("privacy.html", page=content.rendered("privacy", _language()))


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
TOO_MANY_CODES = _l(
    "Too many tries for this address or from your network, so codes are not accepted for it for a while. Open the link in the email instead, or try again in an hour; what you typed is still here."  # noqa: E501 (one message for the catalogue)
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


@localized_route(bp, "/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail programs POST "List-Unsubscribe=One-Click" with no cookie and no token
@private_page
@signature_from_link(UNSUBSCRIBE)
def unsubscribe(signature: Signature, token: str) -> ResponseReturnValue:
    """Opening the link shows a button; pressing it, or a mail program's one-click POST, stops the
    news. Doing it twice is harmless; the signature itself is untouched."""
    if request.method == "POST":
        news.unsubscribe(signature)
        return render_template("unsubscribed.html")
    return render_template("unsubscribe.html", subscribed=signature.wants_updates)


@localized_route(bp, "/updates.atom")
def updates_feed() -> ResponseReturnValue:
    """The news as an Atom feed, in this address's language. Its links lead within the address it was
    read at (a copy's are relative); its ids are SITE_URL's, the same wherever it is read."""
    language = _language()
    changed = news.last_change()
    link = url_for if building_mirror() else here_link
    xml = render_template(
        "updates.atom.xml",
        updates=news.published_updates(),
        updated=changed or FEED_EPOCH,
        language=language,
        letter_id=site_link("public.index", lang=language),
        feed_id=site_link("public.updates_feed", lang=language),
        letter_url=link("public.index", lang=language),
        feed_url=link("public.updates_feed", lang=language),
    )
    # Feed readers poll: one that has this version gets 304 and no body (ETag and Last-Modified).
    response = Response(xml, mimetype="application/atom+xml")
    response.last_modified = changed or FEED_EPOCH
    response.add_etag()
    return response.make_conditional(request)


FEED_EPOCH = datetime(2012, 1, 1, tzinfo=UTC)  # the feeds' date before any news: the year of the events


@localized_route(bp, "/signatories/growth")
def growth_chart() -> str:
    """Signatures over time, per group: an SVG drawn here, and the same figures as a table."""

    def render() -> str:
        data = growth.growth(today=datetime.now(UTC).date())
        return render_template("growth.html", data=data, chart=growth.chart(data), counts=current_counts())

    seconds = current_app.config["GROWTH_CACHE_SECONDS"]
    return cached_page(("growth", _language(), request.path), render, seconds=seconds)


@localized_route(bp, "/letter/versions")
def letter_versions() -> str:
    """Every published text of the letter, newest first, with what changed from the one before."""
    language = _language()
    published = list(versions.all_versions())
    history = [
        (version, versions.changes(version, published[i + 1] if i + 1 < len(published) else None, language))
        for i, version in enumerate(published)
    ]
    return render_template("versions.html", history=history, language=language, version_reason=versions.reason)


@localized_route(bp, "/thanks")
def thanks() -> str:
    return render_template("thanks.html", counts=current_counts())


@bp.get("/share/qr-<any(en,zh):language>.svg")
def letter_qr(language: str) -> ResponseReturnValue:
    """The letter's address in `language` as a QR code, for WeChat (made here: nothing from elsewhere)."""
    response = Response(sharing.qr_svg(sharing.letter_url(language)), mimetype="image/svg+xml")
    response.cache_control.public, response.cache_control.max_age = True, 24 * 3600
    return response


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


@localized_route(bp, "/signatories", query=("group", "q", "cursor"))
@abuse.list_limit()
@list_exposure
def signatories() -> str:
    list_filter, page = page_from_args(request.args, current_app.config["SIGNATORIES_PER_PAGE"])
    return render_template(
        "signatories.html",
        page=page,
        list_filter=list_filter,
        counts=current_counts(),
        awaiting=listing.awaiting_per_group(),
        first_page=request.args.get("cursor") is not None,
    )


@bp.get("/language/" + locales.language_in_url("code"))
def set_language(code: str) -> ResponseReturnValue:
    """The switcher: remember the choice, and go to the same page in that language."""
    response = redirect(safe_local_path(request.args.get("next"), url_for(".index", lang=code)))
    response.set_cookie(
        locales.COOKIE,
        code,
        max_age=locales.COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response
