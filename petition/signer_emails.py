"""The emails a signer receives, queued in the outbox in the same transaction as the signature."""
from flask import current_app, render_template

from .links import site_link
from .models import CONFIRMED
from .outbox import queue_email
from .tokens import CONFIRM, MANAGE, make_token


def _links(signature):
    return {
        "confirm_url": site_link("public.confirm", token=make_token(signature, CONFIRM)),
        "manage_url": site_link("public.manage", token=make_token(signature, MANAGE)),
        "resend_url": site_link("public.resend"),
        "confirm_days": max(1, round(current_app.config["CONFIRM_MAX_AGE"] / 86400)),
    }


def _queue(signature, template, subject):
    body = render_template(template, signature=signature, **_links(signature))
    return queue_email(signature.email, subject, body, signature_id=signature.id)


def queue_confirmation(signature):
    return _queue(signature, "emails/confirm.txt", "Please confirm your signature on the open letter")


def queue_already_signed(signature):
    """Sent when someone signs again with this address: nothing on the site says so, the owner learns it here."""
    if signature.status == CONFIRMED:
        return _queue(signature, "emails/already_confirmed.txt", "You have already signed the open letter")
    return _queue(signature, "emails/already_pending.txt", "Please confirm your signature on the open letter")
