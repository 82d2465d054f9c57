"""Where a `next` parameter may send a visitor: only somewhere on this site."""


def safe_local_path(target, fallback):
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return fallback
