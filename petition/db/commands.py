"""A command's transaction boundary: one commit when it finishes without an error."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from petition.extensions import db

P = ParamSpec("P")

R = TypeVar("R")


def commits(command: Callable[P, R]) -> Callable[P, R]:
    """The command's one commit, when it finishes without an error (services only flush)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        result = command(*args, **kwargs)
        db.session.commit()
        return result

    return wrapper
