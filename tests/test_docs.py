"""The documentation keeps up with the code: every setting the code reads is in docs/configuration.md,
and every module of the package is on docs/architecture.md's map."""

import ast
import re

from tests.support import PROJECT_ROOT

CONFIGURATION = PROJECT_ROOT / "docs" / "configuration.md"
ARCHITECTURE = PROJECT_ROOT / "docs" / "architecture.md"
# The helpers in petition/config.py whose first argument names an environment variable.
HELPERS = {"env_flag", "env_number", "env_seconds", "env_list", "env_moment", "env_entries", "env_date"}
NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def app_sources():
    """The code that runs the site: the package, gunicorn's settings and the WSGI entry point."""
    package = sorted((PROJECT_ROOT / "petition").rglob("*.py"))
    return [*package, PROJECT_ROOT / "gunicorn.conf.py", PROJECT_ROOT / "wsgi.py"]


def is_os(node, attribute):
    """node is os.<attribute>."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attribute
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def reads_a_variable(function):
    """A call of this function reads the variable its first argument names."""
    if isinstance(function, ast.Name):
        return function.id in HELPERS
    return (function.attr == "get" and is_os(function.value, "environ")) or is_os(function, "getenv")


def variables_read(source):
    """Names read by os.environ.get("X"), os.environ["X"], os.getenv("X") and env_flag("X", ...) and
    its siblings in this Python source (not names that a comment or a docstring mentions)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        key = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute) and node.args:
            key = node.args[0] if reads_a_variable(node.func) else None
        elif isinstance(node, ast.Subscript) and is_os(node.value, "environ"):
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and NAME.fullmatch(key.value):
            found.add(key.value)
    return found


def documented(markdown):
    """The backticked names in the first column of every table: `MAIL_SERVER`, `MAIL_PORT`."""
    names = set()
    for line in markdown.splitlines():
        cells = line.split("|")
        if not line.startswith("|") or len(cells) < 3 or set(line) <= set("|-: "):
            continue
        names.update(name for name in re.findall(r"`([^`]+)`", cells[1]) if NAME.fullmatch(name))
    return names


def test_the_scan_finds_reads_of_every_kind():
    source = """
import os
from petition.config import env_flag
A = os.environ.get("PLAIN_GET", "x")
B = os.environ["SUBSCRIPT"]
C = os.getenv("GETENV")
D = env_flag("HELPER", "false")
E = f"{os.environ['IN_AN_F_STRING']!r}"
request.environ.get("HTTP_HOST")  # a WSGI environ, not the process's
'''os.environ.get("IN_A_DOCSTRING")'''
"""
    assert variables_read(source) == {"PLAIN_GET", "SUBSCRIPT", "GETENV", "HELPER", "IN_AN_F_STRING"}


def test_the_tables_are_read_from_their_first_column():
    table = "| variable | meaning |\n| --- | --- |\n| `MAIL_SERVER`, `MAIL_PORT` | not `THIS` |\n"
    assert documented(table) == {"MAIL_SERVER", "MAIL_PORT"}


def test_every_environment_variable_the_code_reads_is_in_docs_configuration():
    read = {}
    for path in app_sources():
        for name in variables_read(path.read_text(encoding="utf-8")):
            read.setdefault(name, path.relative_to(PROJECT_ROOT).as_posix())
    assert {"SECRET_KEY", "MAIL_PORT", "PETITION_ENV", "GUNICORN_WORKERS"} <= set(read), "the scan found too little"
    missing = {name: where for name, where in read.items() if name not in documented(CONFIGURATION.read_text())}
    assert not missing, f"read by the code but not in docs/configuration.md's tables: {missing}"


def test_every_setting_in_docs_configuration_is_read_by_the_code():
    """The site's tables list only what the code reads (the test suite's own table is apart)."""
    markdown = CONFIGURATION.read_text()
    site, _, _tests = markdown.partition("## For the test suite")
    read = set().union(*(variables_read(path.read_text(encoding="utf-8")) for path in app_sources()))
    assert not documented(site) - read, "docs/configuration.md lists settings that nothing reads"


def the_map():
    """The fenced block under docs/architecture.md's "Map of the code" heading."""
    after_heading = ARCHITECTURE.read_text().split("\n## Map of the code\n", 1)[1]
    return after_heading.split("```", 2)[1]


def named_in(text, path):
    """`path` (views.py, public/views.py) is written in the text as a name of its own."""
    return re.search(rf"(?<![\w./]){re.escape(path)}(?![\w.])", text) is not None


def test_every_module_of_the_package_is_on_the_architecture_map():
    package = PROJECT_ROOT / "petition"
    modules = [
        path.relative_to(package).as_posix()
        for path in [*package.glob("*.py"), *package.glob("*/*.py")]
        if path.name != "__init__.py"
    ]
    assert "web/proxies.py" in modules and "signatures/views.py" in modules
    missing = [module for module in sorted(modules) if not named_in(the_map(), module)]
    assert not missing, f"modules not on docs/architecture.md's map: {missing}"


def test_every_module_on_the_architecture_map_exists():
    named = re.findall(r"(?<![\w./])((?:[a-z_]+/)*[a-z_]+\.py)(?![\w.])", the_map())
    assert "signatures/signing.py" in named
    gone = [
        name for name in named if not (PROJECT_ROOT / "petition" / name).exists() and not (PROJECT_ROOT / name).exists()
    ]
    assert not gone, f"docs/architecture.md's map names files that do not exist: {gone}"
