"""Markdown emphasis that works in Chinese.

CommonMark decides whether `**` opens or closes emphasis by what stands either side of it, and
expects a space after closing punctuation. Chinese puts none: in `**你的姓名。**这就是` the closing
`**` follows a full stop and precedes a character, so CommonMark leaves both `**` on the page. Here
a full-width punctuation mark (or a curly quote) next to a Chinese character counts as part of the
text, as it reads; everything else follows CommonMark exactly, so English is rendered as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markdown_it.parser_inline import ParserInline
from markdown_it.rules_inline.state_inline import Scanned, StateInline

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from markdown_it.utils import EnvType

_CHINESE = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))
_FULL_WIDTH_PUNCTUATION = ((0x3000, 0x303F), (0xFF00, 0xFF65), (0x2018, 0x201F), (0xFE10, 0xFE4F))


def _in(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    point = ord(ch)
    return any(low <= point <= high for low, high in ranges)


def is_chinese(ch: str) -> bool:
    return _in(ch, _CHINESE)


def is_full_width_punctuation(ch: str) -> bool:
    return _in(ch, _FULL_WIDTH_PUNCTUATION)


class ChineseAwareState(StateInline):
    def scanDelims(self, start: int, canSplitWord: bool) -> Scanned:
        scanned = super().scanDelims(start, canSplitWord)
        end = start
        while end < self.posMax and self.src[end] == self.src[start]:
            end += 1
        before = self.src[start - 1] if start > 0 else " "
        after = self.src[end] if end < self.posMax else " "
        # Closing after a full-width mark, before Chinese text; opening before one, after Chinese text.
        closes = is_full_width_punctuation(before) and is_chinese(after)
        opens = is_full_width_punctuation(after) and is_chinese(before)
        if not (closes or opens):
            return scanned
        return Scanned(scanned.can_open or opens, scanned.can_close or closes, scanned.length)


class ChineseAwareInline(ParserInline):
    def parse(self, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]) -> list[Token]:
        state = ChineseAwareState(src, md, env, tokens)
        self.tokenize(state)
        for rule in self.ruler2.getRules(""):
            rule(state)
        return state.tokens


def chinese_aware(md: MarkdownIt) -> MarkdownIt:
    """The same parser, its rules as configured, reading emphasis next to Chinese punctuation right."""
    md.inline.__class__ = ChineseAwareInline
    return md
