"""Organiser accounts: creating them and checking their passwords."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .models import Organiser
from .text import normalise_email

PASSWORD_MIN = 12


class AccountError(ValueError):
    pass


def create_organiser(email, password):
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"The password must have at least {PASSWORD_MIN} characters.")
    organiser = Organiser(email=normalise_email(email), password_hash=generate_password_hash(password))
    db.session.add(organiser)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountError(f"An organiser with the address {organiser.email} already exists.") from None
    return organiser


# Checked against when the address is unknown, so a wrong address takes as long as a wrong password.
_UNKNOWN_ACCOUNT_HASH = generate_password_hash("no account has this password")


def authenticate(email, password):
    """The organiser with this address and password, or None."""
    try:
        email = normalise_email(email)
    except ValueError:
        return None
    organiser = db.session.execute(select(Organiser).where(Organiser.email == email)).scalar_one_or_none()
    if organiser is None:
        check_password_hash(_UNKNOWN_ACCOUNT_HASH, password)
        return None
    return organiser if check_password_hash(organiser.password_hash, password) else None


def organiser_by_id(organiser_id):
    try:
        return db.session.get(Organiser, int(organiser_id))
    except (TypeError, ValueError):
        return None
