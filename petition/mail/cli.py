"""`flask mail deliver`: the mail worker, which also makes the delivery copies asked for."""

from __future__ import annotations

import imaplib
import signal
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click
from flask.cli import AppGroup

from petition.delivery import jobs as delivery_jobs
from petition.mail import mailings, worker

if TYPE_CHECKING:
    from petition.mail.worker import DeliveryReport


P = ParamSpec("P")

R = TypeVar("R")


mail_cli = AppGroup("mail", help="Deliver the emails waiting in the outbox; take or fetch the mail that comes in.")


# Before each look at the outbox, the worker queues the next batch of each mailing (news, notices
# that the letter changed), while fewer than a few batches wait: a mailing to 100,000 is queued as it
# is sent, not all at once (a long queue makes every look at it slower, and queuing would crowd out
# sending).
WORKER_STEP = worker.Preparation(
    needed=lambda: worker.backlog_below(worker.QUEUE_AHEAD) and mailings.mailings_due(),
    run=mailings.queue_due_mailings,
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
        _say(worker.deliver_due(prepare=WORKER_STEPS))
        return
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    click.echo("Delivering emails; stop with Ctrl-C.")
    try:
        worker.deliver_forever(interval, should_stop=lambda: bool(stop), on_report=_say, prepare=WORKER_STEPS)
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

    from petition.inbound import imap as inbound_imap

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
