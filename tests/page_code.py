"""The Python code of a docs page, run as written: its ```python blocks in order, in one
namespace, in a directory of the test's own (the figures it writes land there)."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python_blocks(page: str | Path) -> list[str]:
    """The ```python blocks of ``page`` (a path relative to the project root), in order."""
    return re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(), re.S)


def run_page(page: str | Path, directory: Path) -> dict:
    """Run every ```python block of ``page`` in order inside ``directory``; return the
    namespace they leave, for the test to check the page's claims against."""
    blocks = python_blocks(page)
    assert blocks, f"{page} has no python block"
    namespace: dict = {"__name__": "__page__"}
    here = Path.cwd()
    os.chdir(directory)
    try:
        for block in blocks:
            exec(compile(block, str(ROOT / page), "exec"), namespace)
    finally:
        os.chdir(here)
    return namespace
