"""The invitation to sign by email: a mailto: link (RFC 6068) to SIGN_BY_EMAIL_ADDRESS whose subject
and body, in the reader's language, are the form to fill in. The same lines are what the parser reads
(parsing.LABELS) and what the reply to an incomplete message asks for again."""

from __future__ import annotations

from urllib.parse import quote

from flask_babel import force_locale
from flask_babel import gettext as _

from petition.mail.mailer import sign_by_email_address as address
from petition.signatories import groups
from petition.web.locales import DEFAULT, SUPPORTED, current_language

# The labels the invitation writes: the first of each in parsing.LABELS, with the language's colon.
FORM_LABELS = {
    "en": ("Name:", "Affiliation:", "Group:", "Listed:"),
    "zh": ("姓名：", "所属机构：", "身份：", "公开："),
}
# What the Listed line takes, in each language (parsing reads both, and more).
YES_NO = {"en": ("yes", "no"), "zh": ("是", "否")}


def subject(language: str) -> str:
    with force_locale(language):
        return _("Signing the open letter")


def form_text(language: str) -> str:
    """The instruction and the four lines to fill in, in the language. No instruction line starts
    with a label and a colon, so only the lines to fill are read as the form."""
    language = language if language in SUPPORTED else DEFAULT
    choices = [group.key if language == "en" else group.label(language) for group in groups.all_groups()]
    yes, no = YES_NO[language]
    with force_locale(language):
        separator = _(" or ")
        instruction = _(
            "Fill in each line below after the colon and send this email. For the group, write %(groups)s. "
            "For listed, write %(yes)s to show your name and affiliation on the public list, or %(no)s to be "
            "counted without your name. Your email address is never shown.",
            groups=separator.join(choices),
            yes=yes,
            no=no,
        )
    return instruction + "\n\n" + "\n".join(label + " " for label in FORM_LABELS[language]) + "\n"


def mailto(language: str | None = None) -> str:
    """The mailto: link in the language (the page's, by default), or "" when signing by email is off.
    Every character of the subject and body is percent-encoded as UTF-8, line breaks as %0D%0A, as
    RFC 6068 asks, so a phone's mail program opens the form as written."""
    to = address()
    if not to:
        return ""
    language = language or current_language()
    body = form_text(language).replace("\n", "\r\n")
    return f"mailto:{quote(to, safe='@')}?subject={quote(subject(language), safe='')}&body={quote(body, safe='')}"
