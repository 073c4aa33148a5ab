"""The import graph of esd/ has no cycle, and the models import nothing above them.

The graph is read from the source with `ast`, without importing anything. An edge A → B is an
`import esd.B` or `from … import …` in A that names module B (a name imported from a package is
an edge to its submodule when one has that name, else to the package).

Function-level imports count as much as module-level ones. An import inside a function is still a
dependency: it only defers the cycle to the first call, so that whether the program works depends
on which module happened to be imported first — the fault this test is here to prevent (`esd/cli.py`
imported `esd/demo.py` inside a function while demo imported cli at its top).

Not counted: the implicit import of a parent package. `from ..extensions import db` runs
`esd/__init__.py` (the factory) first; that is how Python loads packages, not a dependency of the
model on the factory, and counting it would make every module depend on everything.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "esd"


def modules() -> dict[str, tuple[Path, bool]]:
    """Map each module name of esd/ to its file and whether it is a package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def import_graph() -> dict[str, set[str]]:
    """Return each esd module's esd imports, at any depth of its source."""
    known = modules()
    graph = {}
    for name, (path, is_package) in known.items():
        package = name if is_package else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                for alias in node.names:
                    submodule = f"{module}.{alias.name}"
                    targets.add(submodule if submodule in known else module)
        graph[name] = {t for t in targets if t in known and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle as a path that ends where it starts, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = "open", path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node], _ = "done", path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_the_finder_sees_a_cycle_through_a_function_level_import():
    assert find_cycle({"esd.cli": {"esd.demo"}, "esd.demo": {"esd.cli"}}) == ["esd.cli", "esd.demo", "esd.cli"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_reads_relative_and_function_level_imports():
    graph = import_graph()
    assert "esd.extensions" in graph["esd.models.core"]  # from ..extensions import db
    assert "esd.models" in graph["esd.cli"]  # inside create_user()


def test_esd_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_models_import_nothing_above_them():
    graph = import_graph()
    below = reachable(graph, "esd.models")
    above = {"esd", "esd.db_events", "esd.cli", "esd.scoping", "esd.audit", "esd.rollups", "esd.report_version"}
    blueprints = {name for name in graph if name.endswith(".views")}
    assert below.isdisjoint(above | blueprints), sorted(below & (above | blueprints))
