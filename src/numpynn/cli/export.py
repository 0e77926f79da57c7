"""``numpynn export MODEL.npz MODEL.onnx``: a model file as ONNX (the onnx extra)."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from ..paths import check_writable_file
from ..trained import load_trained
from .errors import CLIError


def add_parser(commands: Any) -> None:
    export = commands.add_parser(
        "export",
        help="convert a model file to ONNX",
        description="Write MODEL.npz as an ONNX model (needs: pip install 'numpynn[onnx]').",
    )
    export.add_argument("model", metavar="MODEL.npz")
    export.add_argument("output", metavar="MODEL.onnx")


def export_command(args: argparse.Namespace) -> int:
    check_writable_file(args.output, "ONNX file")  # before the conversion
    model = load_trained(args.model).model
    try:
        nn_onnx = importlib.import_module("numpynn.onnx")  # lazy: needs the onnx extra
        nn_onnx.save_onnx(model, args.output)
    except ModuleNotFoundError as exc:
        if exc.name in ("onnx", "onnxruntime", "numpynn.onnx"):
            raise CLIError(
                f"numpynn export needs the onnx extra ({exc.name} is not installed): "
                "pip install 'numpynn[onnx]'",
                1,
            ) from None
        raise
    print(f"wrote {args.output}")
    return 0
