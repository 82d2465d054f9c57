"""Reading a message sent to SIGN_BY_EMAIL_ADDRESS, within bounds: who sent it, whether a machine
sent it, its readable text, and the lines of the sign-by-email form in it.

Nothing here trusts the message. It is read as bytes, at most MAX_BYTES of them; at most MAX_DEPTH
levels of MIME and MAX_PARTS parts are looked at; a part whose transfer encoding is broken, or whose
charset is unknown and whose bytes are not UTF-8, makes the text unreadable instead of garbled; any
error the standard library's parser raises on a malformed message means "unreadable", never a crash.
Chinese mail programs label GB 2312 text that is really GBK or GB 18030: those are read as GB 18030,
which contains both.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from email import errors, message_from_bytes, policy
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses
from html.parser import HTMLParser

MAX_BYTES = 1_000_000  # a form filled in is a few hundred bytes; a reply quoting ours, a few thousand
MAX_DEPTH = 8
MAX_PARTS = 50
MAX_TEXT = 100_000  # characters of text looked at

# Each label, in either language, as a person might write it: matched after NFKC and case folding.
LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "name": {"en": ("name", "full name"), "zh": ("姓名", "名字")},
    "affiliation": {"en": ("affiliation", "institution"), "zh": ("所属机构", "机构", "单位")},
    "group": {"en": ("group",), "zh": ("身份", "群体")},
    "listed": {"en": ("listed", "public", "list"), "zh": ("公开", "是否公开")},
}
_LABEL_OF = {
    label: (key, language) for key, by in LABELS.items() for language, labels in by.items() for label in labels
}
_COLON = re.compile("[:\uff1a\ufe55]")
_CJK = re.compile("[\u3400-\u9fff]")
# GB 2312 and GBK are subsets of GB 18030; mail programs often label one as another.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030"}


class Unreadable(ValueError):
    """The message, or the part of it a person wrote, cannot be read without guessing."""


@dataclass
class Parsed:
    sender: str | None  # the From address, as written (checked later)
    subject: str
    text: str  # the readable text a person wrote (text/plain preferred), or "" if none
    headers: dict[str, str]  # lower-cased name -> value, decoded, for the few headers looked at
    content_type: str
    fields: dict[str, str] = field(default_factory=dict)  # name/affiliation/group/listed -> value
    label_languages: list[str] = field(default_factory=list)  # the language of each label found
    parts: list[Message] = field(default_factory=list)  # the parts looked at (for bounces)

    @property
    def language(self) -> str:
        """The language to answer in: the labels' (Chinese labels: zh), else Content-Language, else
        the subject's script, else English."""
        if self.label_languages:
            return "zh" if self.label_languages.count("zh") >= self.label_languages.count("en") else "en"
        if self.headers.get("content-language", "").strip().lower().startswith("zh"):
            return "zh"
        return "zh" if _CJK.search(self.subject) else "en"


def parse(raw: bytes) -> Parsed:
    """The message, read within bounds. Raises Unreadable for one too large, too deep or malformed."""
    if len(raw) > MAX_BYTES:
        raise Unreadable(f"larger than {MAX_BYTES} bytes")
    try:
        message = message_from_bytes(raw, policy=policy.compat32)
        parts = _parts(message)
        headers = {name: header_text(message, name) for name in _HEADERS}
        sender = _address(header_text(message, "from"))
        text = _readable_text(parts)
    except Unreadable:
        raise
    except (errors.MessageError, RecursionError, LookupError, ValueError, TypeError, AttributeError) as error:
        raise Unreadable(f"{type(error).__name__}: {error}") from error
    parsed = Parsed(sender, headers["subject"], text, headers, message.get_content_type(), parts=parts)
    parsed.fields, parsed.label_languages = form_lines(text)
    return parsed


_HEADERS = (
    "subject",
    "from",
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "return-path",
    "list-id",
    "list-unsubscribe",
    "content-language",
    "x-loop",
)


def header_text(message: Message, name: str) -> str:
    """A header's value with its RFC 2047 encoded words decoded (unknown charsets replaced, never an
    error), on one line; "" when absent."""
    value = message.get(name)
    if value is None:
        return ""
    pieces = []
    try:
        for chunk, charset in decode_header(str(value)):
            if isinstance(chunk, bytes):
                pieces.append(decode_bytes(chunk, charset or "ascii", strict=False))
            else:
                pieces.append(chunk)
    except (errors.HeaderParseError, ValueError, LookupError):
        pieces = [str(value)]
    return " ".join("".join(pieces).split())[:2000]


def decode_bytes(data: bytes, charset: str, strict: bool = True) -> str:
    """Bytes in a named charset. An unknown charset is read as UTF-8 if the bytes are UTF-8. Strict:
    Unreadable for bytes that are not in the charset; otherwise they are replaced."""
    name = _CHARSET_ALIASES.get(charset.strip().lower(), charset.strip().lower())
    try:
        codecs.lookup(name)
    except LookupError:
        name = "utf-8"
    try:
        return data.decode(name)
    except UnicodeDecodeError:
        if strict:
            raise Unreadable(f"text that is not {name}") from None
        return data.decode(name, errors="replace")


def _parts(message: Message) -> list[Message]:
    """The message's parts, depth first, at most MAX_PARTS; Unreadable past MAX_DEPTH levels."""
    found: list[Message] = []
    stack = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Unreadable(f"MIME nested deeper than {MAX_DEPTH} levels")
        if len(found) >= MAX_PARTS:
            raise Unreadable(f"more than {MAX_PARTS} parts")
        found.append(part)
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            stack.extend((child, depth + 1) for child in reversed(payload) if isinstance(child, Message))
    return found


def _address(from_header: str) -> str | None:
    addresses = [address for _, address in getaddresses([from_header]) if "@" in address]
    return addresses[0].strip() if len(addresses) == 1 else None


def _readable_text(parts: list[Message]) -> str:
    """The first text/plain part that is not an attachment, else the first text/html made text."""
    for wanted in ("text/plain", "text/html"):
        for part in parts:
            if part.get_content_type() == wanted and not part.get("content-disposition", "").lower().startswith(
                "attachment"
            ):
                text = _part_text(part)
                return (text if wanted == "text/plain" else html_to_text(text))[:MAX_TEXT]
    return ""


def _part_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    broken = (errors.InvalidBase64CharactersDefect, errors.InvalidBase64PaddingDefect, errors.InvalidBase64LengthDefect)
    if any(isinstance(defect, broken) for defect in part.defects):
        raise Unreadable("a part's base64 is broken")
    if part.get("content-transfer-encoding", "").strip().lower() == "base64" and not _is_base64(part):
        raise Unreadable("a part's base64 is broken")
    return decode_bytes(data, part.get_content_charset() or "us-ascii")


_BASE64 = re.compile(rb"^[A-Za-z0-9+/=\s]*$")


def _is_base64(part: Message) -> bool:
    payload = part.get_payload(decode=False)
    raw = payload.encode("ascii", "replace") if isinstance(payload, str) else b""
    compact = re.sub(rb"\s", b"", raw)
    return bool(_BASE64.match(raw)) and len(compact) % 4 == 0


class _TextOfHtml(HTMLParser):
    """The text a reader sees in an HTML body: no script or style, a line break for each block."""

    BLOCKS = frozenset(("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "pre", "table"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.invisible = 0
        self.quoted = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self.invisible += 1
        if tag == "blockquote":
            self.quoted += 1
        if tag in self.BLOCKS:
            self.pieces.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.invisible = max(0, self.invisible - 1)
        if tag == "blockquote":
            self.quoted = max(0, self.quoted - 1)
        if tag in self.BLOCKS:
            self.pieces.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.invisible and len(self.pieces) < 20_000:
            # What a mail program quotes in a <blockquote> is marked as quoted, as in plain text.
            self.pieces.append(data if not self.quoted else "\n".join("> " + line for line in data.split("\n")))


def html_to_text(html: str) -> str:
    reader = _TextOfHtml()
    reader.feed(html[: MAX_TEXT * 4])
    reader.close()
    return "".join(reader.pieces)


def form_lines(text: str) -> tuple[dict[str, str], list[str]]:
    """The values of the form's lines ("Name: Ada", "姓名：张伟"), each the first of its kind, and the
    language of each label found. Quoted lines ("> Name:") are someone else's words and are skipped;
    a label with nothing after it counts as found (its language says how to answer), with value ""."""
    fields: dict[str, str] = {}
    languages: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith(">"):
            continue
        colon = _COLON.search(line)
        if colon is None:
            continue
        label = " ".join(unicodedata.normalize("NFKC", line[: colon.start()]).casefold().split())
        found = _LABEL_OF.get(label)
        if found is None or found[0] in fields:
            continue
        key, language = found
        fields[key] = line[colon.end() :].strip(" \t\u3000")
        languages.append(language)
    return fields, languages
