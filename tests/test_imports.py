"""The modules of numpynn import each other in one direction: no circle, not even through
imports made only for type checking; the core needs NumPy alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpynn

SRC = Path(numpynn.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The numpynn modules that the file at ``path`` imports, anywhere in it (functions too):
    ``from numpynn import io`` imports the module numpynn.io; ``from numpynn import save``
    imports the package root numpynn, whose __init__ defines ``save``."""
    package = module_name(path.parent / "__init__.py")  # what "from . import" starts from
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                name = f"{target}.{alias.name}"
                found.add(name if name in modules else target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name in modules}


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in SRC.rglob("*.py")}
    return {name: imports(path, set(paths)) - {name} for name, path in paths.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports, ignoring a package's own __init__ (which re-exports its modules)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if node.startswith(nxt + "."):
                continue  # a module importing its own package's re-exports is not a circle
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_modules_import_each_other_without_a_circle():
    assert find_cycle(graph()) is None


# The command line, the server and the lab sit above the library and use its public API.
ABOVE_THE_LIBRARY = ("numpynn.cli", "numpynn.serve", "numpynn.lab", "numpynn.__main__")


def test_no_module_of_the_library_imports_the_package_root():
    importers = {
        name
        for name, targets in graph().items()
        if "numpynn" in targets and not name.startswith(ABOVE_THE_LIBRARY)
    }
    assert importers == set()


def test_the_server_imports_nothing_from_the_command_line():
    edges = graph()
    serve = {name: targets for name, targets in edges.items() if name.startswith("numpynn.serve")}
    assert serve, "the serve package was found"
    assert {
        name: sorted(t for t in targets if t.startswith("numpynn.cli"))
        for name, targets in serve.items()
        if any(t.startswith("numpynn.cli") for t in targets)
    } == {}


def test_the_import_graph_sees_imports_inside_functions_and_of_the_root(tmp_path):
    package = tmp_path / "numpynn"
    package.mkdir()
    (package / "__init__.py").write_text("from .a import f\n")
    (package / "a.py").write_text("def f():\n    from . import b\n    from numpynn import f\n")
    (package / "b.py").write_text("")
    modules = {"numpynn", "numpynn.a", "numpynn.b"}
    import test_imports

    original = test_imports.SRC
    test_imports.SRC = package
    try:
        assert imports(package / "a.py", modules) == {"numpynn.b", "numpynn"}
    finally:
        test_imports.SRC = original


def test_the_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_training_modules_import_in_one_direction():
    edges = graph()
    assert "numpynn.model" not in edges["numpynn.training"]
    assert "numpynn.model" not in edges["numpynn.callbacks"]
    assert "numpynn.training" in edges["numpynn.model"]


def test_importing_numpynn_loads_numpy_only():
    code = (
        "import sys, numpynn; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'matplotlib', 'tqdm', 'sklearn', 'scipy', 'PIL', 'onnx', 'torch', 'threadpoolctl'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
