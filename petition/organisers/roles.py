"""What each organiser role may do. Roles are ranked: each may do everything the one below may.

- viewer: the counts and the list, without email addresses;
- moderator: also sees addresses, and hides, restores, approves and reviews listings;
- admin: also exports, makes the delivery copy, deletes, bulk hides, publishes news and manages
  organiser accounts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import abort
from flask_login import current_user

from petition.organisers.models import ROLES

if TYPE_CHECKING:
    from petition.organisers.models import Organiser

RANK = {role: rank for rank, role in enumerate(ROLES)}

# Each permission and the least role that has it.
PERMISSIONS = {
    "see-emails": "moderator",
    "moderate": "moderator",
    "review-listing": "moderator",
    "export": "admin",
    "delivery": "admin",
    "delete": "admin",
    "bulk-hide": "admin",
    "updates": "admin",
    "accounts": "admin",
}


def may(organiser: Organiser, permission: str) -> bool:
    return RANK.get(organiser.role, -1) >= RANK[PERMISSIONS[permission]]


def current_may(permission: str) -> bool:
    """For templates: may the logged-in organiser do this? (A link it may not use is not shown.)"""
    return bool(current_user.is_authenticated) and may(current_user, permission)


def requires(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for an organiser route: 403 for an account whose role does not have `permission`."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_may(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
