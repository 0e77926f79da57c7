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


def imports(path: Path) -> set[str]:
    """The numpynn modules that the file at ``path`` imports, anywhere in it."""
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
            names = [f"{target}.{alias.name}" for alias in node.names]
            found |= {n for n in [target, *names] if n.startswith("numpynn")}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("numpynn")}
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        # "from . import io" names the module numpynn.io; "from .io import save" names
        # numpynn.io.save, which is no module: keep the modules only.
        edges[name] = {m for m in imports(path) if m in modules and m != name}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports, ignoring a package's own __init__ (which re-exports its modules)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if nxt == "numpynn" or node.startswith(nxt + "."):
                continue  # a module importing its package's re-exports is not a circle
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
