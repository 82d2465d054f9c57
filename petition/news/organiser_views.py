"""Publishing news: the organisers' page to write, preview, edit, withdraw and email updates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from petition.extensions import db
from petition.mail import mailings
from petition.news import publishing as news
from petition.news.forms import UpdateForm
from petition.news.models import Update
from petition.organisers.forms import ModerationForm
from petition.organisers.roles import requires
from petition.organisers.views import bp

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue


@bp.route("/updates", methods=["GET", "POST"])
@requires("updates")
def updates() -> ResponseReturnValue:
    """Publish news about the letter; see and correct what was published."""
    form = UpdateForm()
    if request.method == "GET":
        form.published_on.data = datetime.now(UTC).date()
    preview = None
    if form.validate_on_submit():
        if request.form.get("preview"):
            # Shown above the form as typed; nothing is saved until Publish.
            preview = [
                replace(shown, page=_news_as_on_the_page(shown))
                for shown in news.preview(
                    published_on=form.published_on.data, titles=form.titles(), bodies=form.bodies()
                )
            ]
        else:
            news.publish(
                current_user,
                published_on=form.published_on.data,
                titles=form.titles(),
                bodies=form.bodies(),
                email=form.email.data,
            )
            flash(published_message(form.email.data), "success")
            return redirect(url_for(".updates"))
    page = render_template(
        "organisers/updates.html",
        form=form,
        updates=news.all_updates(),
        emailed=mailings.requested_updates(),
        withdraw=ModerationForm(),
        preview=preview,
    )
    return page, 422 if form.errors else 200


def _news_as_on_the_page(shown: news.Preview) -> Markup:
    """The news as the letter's page in that language shows it (the same macro renders both)."""
    with force_locale(shown.language):
        return Markup(render_template("organisers/_news_preview.html", update=shown.update, language=shown.language))


def _update_or_404(update_id: int) -> Update:
    return db.session.get(Update, update_id) or abort(404)


def published_message(emailed: bool) -> str:
    """What publishing did, in numbers: "on their way" to nobody would mislead."""
    if not emailed:
        return _("Published.")
    count = news.subscriber_count()
    if not count:
        return _("Published. No signer has asked for news yet, so no email was sent.")
    return ngettext(
        "Published; the email is on its way to the %(num)s signer who asked for news.",
        "Published; the emails are on their way to the %(num)s signers who asked for news.",
        count,
    )


@bp.route("/updates/<id:update_id>", methods=["GET", "POST"])
@requires("updates")
def edit_update(update_id: int) -> ResponseReturnValue:
    update = _update_or_404(update_id)
    form = UpdateForm(obj=update)
    del form.email  # an update is emailed when it is published, never again
    if form.validate_on_submit():
        news.edit(update, current_user, published_on=form.published_on.data, titles=form.titles(), bodies=form.bodies())
        flash(_l("Saved."), "success")
        return redirect(url_for(".updates"))
    return render_template("organisers/edit_update.html", form=form, update=update), 422 if form.errors else 200


@bp.post("/updates/<id:update_id>/withdraw")
@requires("updates")
def withdraw_update(update_id: int) -> ResponseReturnValue:
    update = _update_or_404(update_id)
    form = ModerationForm()
    if not form.validate_on_submit():
        flash(_l("Give a reason; it goes into the audit log."), "error")
        return redirect(url_for(".updates"))
    news.withdraw(update, current_user, form.reason.data)
    flash(_l("Withdrawn from the site and the feeds."), "success")
    return redirect(url_for(".updates"))
