"""Sphinx configuration of numpynn's documentation site (docs/README.md says how to build it)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # document this checkout, not an installed copy

import numpynn  # noqa: E402

project = "numpynn"
author = "numpynn contributors"
copyright = "numpynn contributors"
release = numpynn.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
# No intersphinx: the build must work offline (CI reaches package registries only).

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "Thumbs.db", ".DS_Store"]

# MyST: the Markdown pages stay Markdown; ``[text](page.md#heading)`` links resolve to headings.
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 4
# A page that skips a heading level (# then ###) is a style matter, not a broken page.
suppress_warnings = ["myst.header"]
# A fence without a language (shell commands, program output) is shown as it is.
highlight_language = "text"

# autodoc: NumPy-style docstrings through napoleon; members in source order.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# Strict: a missing reference is an error (-n -W). Names outside numpynn (NumPy's, the standard
# library's, the optional dependencies') are not documented here and have no intersphinx target.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(np|numpy|npt|numpy\.typing|numpy\._typing)\..*"),
    (r"py:.*", r"(collections|typing|pathlib|os|io|threading|concurrent|argparse)\..*"),
    (r"py:.*", r"(matplotlib|fastapi|starlette|sklearn|onnx|onnxruntime|dask)\..*"),
    (r"py:.*", r"(Path|Array|ArrayLike|NDArray|DTypeLike|Figure|Any|Callable|Iterator)"),
    (r"py:class", r"(RandomState|Generator|SeedSequence|BitGenerator)"),  # numpy.random
    (r"py:class", r"_\w+"),  # NumPy's private typing helpers (_HasDType ...)
    # docstring type phrases: "array of shape (n, k)", "int, optional", "str or None"
    (r"py:class", r"[a-z_0-9 .*]+"),
    # shape symbols in those phrases: "(n_samples, C, H, W)", "(n, T0)", "(C_out, C_in, k, k)"
    (r"py:class", r"[A-Z][0-9]?(_[a-z]+)?"),
]

html_theme = "furo"
html_title = f"numpynn {release}"
html_static_path: list[str] = []

nitpick_ignore = [
    ("py:class", "Numbers"),  # numpynn.lab.chapter's TypeVar
    ("py:class", "PathLike"),
    ("py:class", "os.PathLike"),
    ("py:class", "numpynn.layers.attention.KVCache"),  # internal: a layer's decoding cache
    ("py:mod", "numpynn.epochs"),  # internal helper modules, not in the reference
    ("py:mod", "numpynn.parallel"),
]


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Skip what a class inherits from another library (scikit-learn's metadata routing)."""
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and callable(obj) and module and not module.startswith("numpynn"):
        return True
    return None


# NumPy's aliases as Python expands them in a signature, and the names they were written as.
_EXPANDED = [
    (
        "_Buffer | _SupportsArray[dtype[Any]] | _NestedSequence[_SupportsArray[dtype[Any]]]"
        " | complex | bytes | str | _NestedSequence[complex | bytes | str]",
        "ArrayLike",
    ),
    ("ndarray[tuple[Any, ...], dtype[Any]]", "ndarray"),
    ("ndarray[tuple[int, ...], dtype[Any]]", "ndarray"),
]


def _short_signature(app, what, name, obj, options, signature, return_annotation):
    """``X: ArrayLike`` in the signatures, not the 150-character union NumPy's alias stands for."""

    def shorten(text: str | None) -> str | None:
        if not text:
            return text
        text = re.sub(r"~?\b(?:numpy|typing)(?:\.\w+)*\.(?=\w)", "", text)  # numpy._typing.x.Y
        for long, short in _EXPANDED:
            text = text.replace(long, short)
        return text

    return shorten(signature), shorten(return_annotation)


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.connect("autodoc-process-signature", _short_signature)
    app.add_transform(_OutsideLinks)


from sphinx import addnodes  # noqa: E402
from sphinx.transforms import SphinxTransform  # noqa: E402


class _OutsideLinks(SphinxTransform):
    """A Markdown link to a file of the repository outside docs/ (benchmarks/RESULTS.md,
    DEVELOPERS.md) becomes a download of that file; a link to a missing file stays an error."""

    default_priority = 5

    def apply(self, **kwargs):
        srcdir = Path(self.env.srcdir).resolve()
        docdir = (srcdir / self.env.docname).parent
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("reftype") != "myst" or node.get("refdomain") not in (None, "", "doc"):
                continue
            target = str(node["reftarget"]).split("#")[0]
            # relative to the page, or to the repository root (README.md, included whole)
            candidates = [
                base / name for base in (docdir, ROOT) for name in (target, target + ".md")
            ]
            for path in (candidate.resolve() for candidate in candidates):
                if path.is_file() and srcdir not in path.parents:
                    download = addnodes.download_reference(
                        "",
                        "",
                        refdoc=self.env.docname,
                        refexplicit=True,
                        reftarget="/" + os.path.relpath(path, srcdir),
                        refdomain="",
                        reftype="download",
                    )
                    download += node.children
                    node.replace_self(download)
                    break
