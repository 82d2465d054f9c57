"""Organiser login lockout: too many failures for one account, or from one address, lock it for a while."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select

from petition.db.types import now_utc
from petition.extensions import db
from petition.organisers.models import LoginAttempt

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm.attributes import InstrumentedAttribute


def _failures_since_last_success(column: InstrumentedAttribute, value: str, window_start: datetime) -> int:
    last_success = db.session.execute(
        select(func.max(LoginAttempt.created_at)).where(
            column == value, LoginAttempt.succeeded.is_(True), LoginAttempt.created_at >= window_start
        )
    ).scalar_one()
    since = max(window_start, last_success) if last_success else window_start
    return db.session.execute(
        select(func.count())
        .select_from(LoginAttempt)
        .where(column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= since)
    ).scalar_one()


def is_locked_out(email: str, ip_hash: str, now: datetime | None = None) -> bool:
    config = current_app.config
    window_start = (now or now_utc()) - timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
    return (
        _failures_since_last_success(LoginAttempt.email, email, window_start)
        >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or _failures_since_last_success(LoginAttempt.ip_hash, ip_hash, window_start)
        >= config["LOGIN_MAX_FAILURES_PER_IP"]
    )


def record_attempt(email: str, ip_hash: str, succeeded: bool) -> None:
    db.session.add(LoginAttempt(email=email, ip_hash=ip_hash, succeeded=succeeded))
    db.session.flush()
