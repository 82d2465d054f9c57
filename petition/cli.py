"""Command-line tasks: `flask --app wsgi organisers create EMAIL`, `flask --app wsgi signatures export FILE`."""

from __future__ import annotations

import functools
import imaplib
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from . import (
    accounts,
    closing,
    counts,
    delivery,
    delivery_jobs,
    exports,
    groups,
    news,
    outbox,
    privacy,
    sealing,
    versions,
)
from .database import reading_only
from .extensions import db
from .inbound.cli import receive_command
from .models import ROLES

if TYPE_CHECKING:
    from flask import Flask

    from .counts import Counts
    from .models import Organiser
    from .outbox import DeliveryReport

P = ParamSpec("P")
R = TypeVar("R")

organisers_cli = AppGroup("organisers", help="Manage organiser accounts.")
signatures_cli = AppGroup("signatures", help="Work with the signatures.")
mail_cli = AppGroup("mail", help="Deliver the emails waiting in the outbox; take or fetch the mail that comes in.")
privacy_cli = AppGroup("privacy", help="Delete what the site no longer needs to keep.")
counts_cli = AppGroup("counts", help="The running counts of signatures.")
groups_cli = AppGroup("groups", help="The groups of signatories.")
share_cli = AppGroup("share", help="The pictures link previews and home screens show.")
letter_cli = AppGroup("letter", help="The letter as a whole: closing and reopening signing.")
delivery_cli = AppGroup("delivery", help="The copy of the letter and its signatories to deliver.")
mirror_cli = AppGroup("mirror", help="A static copy of the public site, for anyone to publish.")


def commits(command: Callable[P, R]) -> Callable[P, R]:
    """The command's one commit, when it finishes without an error (services only flush)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        result = command(*args, **kwargs)
        db.session.commit()
        return result

    return wrapper


def read_new_password() -> str:
    """Prompt twice on a terminal; read two lines from standard input when scripted."""
    stdin = sys.stdin
    if stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    first, second = stdin.readline().rstrip("\r\n"), stdin.readline().rstrip("\r\n")
    if first != second:
        raise click.ClickException("The two passwords do not match.")
    return first


def with_new_password(account_change: Callable[[str, str], Organiser], email: str) -> Organiser:
    """Read a new password and hand it to `account_change`; its refusal is a clear message."""
    password = read_new_password()
    try:
        return account_change(email, password)
    except ValueError as error:  # AccountError, or an address email-validator rejects
        raise click.ClickException(str(error)) from None


ROLE_CHOICE = click.Choice(ROLES)


@organisers_cli.command("create")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, default="admin", show_default=True, help="What the account may do.")
@commits
def create_organiser(email: str, role: str) -> None:
    """Create an organiser account; the password is asked for twice."""
    organiser = with_new_password(lambda address, password: accounts.create_organiser(address, password, role), email)
    click.echo(f"Created organiser {organiser.email} ({organiser.role}).")


@organisers_cli.command("list")
def list_organisers() -> None:
    """Every account: address, role, two-factor sign-in, disabled or not."""
    for organiser in accounts.all_organisers():
        second = "2FA on" if organiser.has_second_factor else "2FA off"
        state = f"disabled {organiser.disabled_at:%Y-%m-%d}" if organiser.disabled_at else "active"
        click.echo(f"{organiser.email}\t{organiser.role}\t{second}\t{state}")


def _account_command(change: Callable[[], Organiser]) -> Organiser:
    try:
        return change()
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None


@organisers_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@commits
def set_role(email: str, role: str) -> None:
    """Change what an account may do."""
    organiser = _account_command(lambda: accounts.set_role(email, role))
    click.echo(f"{organiser.email} is now {organiser.role}.")


@organisers_cli.command("disable")
@click.argument("email")
@commits
def disable_organiser(email: str) -> None:
    """Stop an account from logging in and end its sessions (it stays in the audit log)."""
    organiser = _account_command(lambda: accounts.disable(email))
    click.echo(f"{organiser.email} is disabled; its sessions have ended.")


@organisers_cli.command("reset-2fa")
@click.argument("email")
@commits
def reset_second_factor(email: str) -> None:
    """Forget an account's authenticator app and recovery codes; it enrols again at its next login."""
    organiser = _account_command(lambda: accounts.reset_second_factor(email))
    click.echo(f"Two-factor sign-in reset for {organiser.email}; it sets it up again at its next login.")


@organisers_cli.command("set-password")
@click.argument("email")
@commits
def set_password(email: str) -> None:
    """Give an organiser a new password (asked for twice); every login of the account ends."""
    organiser = with_new_password(accounts.change_password, email)
    click.echo(f"New password set for {organiser.email}; every session of the account has ended.")


@signatures_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--all", "everything", is_flag=True, help="Include pending, hidden and flagged signatures.")
def export_signatures(file: str, everything: bool) -> None:
    """Write the confirmed signatures (or --all) to FILE as CSV (UTF-8 with a byte-order mark)."""
    reading_only()  # signing goes on while the file is written
    total = exports.signature_total(everything)
    with (
        open(file, "w", encoding="utf-8", newline="") as out,
        click.progressbar(
            length=total + 1,  # + the header line
            label="Exporting signatures",
            file=sys.stderr,
        ) as bar,
    ):
        for chunk in exports.csv_chunks(everything):
            out.write(chunk)
            bar.update(chunk.count("\n") if chunk else 0)
    click.echo(f"Wrote {total} signatures to {file}.")


# Before each look at the outbox, the worker queues the next batch of news and of change notices,
# while fewer than a few batches wait: a mailing to 100,000 is queued as it is sent, not all at once
# (a long queue makes every look at it slower, and queuing would crowd out sending).
WORKER_STEP = outbox.Preparation(
    needed=lambda: outbox.backlog_below(outbox.QUEUE_AHEAD) and (news.news_due() or versions.notices_due()),
    run=lambda: news.queue_due_news() + versions.queue_due_notices(),
)
# Then any delivery copy organisers asked for: the worker makes it, never a web request.
WORKER_STEPS = (WORKER_STEP, delivery_jobs.WORKER_STEP)


def _say(report: DeliveryReport) -> None:
    click.echo(f"Sent {report.sent}, will retry {report.retrying}, failed for good {report.failed}.")


@mail_cli.command("deliver")
@click.option("--watch", is_flag=True, help="Keep running and deliver new emails as they arrive.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between looks at the outbox (--watch).")
def deliver(watch: bool, interval: float) -> None:
    """Send the emails that are due, with retries and backoff, then exit (or keep going with --watch)."""
    if not watch:
        _say(outbox.deliver_due(prepare=WORKER_STEPS))
        return
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    click.echo("Delivering emails; stop with Ctrl-C.")
    try:
        outbox.deliver_forever(interval, should_stop=lambda: bool(stop), on_report=_say, prepare=WORKER_STEPS)
    except KeyboardInterrupt:
        pass


@mail_cli.command("fetch")
@click.option("--watch", is_flag=True, help="Keep running and fetch new mail as it arrives.")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between looks at the mailbox (--watch).")
def fetch_mail(watch: bool, interval: float) -> None:
    """Read every message in the mailbox IMAP_URL names and hand each to the site once; handled
    messages are deleted, failed or oversize ones moved to IMAP_FAILED_FOLDER (then exit, or keep
    going with --watch)."""
    from flask import current_app

    from . import inbound_imap

    config = current_app.config
    try:
        handler = inbound_imap.site_handler(config)
        inbound_imap.parse_url(config["IMAP_URL"])  # a setting that cannot work says so before anything runs

        def fetch() -> inbound_imap.FetchReport:
            return inbound_imap.fetch_all(
                handler,
                config["IMAP_URL"],
                ca_file=config["IMAP_CA_FILE"],
                failed_folder=config["IMAP_FAILED_FOLDER"],
            )

        if not watch:
            click.echo(fetch().describe())
            return
        stop = []
        before = signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
        click.echo("Fetching mail; stop with Ctrl-C.")
        try:
            inbound_imap.fetch_forever(fetch, interval, lambda: bool(stop), lambda r: click.echo(r.describe()))
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, before)
    except (inbound_imap.ImapRefused, inbound_imap.ImapSettingError) as error:
        raise click.ClickException(str(error)) from None
    except (OSError, imaplib.IMAP4.error) as error:
        raise click.ClickException(f"Fetching mail stopped: {error}") from None


@privacy_cli.command("purge")
@click.option("--older-than", "older_than", default="90d", show_default=True, help="An age such as 90d, 12h or 2w.")
@commits
def purge(older_than: str) -> None:
    """Delete IP hashes, unconfirmed signatures, old emails and login records older than the age; once
    the letter has been closed ERASE_EMAILS_AFTER_DAYS, erase the addresses of signers who did not
    ask for news."""
    try:
        age = privacy.parse_age(older_than)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--older-than") from None
    report = privacy.purge(age)
    click.echo(
        f"Cleared {report.ip_hashes_cleared} IP hashes; deleted {report.unconfirmed_deleted} unconfirmed "
        f"signatures, {report.emails_deleted} emails and {report.login_attempts_deleted} login records; "
        f"erased {report.addresses_erased} email addresses."
    )


@privacy_cli.command("reseal")
@commits
def reseal_addresses() -> None:
    """After a new ADDRESS_KEY (the old one in ADDRESS_KEY_FALLBACKS): seal every address and email
    text again under the new key. Then the fallback can be removed."""
    click.echo(f"Sealed {sealing.reseal()} values again under the current ADDRESS_KEY.")


@counts_cli.command("reconcile")
@commits
def reconcile_counts() -> None:
    """Check the running counts against the signatures table and correct them (run it on a schedule)."""
    before, after = counts.reconcile()
    status = "were right" if before == after else "were corrected"
    click.echo(
        f"Counts {status}: {describe_counts(after)}"
        + ("" if before == after else f" (were {describe_counts(before)})")
        + "."
    )


def describe_counts(figures: Counts) -> str:
    return ", ".join([*(f"{group} {n}" for group, n in figures.by_group.items()), f"total {figures.total}"])


@groups_cli.command("add")
@click.argument("key")
@click.option("--label-en", required=True, help='One member, in English: "Hong Kong scholar".')
@click.option("--label-zh", required=True, help='One member, in Chinese: "香港学者".')
@click.option("--plural-en", required=True, help='The group, in English: "Hong Kong scholars".')
@click.option("--plural-zh", required=True, help='The group, in Chinese: "香港学者".')
@commits
def add_group(key: str, label_en: str, label_zh: str, plural_en: str, plural_zh: str) -> None:
    """Add a group of signatories after the others: signers can choose it, and it is counted and listed."""
    try:
        group = groups.add_group(
            key.strip().lower(), labels={"en": label_en, "zh": label_zh}, plurals={"en": plural_en, "zh": plural_zh}
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except IntegrityError:
        raise click.ClickException(f"A group with the key {key!r} already exists.") from None
    click.echo(f"Added the group {group.key} ({group.plural('en')} / {group.plural('zh')}).")


def _organiser_and_reason(by: str, reason: str) -> Organiser:
    if not reason.strip():
        raise click.BadParameter("say why; it goes into the audit log", param_hint="--reason")
    try:
        return accounts.organiser_by_email(by)
    except accounts.AccountError as error:
        raise click.BadParameter(str(error), param_hint="--by") from None


@letter_cli.command("publish")
@click.option("--reason", required=True, help="What changed and why; shown with the version.")
@click.option(
    "--email-signers", is_flag=True, help="Tell everyone who signed an earlier version, with their link to withdraw."
)
@commits
def publish_letter(reason: str, email_signers: bool) -> None:
    """Publish the letter's Markdown files as a new version: until then an edited file is not shown."""
    try:
        version = versions.publish(reason, email_signers=email_signers)
    except versions.NothingToPublish as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Published version {version.number} (SHA-256 en {version.sha256_en[:16]}, zh {version.sha256_zh[:16]})."
    )


@letter_cli.command("close")
@click.option("--by", required=True, help="The organiser closing it (their address); goes into the audit log.")
@click.option("--reason", required=True, help="Why; goes into the audit log.")
@commits
def close_letter(by: str, reason: str) -> None:
    """Close signing now: the form is replaced by a notice and every page says the letter is closed."""
    closed = closing.close(_organiser_and_reason(by, reason), reason.strip())
    click.echo(f"Signing closed at {closed.isoformat(timespec='seconds')}.")


@letter_cli.command("reopen")
@click.option("--by", required=True, help="The organiser reopening it (their address); goes into the audit log.")
@click.option("--reason", required=True, help="Why; goes into the audit log.")
@commits
def reopen_letter(by: str, reason: str) -> None:
    """Open signing again after `letter close`."""
    try:
        closing.reopen(_organiser_and_reason(by, reason), reason.strip())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo("Signing is open again.")


@delivery_cli.command("pdf")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--language", type=click.Choice(["en", "zh"]), default="en", show_default=True)
def delivery_pdf(file: str, language: str) -> None:
    """Make the delivery copy (A4 PDF: the letter, the counts, the listed signatories) and write it to
    FILE. It is kept for the dashboard too; if nothing changed since the last copy, that one is used."""
    job, _ = delivery_jobs.request_copy(language, delivery_jobs.COMMAND_LINE)
    db.session.commit()
    job = delivery_jobs.make_now(job.id)
    if job.state != "done":
        raise click.ClickException(f"The copy could not be made: {job.error}")
    kept = delivery_jobs.file_pdf(job.file_id) if job.file_id else None
    if kept is None:
        raise click.ClickException("The copy was made but is no longer kept; run the command again.")
    made, pdf = kept
    Path(file).write_bytes(pdf)
    click.echo(f"Wrote {file}: {made.names} names, {made.pages} pages; list SHA-256 {made.list_sha256}.")


@delivery_cli.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def check_delivery(context: click.Context, file: Path) -> None:
    """Recompute the fingerprints of the list and of the letter from the database and say whether those
    printed in FILE (a delivery copy) match; exits with 1 when one does not."""
    try:
        printed = delivery.fingerprints_in(file)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    reading_only()
    now = delivery.delivery_copy(printed.language)
    same_list = printed.list_sha256 == now.list_fingerprint
    same_letter = printed.letter_sha256 == now.letter_fingerprint
    if same_list:
        click.echo(f"List of signatories: match (SHA-256 {now.list_fingerprint}, the list in the database now).")
    else:
        click.echo(
            f"List of signatories: no match. The copy's SHA-256 is {printed.list_sha256}; the list in the "
            f"database now gives {now.list_fingerprint}: names were added, removed or changed since it was made."
        )
    if same_letter:
        click.echo(f"Letter ({printed.language}): match (SHA-256 {now.letter_fingerprint}).")
    else:
        known = delivery_jobs.version_with_text(printed.language, printed.letter_sha256)
        was = f"the text of version {known}" if known else "a text recorded as no version"
        click.echo(
            f"Letter ({printed.language}): no match. The copy has {was} (SHA-256 {printed.letter_sha256}); "
            f"the letter now is {now.letter_fingerprint}."
        )
    made = delivery_jobs.file_made_as(file.read_bytes())
    if made is not None:
        click.echo(f"{file} is, byte for byte, the copy the site made on {made.made_at:%Y-%m-%d %H:%M} UTC.")
    db.session.commit()
    context.exit(0 if same_list and same_letter else 1)


@share_cli.command("images")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Another folder than static/share/.")
def draw_share_images(out: Path | None) -> None:
    """Redraw static/share/ (link-preview cards per language, icons) after the letter's title changes."""
    from .share_images import draw_all

    try:
        written = draw_all(out)
    except (ImportError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    click.echo("Wrote " + ", ".join(str(path) for path in written) + ".")


@mirror_cli.command("build")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def build_mirror(folder: Path) -> None:
    """Make or update a static copy of the public site in FOLDER: both languages, the list, the feeds;
    only the files that changed are written (see docs/reach.md)."""
    from .mirror import MirrorError, build, describe

    try:
        report = build(folder)
    except MirrorError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.session.rollback()  # the command's boundary: the build only read
    click.echo(describe(report, folder))


def register(app: Flask) -> None:
    for group in (
        organisers_cli,
        signatures_cli,
        mail_cli,
        privacy_cli,
        counts_cli,
        groups_cli,
        share_cli,
        letter_cli,
        delivery_cli,
        mirror_cli,
    ):
        app.cli.add_command(group)
    mail_cli.add_command(receive_command)
