"""The code in a confirmation email: typed as people type it, never confusable between signatures."""

from petition.signatures import confirmation_codes
from petition.signatures.models import Signature
from tests.support import settings


def test_a_code_is_read_however_a_signer_types_it(app):
    with app.app_context():
        signature = Signature(id=7, secret="s" * 22)
        code = confirmation_codes.code_for(signature)
        spaced = confirmation_codes.shown(code)
        full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else "\u3000" for c in spaced)
        for typed in (code, spaced, f" {code[:4]}-{code[4:]} ", full_width):
            assert confirmation_codes.matches(signature, typed), typed
        assert not confirmation_codes.matches(signature, code[:-1])
        assert not confirmation_codes.matches(signature, "")
        assert confirmation_codes.codes_in(f"Re: Confirm\n> Your code: {spaced}\n") == [code]


def test_a_code_belongs_to_one_signature_and_survives_a_key_rotation(app):
    with app.app_context():
        first, second = Signature(id=1, secret="a" * 22), Signature(id=2, secret="a" * 22)
        assert confirmation_codes.code_for(first) != confirmation_codes.code_for(second)
        code = confirmation_codes.code_for(first)
        rotated = {
            "SECRET_KEY": "a new key for this test, long enough to be a key",
            "SECRET_KEY_FALLBACKS": [app.config["SECRET_KEY"]],
        }
        with settings(app, **rotated):
            assert confirmation_codes.code_for(first) != code
            assert confirmation_codes.matches(first, code)
