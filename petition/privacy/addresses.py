"""What an email address says about the mailbox behind it: a throwaway service (refused at signing),
another spelling of a mailbox that already signed (shown to organisers), and the keyed hash that
still stands for an address once the address itself has been erased."""

from __future__ import annotations

import hashlib
import hmac

from disposable_email_domains import blocklist
from flask import current_app

from petition.web.text import mail_domain

# Providers that deliver "a.b+anything@" to "ab@" (dots ignored), or "a+anything@" to "a@" (tags).
IGNORES_DOTS = {"gmail.com", "googlemail.com"}
IGNORES_TAGS = IGNORES_DOTS | {
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "fastmail.com",
    "fastmail.fm",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
}
SAME_PROVIDER = {"googlemail.com": "gmail.com"}


def is_disposable(email: str) -> bool:
    """At a known throwaway-mail domain, or a subdomain of one (the maintained list), however the
    domain is spelt: the list is asked about the domain the mail would go to (text.mail_domain)."""
    labels = mail_domain(email).split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels) - 1))


def mailbox_key(email: str) -> str:
    """The mailbox an address reaches: a.da+letter@googlemail.com and ada@gmail.com are one."""
    local, _, domain = email.lower().rpartition("@")
    domain = SAME_PROVIDER.get(domain, domain)
    if domain in IGNORES_TAGS:
        local = local.split("+", 1)[0]
    if domain in IGNORES_DOTS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def mailbox_hash(email: str) -> str:
    """A keyed hash of the mailbox an address reaches (mailbox_key): two spellings of one mailbox
    share it, so organisers see a possible duplicate, and the database holds no mailbox in clear."""
    return _keyed("mailbox-hash", mailbox_key(email))


def domain_hash(email_or_domain: str) -> str:
    """A keyed hash of an address's domain (or of a domain), lower-cased: bulk hiding by domain
    finds the signatures without the database holding any domain in clear."""
    return _keyed("domain-hash", email_or_domain.rpartition("@")[2].lower())


def _keyed(purpose: str, value: str) -> str:
    key = current_app.config.get("IP_HASH_KEY") or current_app.config["SECRET_KEY"]
    return hmac.new(f"{purpose}:{key}".encode(), value.encode(), hashlib.sha256).hexdigest()


def email_hash(email: str) -> str:
    """A keyed hash of a (normalised) address: kept when the address is erased, so the same address
    still cannot sign twice. Keyed like the IP hashes, so rotating SECRET_KEY alone does not change it
    when IP_HASH_KEY is set."""
    key = current_app.config.get("IP_HASH_KEY") or current_app.config["SECRET_KEY"]
    return hmac.new(f"email-hash:{key}".encode(), email.encode(), hashlib.sha256).hexdigest()
