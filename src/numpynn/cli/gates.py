"""``numpynn gates``: the truth tables of the perceptron logic gates."""

from __future__ import annotations

import argparse
from typing import Any

from .. import gates


def add_parser(commands: Any) -> None:
    commands.add_parser(
        "gates",
        help="truth tables of the perceptron logic gates",
        description="Print AND, OR, NAND (one perceptron each) and XOR (two layers).",
    )


def gates_command(args: argparse.Namespace) -> int:
    inputs = [(0, 0), (0, 1), (1, 0), (1, 1)]
    single = {"AND": gates.AND_PERCEPTRON, "OR": gates.OR_PERCEPTRON, "NAND": gates.NAND_PERCEPTRON}
    for name, fn in (
        ("AND", gates.AND),
        ("OR", gates.OR),
        ("NAND", gates.NAND),
        ("XOR", gates.XOR),
    ):
        if name in single:
            p = single[name]
            w = ", ".join(f"{v:g}" for v in p.w)
            how = f"one perceptron: w = ({w}), b = {p.b:g}"
        else:
            how = "two layers: AND(NAND(x1, x2), OR(x1, x2)); no single perceptron can do it"
        print(f"{name}  ({how})")
        print("  x1  x2 | y")
        for x1, x2 in inputs:
            print(f"   {x1}   {x2} | {fn(x1, x2)}")
        print()
    return 0
