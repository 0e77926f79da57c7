"""The documentation site (docs/, issue 25): every public name is in the API reference and has a
docstring. The strict Sphinx build itself (warnings are errors, nitpicky references) runs in
.ci/run, once."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import numpynn

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DIRECTIVE = re.compile(r"^\.\. (?:auto\w+|py:\w+):: (\S+)", re.MULTILINE)

# Modules without __all__ whose public classes and functions belong in the reference (the
# subpackages with __all__ are found by walking the package). Left out, as machinery with no
# public use: cli, training, epochs, validation, atomic, scratch, parallel, imaging.
MODULES_WITHOUT_ALL = [
    "numpynn.activations",
    "numpynn.losses",
    "numpynn.optimizers",
    "numpynn.schedules",
    "numpynn.initializers",
    "numpynn.model",
    "numpynn.callbacks",
    "numpynn.checkpoint",
    "numpynn.sampling",
    "numpynn.generation",
    "numpynn.language_models",
    "numpynn.trained",
    "numpynn.onnx",
    "numpynn.sklearn",
    "numpynn.gates",
    "numpynn.gradcheck",
    "numpynn.errors",
    "numpynn.perceptron",
    "numpynn.metrics",
    "numpynn.plots",
]


def modules_with_all() -> list[ModuleType]:
    """numpynn and every public module of it that declares __all__ (the CLI is documented in
    docs/cli.md, not here)."""
    found = [numpynn]
    for info in pkgutil.walk_packages(numpynn.__path__, "numpynn."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or parts[1] == "cli":
            continue
        module = importlib.import_module(info.name)
        if hasattr(module, "__all__"):
            found.append(module)
    return found


def public_names() -> dict[str, Any]:
    """Dotted name -> object for every public name the reference must document."""
    names: dict[str, Any] = {}
    for module in modules_with_all():
        for name in module.__all__:
            names[f"{module.__name__}.{name}"] = getattr(module, name)
    for module_name in MODULES_WITHOUT_ALL:
        module = importlib.import_module(module_name)
        for name, obj in vars(module).items():
            defined_here = getattr(obj, "__module__", None) == module_name
            if (
                not name.startswith("_")
                and defined_here
                and inspect.isclass(obj) | inspect.isfunction(obj)
            ):
                names[f"{module_name}.{name}"] = obj
    return names


def documented() -> set[str]:
    """The targets of the reference's directives (``.. autoclass:: numpynn.Dense`` ...)."""
    targets: set[str] = set()
    for page in sorted((DOCS / "api").glob("*.rst")):
        targets.update(DIRECTIVE.findall(page.read_text(encoding="utf-8")))
    return targets


def resolve(dotted: str) -> Any:
    try:
        return importlib.import_module(dotted)  # a module: numpynn.datasets
    except ImportError:
        module_name, _, name = dotted.rpartition(".")
        return getattr(importlib.import_module(module_name), name)


def test_every_public_name_is_in_the_reference() -> None:
    targets = documented()
    assert "numpynn.Dense" in targets and "numpynn.datasets.load_mnist" in targets
    objects = {id(resolve(target)) for target in targets}
    missing = [
        dotted
        for dotted, obj in public_names().items()
        if dotted not in targets
        # the same object documented under another public name (numpynn.layers.Dense is
        # numpynn.Dense); numbers and strings must be documented under their own name
        and not (id(obj) in objects and not isinstance(obj, (str, int, float, tuple)))
    ]
    assert not missing, f"public names missing from docs/api/*.rst: {missing}"


def test_the_reference_names_only_existing_objects() -> None:
    for target in documented():
        resolve(target)  # AttributeError for a name that was renamed or removed


def test_every_public_class_and_function_has_a_docstring() -> None:
    bare = [
        dotted
        for dotted, obj in public_names().items()
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj)
    ]
    assert not bare, f"public names without a docstring: {bare}"


def takes_arguments(obj: Any) -> bool:
    """Whether a function or a class's constructor has parameters (a Protocol has none)."""
    if getattr(obj, "_is_protocol", False):
        return False
    try:
        return any(name != "self" for name in inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return False


def test_every_public_name_documents_its_parameters_in_numpy_style() -> None:
    """One style (NumPy's): whatever takes arguments has a Parameters section."""
    undocumented = [
        dotted
        for dotted, obj in public_names().items()
        if (inspect.isclass(obj) or inspect.isfunction(obj))
        and takes_arguments(obj)
        and "Parameters\n----------" not in (inspect.getdoc(obj) or "")
    ]
    assert not undocumented, f"public names without a Parameters section: {undocumented}"


def test_the_learning_path_is_in_the_site_by_glob() -> None:
    """New docs/learn chapters appear without editing the index: the toctree globs them."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert ":glob:" in index and "learn/*" in index
    assert sorted(DOCS.glob("learn/[0-9]*.md"))
