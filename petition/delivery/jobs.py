"""The delivery copy as a job. An organiser asks for it from the dashboard (or runs `flask delivery
pdf`); the mail worker makes it and keeps it; the dashboard shows its progress, then a link to
download it. No web request waits for a PDF.

A job is claimed as the outbox claims an email: one conditional UPDATE pushes its next_attempt_at
forward (a lease of DELIVERY_LEASE_SECONDS), renewed with every part of the copy made. A worker that
dies leaves the job to be taken up again when the lease runs out, DELIVERY_MAX_ATTEMPTS times at
most; then the job is marked failed, with the reason.

A copy is kept per language and content (`content_key`: the list's fingerprint, the letter's, and
the cover's settings). A job whose content was made before points to that copy: nothing is made
twice while the list and the letter are unchanged.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from petition.db.transactions import reading_only, rows_changed
from petition.db.types import now_utc
from petition.delivery import layout
from petition.delivery.copy import DeliveryCopy, delivery_copy
from petition.delivery.models import DeliveryFile, DeliveryJob
from petition.extensions import db
from petition.letter.models import LetterVersion
from petition.mail.worker import Preparation
from petition.web.locales import SUPPORTED

if TYPE_CHECKING:
    from datetime import datetime

    from petition.delivery.typeset import Report

OPEN = ("queued", "making")
ERROR_MAX = 500
COMMAND_LINE = "command line"
# Part of what a copy's file depends on: a new layout makes copies anew.
LAYOUT = "2"


class LeaseLost(RuntimeError):
    """Another worker took the job over (this one was too slow to show progress): it stops."""


def content_key(copy: DeliveryCopy) -> str:
    """What makes two copies the same file: the language, the list, the letter, the cover's settings
    and the layout."""
    parts = [LAYOUT, copy.language, copy.list_fingerprint, copy.letter_fingerprint, layout.cover_settings()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def open_job(language: str) -> DeliveryJob | None:
    return db.session.execute(
        select(DeliveryJob)
        .where(DeliveryJob.language == language, DeliveryJob.state.in_(OPEN))
        .order_by(DeliveryJob.id)
        .limit(1)
    ).scalar_one_or_none()


def request_copy(language: str, requested_by: str) -> tuple[DeliveryJob, bool]:
    """Queue a copy in this language; (the job, whether it is new). Asked for again while one waits
    or is being made, it is that one. The caller commits."""
    job = open_job(language)
    if job is not None:
        return job, False
    now = now_utc()
    job = DeliveryJob(
        language=language,
        state="queued",
        requested_at=now,
        requested_by=requested_by,
        next_attempt_at=now,
        attempts=0,
        names_done=0,
    )
    db.session.add(job)
    db.session.flush()
    return job, True


# A job still waiting after this long means no worker is running: the dashboard says so.
WORKER_LATE = timedelta(minutes=2)


@dataclass
class Status:
    """For the dashboard: a language's newest job, and its newest copy kept to download."""

    language: str
    job: DeliveryJob | None
    file: DeliveryFile | None

    @property
    def worker_late(self) -> bool:
        return self.job is not None and self.job.state == "queued" and now_utc() - self.job.requested_at > WORKER_LATE


def statuses() -> list[Status]:
    return [Status(language, _newest_job(language), _newest_kept(language)) for language in SUPPORTED]


def _newest_job(language: str) -> DeliveryJob | None:
    return db.session.execute(
        select(DeliveryJob).where(DeliveryJob.language == language).order_by(DeliveryJob.id.desc()).limit(1)
    ).scalar_one_or_none()


def _newest_kept(language: str) -> DeliveryFile | None:
    return db.session.execute(
        select(DeliveryFile)
        .where(DeliveryFile.language == language, DeliveryFile.pdf.is_not(None))
        .order_by(DeliveryFile.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def kept_file(file_id: int | None) -> DeliveryFile | None:
    """A copy whose PDF is still kept (without loading the PDF)."""
    if file_id is None:
        return None
    return db.session.execute(
        select(DeliveryFile).where(DeliveryFile.id == file_id, DeliveryFile.pdf.is_not(None))
    ).scalar_one_or_none()


def file_pdf(file_id: int) -> tuple[DeliveryFile, bytes] | None:
    """A kept copy with its PDF, to download."""
    found = db.session.execute(
        select(DeliveryFile, DeliveryFile.pdf).where(DeliveryFile.id == file_id, DeliveryFile.pdf.is_not(None))
    ).one_or_none()
    if found is None or found[1] is None:
        return None
    return found[0], found[1]


def file_made_as(pdf: bytes) -> DeliveryFile | None:
    """The copy the site made that is exactly this file, if any."""
    digest = hashlib.sha256(pdf).hexdigest()
    return db.session.execute(
        select(DeliveryFile).where(DeliveryFile.sha256 == digest).order_by(DeliveryFile.id.desc()).limit(1)
    ).scalar_one_or_none()


def version_with_text(language: str, sha256: str) -> int | None:
    """The published version of the letter whose text in this language has this SHA-256."""
    column = LetterVersion.sha256_zh if language == "zh" else LetterVersion.sha256_en
    return db.session.execute(
        select(LetterVersion.number).where(column == sha256).order_by(LetterVersion.number.desc()).limit(1)
    ).scalar_one_or_none()


def file_name(file: DeliveryFile) -> str:
    return f"open-letter-delivery-{file.language}-{file.made_at:%Y-%m-%d}.pdf"


# --- The worker's side ------------------------------------------------------------------------------


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])


def _due(now: datetime) -> list[int]:
    return list(
        db.session.execute(
            select(DeliveryJob.id)
            .where(DeliveryJob.state.in_(OPEN), DeliveryJob.next_attempt_at <= now)
            .order_by(DeliveryJob.id)
        )
        .scalars()
        .all()
    )


def job_due() -> bool:
    """Is a job waiting, or one whose worker stopped? Only reads (the worker asks before every poll)."""
    return bool(
        db.session.execute(
            select(func.count()).select_from(
                select(DeliveryJob.id)
                .where(DeliveryJob.state.in_(OPEN), DeliveryJob.next_attempt_at <= now_utc())
                .limit(1)
                .subquery()
            )
        ).scalar_one()
    )


def _reason(error: Exception | str) -> str:
    return (str(error) or type(error).__name__)[:ERROR_MAX]


def _give_up_on_stalled(now: datetime) -> None:
    """Jobs whose worker stopped DELIVERY_MAX_ATTEMPTS times (out of memory, say) fail, with why."""
    most = current_app.config["DELIVERY_MAX_ATTEMPTS"]
    db.session.execute(
        update(DeliveryJob)
        .where(DeliveryJob.state == "making", DeliveryJob.next_attempt_at <= now, DeliveryJob.attempts >= most)
        .values(
            state="failed",
            finished_at=now,
            error=f"The worker stopped {most} times while making it; see the worker's log.",
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def claim(job_id: int, now: datetime) -> tuple[int, str] | None:
    """Take the job for making, in one statement: (which attempt this is, the job's language), or None
    when another worker has it or it has ended."""
    claimed = db.session.execute(
        update(DeliveryJob)
        .where(
            DeliveryJob.id == job_id,
            DeliveryJob.state.in_(OPEN),
            DeliveryJob.next_attempt_at <= now,
            DeliveryJob.attempts < current_app.config["DELIVERY_MAX_ATTEMPTS"],
        )
        .values(
            state="making",
            next_attempt_at=_lease(now),
            attempts=DeliveryJob.attempts + 1,
            started_at=func.coalesce(DeliveryJob.started_at, now),
            names_done=0,
        )
        .returning(DeliveryJob.attempts, DeliveryJob.language)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    db.session.commit()
    return (claimed[0], claimed[1]) if claimed else None


def _progress(job_id: int, attempt: int) -> Callable[[int], None]:
    """Write how many names are done and renew the lease, in a short transaction of its own."""

    def record(done: int) -> None:
        now = now_utc()
        changed = rows_changed(
            update(DeliveryJob)
            .where(DeliveryJob.id == job_id, DeliveryJob.state == "making", DeliveryJob.attempts == attempt)
            .values(names_done=done, next_attempt_at=_lease(now))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if not changed:
            raise LeaseLost(f"delivery job {job_id} was taken over by another worker")

    return record


def _finish(job_id: int, file_id: int, names: int) -> None:
    db.session.execute(
        update(DeliveryJob)
        .where(DeliveryJob.id == job_id)
        .values(state="done", finished_at=now_utc(), file_id=file_id, names_done=names, names_total=names, error=None)
        .execution_options(synchronize_session=False)
    )


def _fail(job_id: int, reason: str) -> None:
    db.session.execute(
        update(DeliveryJob)
        .where(DeliveryJob.id == job_id)
        .values(state="failed", finished_at=now_utc(), error=reason[:ERROR_MAX])
        .execution_options(synchronize_session=False)
    )


def _made_already(key: str) -> DeliveryFile | None:
    return db.session.execute(select(DeliveryFile).where(DeliveryFile.content_key == key)).scalar_one_or_none()


def make(job_id: int, attempt: int, language: str, report: Report | None = None) -> None:
    """Make a claimed job's copy, or find it made already, and write the outcome on the job."""
    try:
        reading_only()  # reading the list holds up no signer
        copy = delivery_copy(language)
        names = copy.listed_names()
        key = content_key(copy)
        db.session.commit()
        made = _made_already(key)
        if made is not None and kept_file(made.id) is not None:
            _finish(job_id, made.id, names)
            db.session.commit()
            return
        db.session.execute(update(DeliveryJob).where(DeliveryJob.id == job_id).values(names_total=names, names_done=0))
        db.session.commit()
        out = io.BytesIO()
        pages = layout.write_pdf(copy, out, progress=_progress(job_id, attempt), report=report)
        _keep(job_id, copy, key, made, out.getvalue(), pages, names)
    except LeaseLost:
        db.session.rollback()
        current_app.logger.warning("Delivery job %s was taken over by another worker", job_id)
    except Exception as error:
        db.session.rollback()
        current_app.logger.exception("Delivery job %s failed", job_id)
        _fail(job_id, _reason(error))
        db.session.commit()


def _keep(
    job_id: int,
    copy: DeliveryCopy,
    key: str,
    made: DeliveryFile | None,
    pdf: bytes,
    pages: int,
    names: int,
) -> None:
    """Store the PDF (in the row of an earlier copy of the same content whose PDF was dropped), drop
    the older copies' PDFs in this language, and mark the job done."""
    file = made or DeliveryFile(language=copy.language, content_key=key)
    file.list_sha256, file.letter_sha256 = copy.list_fingerprint, copy.letter_fingerprint
    file.made_at, file.names, file.pages = copy.made_at, names, pages
    file.size, file.sha256, file.pdf = len(pdf), hashlib.sha256(pdf).hexdigest(), pdf
    db.session.add(file)
    try:
        db.session.flush()
    except IntegrityError:  # another worker stored the same content meanwhile: that one stands
        db.session.rollback()
        other = _made_already(key)
        if other is None:
            raise
        _finish(job_id, other.id, names)
        db.session.commit()
        return
    db.session.execute(
        update(DeliveryFile)
        .where(DeliveryFile.language == copy.language, DeliveryFile.id != file.id, DeliveryFile.pdf.is_not(None))
        .values(pdf=None)
        .execution_options(synchronize_session=False)
    )
    _finish(job_id, file.id, names)
    db.session.commit()


def make_due_jobs(report: Report | None = None) -> int:
    """Make every job that is due, one after another; how many were taken."""
    now = now_utc()
    _give_up_on_stalled(now)
    reading_only()
    due = _due(now)
    db.session.commit()
    taken = 0
    for job_id in due:
        claimed = claim(job_id, now)
        if claimed is not None:
            make(job_id, *claimed, report=report)
            taken += 1
    return taken


# Before each look at the outbox the mail worker makes any copy asked for (see cli.WORKER_STEPS): a
# poll with none waiting only reads one small table.
WORKER_STEP = Preparation(needed=job_due, run=make_due_jobs)


def make_now(job_id: int, wait_seconds: float = 1.0) -> DeliveryJob:
    """Make this job here (the command line), or, while a worker makes it, wait for it; the job as it
    ended."""
    while True:
        claimed = claim(job_id, now_utc())
        if claimed is not None:
            make(job_id, *claimed)
        db.session.expire_all()
        reading_only()
        job = db.session.get(DeliveryJob, job_id)
        db.session.commit()
        if job is None or job.state in ("done", "failed"):
            return job or DeliveryJob(state="failed", error="The job is gone.")
        time.sleep(wait_seconds)
