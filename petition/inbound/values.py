"""The values of the Group and Listed lines, as people write them, in either language."""

from __future__ import annotations

import re
import unicodedata

from petition.signatories import groups

# Quotes, brackets and end punctuation a person may put round a value ("“国际学者”。").
_PUNCTUATION = r"[\s\"'“”‘’「」『』《》()（）\[\]【】.,;!。，；！、]+"
_AROUND = re.compile(f"^{_PUNCTUATION}|{_PUNCTUATION}$")

YES = frozenset(("yes", "y", "true", "1", "ok", "是", "是的", "对", "公开", "同意", "好"))
NO = frozenset(("no", "n", "false", "0", "否", "不", "不是", "不公开", "不同意", "匿名"))


def folded(value: str) -> str:
    """NFKC (full-width letters, the ideographic space), case folded, trimmed of quotes and end
    punctuation, inner white space as one space."""
    text = unicodedata.normalize("NFKC", value).casefold()
    return " ".join(_AROUND.sub("", text).split())


def listed_of(value: str) -> bool | None:
    """True for yes, False for no or nothing written (as the unticked box), None for anything else."""
    text = folded(value)
    if not text:
        return False
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def group_of(value: str) -> str | None:
    """The group's key from its key, its label or plural in either language ("Chinese scholar",
    "中国学者"), or the label's first word ("International", "国际"); None when none or several fit."""
    text = folded(value)
    if not text:
        return None
    found = set()
    for group in groups.all_groups():
        names = {group.key, *group.labels.values(), *group.plurals.values()}
        names |= {name.split()[0] for name in group.labels.values() if name.split()}
        names |= {name.removesuffix("学者") for name in group.labels.values()}
        names |= {name.removesuffix("s") for name in names}
        if text in {folded(name) for name in names if name}:
            found.add(group.key)
    return found.pop() if len(found) == 1 else None
