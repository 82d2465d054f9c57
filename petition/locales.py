"""Which language a page is in."""
SUPPORTED = ("en",)


def select_locale():
    return "en"
