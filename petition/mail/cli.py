"""`flask mail deliver`: the mail worker, which also makes the delivery copies asked for."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from petition.delivery import jobs as delivery_jobs
from petition.mail import mailings, worker

if TYPE_CHECKING:
    from petition.mail.worker import DeliveryReport


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
