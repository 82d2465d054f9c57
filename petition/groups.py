"""The two groups of signatories, counted separately."""

from flask_babel import lazy_gettext as _l

INTERNATIONAL = "international"
CHINESE = "chinese"
GROUPS = (INTERNATIONAL, CHINESE)

LABELS = {
    INTERNATIONAL: _l("International scholar"),
    CHINESE: _l("Chinese scholar"),
}
PLURAL_LABELS = {
    INTERNATIONAL: _l("International scholars"),
    CHINESE: _l("Chinese scholars"),
}
