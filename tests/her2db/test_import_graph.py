"""No module of the project takes part in an import cycle.

In a cycle, what a module may use at import time depends on which module of
the cycle happens to be imported first. The graph is read from the source:
imports that run when a module is imported, so neither those inside a
function (they run later) nor those under `if TYPE_CHECKING:` (never run).
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("her2db", "therapies", "references")
# Read by DRF only once its views are imported: the rest of REST_FRAMEWORK is
# imported while DRF is still importing them.
READ_AFTER_VIEWS = {"EXCEPTION_HANDLER", "DEFAULT_SCHEMA_CLASS"}


def modules_of(root: Path, packages) -> dict[str, Path]:
    modules = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_statements(tree: ast.Module):
    """The import statements that run when the module is imported."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elif isinstance(node, ast.If) and is_type_checking(node.test):
            pending.extend(node.orelse)
        else:
            pending.extend(
                child
                for child in ast.iter_child_nodes(node)
                if isinstance(child, ast.stmt | ast.excepthandler | ast.match_case)
            )


def imported_modules(node, module: str, is_package: bool, modules) -> set[str]:
    """The project modules an import statement imports (classes name their module)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module if is_package else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}".rstrip(".")
        names = [f"{base}.{alias.name}" for alias in node.names]
    found = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def import_graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    modules = modules_of(root, packages)
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[module] = set()
        for node in import_statements(tree):
            graph[module] |= imported_modules(node, module, is_package, modules)
    return graph


def reachable(graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def cycles(graph) -> list[set[str]]:
    """The strongly connected components of more than one module."""
    reach = {module: reachable(graph, module) for module in graph}
    components = []
    for module in sorted(graph):
        if any(module in component for component in components):
            continue
        component = {module} | {
            other for other in reach[module] if module in reach[other]
        }
        components.append(component)
    return [component for component in components if len(component) > 1]


def one_cycle(graph, component: set[str]) -> str:
    """A shortest path from a module of the component back to itself."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    for module in queue:
        for target in sorted(graph[module] & component):
            if target == start:
                return " -> ".join([*paths[module], start])
            if target not in paths:
                paths[target] = [*paths[module], target]
                queue.append(target)
    raise AssertionError(f"{component} is not a cycle")


def test_cycles_are_found_through_the_imports_that_run_at_import_time(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    sources = {
        "__init__.py": "",
        # a -> b at import time; b imports a only later, or never.
        "a.py": "import os\nfrom pkg import b\n",
        "b.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pkg.a import A\n"
            "def f():\n    from . import a\n"
        ),
        # c <-> d through relative imports, one of them inside a class body
        # and a try block; e -> c only.
        "c.py": "try:\n    from .d import D\nexcept ImportError:\n    pass\n",
        "d.py": "class D:\n    from . import c\n",
        "e.py": "from pkg.c import something\n",
    }
    for name, source in sources.items():
        (package / name).write_text(source)

    graph = import_graph(tmp_path, ["pkg"])

    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == set()
    assert cycles(graph) == [{"pkg.c", "pkg.d"}]
    assert one_cycle(graph, {"pkg.c", "pkg.d"}) == "pkg.c -> pkg.d -> pkg.c"


def test_no_module_of_the_project_takes_part_in_an_import_cycle():
    graph = import_graph()
    assert "her2db.api.viewsets" in graph["therapies.views"]  # the graph is read

    found = cycles(graph)

    assert not found, "Import cycles:\n" + "\n".join(
        f"{', '.join(sorted(component))}: {one_cycle(graph, component)}"
        for component in found
    )


def test_the_classes_drf_imports_with_its_views_import_no_module_of_ours():
    # DRF imports these while importing its views: if one of them imported a
    # module that builds on those views, it would find them half-defined.
    graph = import_graph()
    named = []
    for key, value in settings.REST_FRAMEWORK.items():
        if key not in READ_AFTER_VIEWS:
            paths = value if isinstance(value, list | tuple) else [value]
            named += [p for p in paths if isinstance(p, str) and "." in p]
    ours = {path.rpartition(".")[0] for path in named} & set(graph)
    assert "her2db.api.renderers" in ours

    assert {module: graph[module] for module in ours if graph[module]} == {}
