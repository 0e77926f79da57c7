"""The learning path's registry (issue 21): each chapter is one module holding its experiment,
its figures and its summary; numpynn.lab.CHAPTERS lists the chapters once, and `numpynn lab`
only loops over it."""

import ast
import dataclasses
import importlib
import re
import types
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run

from numpynn.lab import CHAPTERS, Chapter

ROOT = Path(__file__).resolve().parent.parent
LEARN = ROOT / "docs" / "learn"


def names_used(code: types.CodeType) -> set[str]:
    """The global names a function's code refers to, comprehensions included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= names_used(const)
    return names


def functions_called(function, module) -> list:
    """The functions of ``module``'s namespace that ``function`` refers to."""
    found = (getattr(module, name, None) for name in names_used(function.__code__))
    return [f for f in found if isinstance(f, types.FunctionType)]


def test_lab_list_prints_the_registry_in_its_order(capsys):
    code, out, _ = run(capsys, "lab", "--list")
    assert code == 0
    listed = [tuple(line.split(maxsplit=1)) for line in out.splitlines()]
    full = " (--full: the book's setting)"
    assert listed == [(c.name, c.title + (full if c.full else "")) for c in CHAPTERS.values()]


def test_lab_full_runs_a_chapters_full_setting_and_the_default_otherwise(
    capsys, monkeypatch, tmp_path
):
    chapter = CHAPTERS["perceptron"]
    calls = []

    def full():
        calls.append("full")
        return chapter.run()

    monkeypatch.setitem(CHAPTERS, "perceptron", dataclasses.replace(chapter, full=full))
    code, _, _ = run(capsys, "lab", "perceptron", "--out", str(tmp_path))
    assert code == 0 and calls == []
    code, _, _ = run(capsys, "lab", "perceptron", "--full", "--out", str(tmp_path))
    assert code == 0 and calls == ["full"]
    assert "(--full: the book's setting)" in run(capsys, "lab", "--list")[1]


@pytest.mark.parametrize("name", list(CHAPTERS))
def test_a_chapter_is_one_module_with_its_experiment_figures_and_summary(name):
    chapter = CHAPTERS[name]
    assert chapter.name == name
    module = importlib.import_module(chapter.run.__module__)
    assert module.__name__.startswith("numpynn.lab.")
    assert module.CHAPTER is chapter
    for step in (chapter.run, chapter.figures, chapter.summary):
        assert step.__module__ == module.__name__, step
    experiments = functions_called(chapter.run, module)
    drawings = functions_called(chapter.figures, module)
    assert experiments and all(f.__module__ == module.__name__ for f in experiments)
    assert drawings and all(f.__name__.endswith("_figure") for f in drawings)
    assert all(f.__module__ == module.__name__ for f in drawings)


def test_every_chapter_has_its_page_and_the_index_lists_them_in_the_registrys_order():
    pages = re.findall(r"\]\((\d\d-[\w-]+\.md)\)", (LEARN / "index.md").read_text())
    assert pages == [c.page for c in CHAPTERS.values()]
    assert all((LEARN / c.page).is_file() for c in CHAPTERS.values())


def test_the_command_names_no_chapter():
    """cli/lab.py loops over the registry: no chapter's name is written in it."""
    tree = ast.parse((ROOT / "src" / "numpynn" / "cli" / "lab.py").read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert not strings & set(CHAPTERS)


def test_a_new_chapter_is_one_registry_entry_away_from_the_command(capsys, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from numpynn.plots import new_figure

    def line_figure(numbers):
        fig = new_figure(figsize=(3, 2))
        fig.add_subplot(1, 1, 1).plot(numbers)
        return fig

    toy = Chapter(
        name="toy",
        title="a toy chapter",
        page="99-toy.md",
        run=lambda: np.arange(3.0),
        figures=lambda numbers: {"toy.png": line_figure(numbers)},
        summary=lambda numbers: f"sum {numbers.sum():g}",
    )
    monkeypatch.setitem(CHAPTERS, "toy", toy)
    assert "toy          a toy chapter" in run(capsys, "lab", "--list")[1]
    code, out, _ = run(capsys, "lab", "toy", "--out", tmp_path)
    assert code == 0
    assert out.splitlines()[:3] == [
        "== toy: a toy chapter",
        "sum 3",
        f"wrote {tmp_path / 'toy.png'}",
    ]
    assert (tmp_path / "toy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
