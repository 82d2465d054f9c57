import pytest

from petition.text import EmailNotValidError, has_control_characters, normalise_email, tidy


@pytest.mark.parametrize("raw, clean", [
    ("  Ada   Lovelace ", "Ada Lovelace"),
    ("\u3000王\u3000小明\u3000", "王 小明"),          # full-width spaces from Chinese input methods
    ("Cafe\u0301", "Café"),                           # combining accent composed (NFC)
    (None, ""),
])
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
