"""The form organisers write news with."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField
from wtforms.validators import DataRequired

from petition.news import publishing as news
from petition.organisers.forms import _text


class UpdateForm(FlaskForm):
    """News about the letter, in both languages."""

    published_on = DateField(_l("Date"), validators=[DataRequired(_l("Give the date of the news."))])
    title_en = _text(_l("Title in English"), news.TITLE_MAX)
    title_zh = _text(_l("Title in Chinese"), news.TITLE_MAX)
    body_en = _text(_l("Text in English (Markdown)"), news.BODY_MAX, area=True)
    body_zh = _text(_l("Text in Chinese (Markdown)"), news.BODY_MAX, area=True)
    email = BooleanField(
        _l("Email it to the signers who asked for news"),
        description=_l("Each in their language, a few hundred a minute, with a link to stop the news."),
        default=False,
    )

    def titles(self) -> dict[str, str]:
        return {"en": self.title_en.data, "zh": self.title_zh.data}

    def bodies(self) -> dict[str, str]:
        return {"en": self.body_en.data, "zh": self.body_zh.data}
