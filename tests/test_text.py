import pytest

from petition.web.text import (
    EmailNotValidError,
    has_control_characters,
    has_visible_letter_or_digit,
    normalise_email,
    tidy,
)


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("  Ada   Lovelace ", "Ada Lovelace"),
        ("\u3000王\u3000小明\u3000", "王 小明"),  # full-width spaces from Chinese input methods
        ("Cafe\u0301", "Café"),  # combining accent composed (NFC)
        (None, ""),
    ],
)
def test_tidy_trims_and_folds_white_space(raw, clean):
    assert tidy(raw) == clean


@pytest.mark.parametrize("value", ["Ada\x00", "Ada\x1b[31m", "A\nB", "evil\u202etxt.exe"])
def test_control_and_direction_override_characters_are_found(value):
    assert has_control_characters(value)


@pytest.mark.parametrize("value", ["Ada Lovelace", "王小明", "José Ortega y Gasset", "Zoë O'Brien-Smith"])
def test_ordinary_names_have_no_control_characters(value):
    assert not has_control_characters(value)


def test_email_is_trimmed_and_lower_cased():
    assert normalise_email("  Ada.Lovelace@Example.AC.UK ") == "ada.lovelace@example.ac.uk"


@pytest.mark.parametrize("value", ["", "ada", "ada@", "@example.org", "ada@@example.org", "ada example@org.uk"])
def test_malformed_email_is_refused(value):
    with pytest.raises(EmailNotValidError):
        normalise_email(value)


@pytest.mark.parametrize(
    "value",
    [
        "=?utf-8?q?a=0D=0Ab?=@example.org",  # an encoded word hiding a line break: stopped all mail
        "=?us-ascii?q?carol?=@example.org",  # a second spelling of carol@example.org
        "=?utf-8?b?Y2Fyb2w=?=@example.org",
        "carol=?@example.org",
        '"carol"@example.org',  # quoted local part: not a plain addr-spec
        "Carol <carol@example.org>",  # a display name
    ],
)
def test_anything_but_a_plain_address_is_refused(value):
    with pytest.raises(EmailNotValidError):
        normalise_email(value)


@pytest.mark.parametrize(
    "spelling", ["carol@bücher.de", "Carol@BÜCHER.de", "carol@xn--bcher-kva.de", "carol@ｂücher.de"]
)
def test_every_spelling_of_one_mailbox_is_stored_the_same_way(spelling):
    # The ASCII form is what goes on the envelope, so it is what is stored and compared.
    assert normalise_email(spelling) == "carol@xn--bcher-kva.de"


def test_a_non_ascii_mailbox_is_kept_as_written():
    assert normalise_email("用户@例子.中国") == "用户@例子.中国"


@pytest.mark.parametrize(
    "value", ["\u200b", "\u2060\u2060", "\ufeff", "\u3164\u3164", "\u200b \u3164", "...", "- -", ""]
)
def test_invisible_or_empty_text_has_no_visible_letter(value):
    assert not has_visible_letter_or_digit(value)


@pytest.mark.parametrize("value", ["Ada", "王小明", "3M", "\u200bAda", "Ｏ"])
def test_names_people_write_have_a_visible_letter(value):
    assert has_visible_letter_or_digit(value)


@pytest.mark.parametrize(
    "character",
    ["\x00", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\ud800", "\udfff", "\ufffe", "\uffff"],
)
def test_characters_xml_forbids_are_found(character):
    from petition.web.text import xml_forbidden_character

    assert xml_forbidden_character(f"News{character}today") == character


@pytest.mark.parametrize("value", ["Tab\tand\r\nline breaks", "王小明", "\ue000\ufffd\U0010ffff", "emoji 🎉", ""])
def test_what_xml_allows_is_not_found(value):
    from petition.web.text import xml_forbidden_character

    assert xml_forbidden_character(value) is None
