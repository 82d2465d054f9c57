"""The shape of the house: features that import each other in one direction, and modules a reader
can hold in their head."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "petition"
LONGEST_MODULE = 420  # lines; a module past it is doing two things


def module_name(path: Path) -> tuple[str, list[str]]:
    """The dotted name of a module and the package its relative imports start from."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), parts
    return ".".join(parts), parts[:-1]


def imports_of(path: Path) -> set[str]:
    """The package's modules a module imports, at the top or inside a function (both run), leaving
    out imports only for type checkers."""
    name, package = module_name(path)
    tree = ast.parse(path.read_text())
    for_types = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or id(node) in for_types:
            continue
        base = node.module or ""
        if node.level:
            start = package[: len(package) - node.level + 1]
            base = ".".join([*start, *([node.module] if node.module else [])])
        if not base.startswith("petition"):
            continue
        for alias in node.names:
            candidate = PACKAGE.parent / Path(*f"{base}.{alias.name}".split("."))
            is_module = candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists()
            found.add(f"{base}.{alias.name}" if is_module else base)
    # Importing petition.feature.module from another feature first runs petition/feature/__init__.py:
    # that is an import too (within a package, its __init__ is already running or done; and
    # petition/__init__.py, create_app, imports only inside its functions, after every module loaded).
    for imported in list(found):
        parts = imported.split(".")
        packages = {".".join(parts[:n]) for n in range(2, len(parts))}
        found.update(package for package in packages if not name.startswith(package + "."))
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    return {module_name(path)[0]: imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph.get(module, ()):
            if other not in graph:
                continue
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                other = stack.pop()
                group.append(other)
                if other == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_one_that_imports_it_back():
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_views_import_rules_and_rules_never_import_views():
    graph = import_graph()
    views = {module for module in graph if module.rsplit(".", 1)[-1].endswith("views")}
    for module, imported in graph.items():
        if module not in views and module != "petition":
            assert not imported & views, f"{module} imports pages: {sorted(imported & views)}"


def test_every_module_is_short_enough_to_read():
    long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > LONGEST_MODULE
    }
    assert long == {}
