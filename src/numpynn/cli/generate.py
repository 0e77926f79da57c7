"""``numpynn generate MODEL``: a language model writes. A model of running text (Shakespeare)
prints the prompt and its continuation, each character as soon as it is drawn; a model of
words (names) prints ``--count`` new ones, one a line, marking those of its training set."""

from __future__ import annotations

import argparse
import contextlib
import secrets
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

from .. import datasets
from ..datasets import WordsData
from ..errors import DatasetNotFoundError, FileFormatError
from ..generation import check_temperature, check_top_k
from ..trained import LANGUAGE_MODEL, TrainedLanguageModel, TrainedModel, load_language_model
from .errors import CLIError
from .threads import auto_threads, threads_option

MAX_LENGTH = 100_000  # characters of running text per command
MAX_COUNT = 10_000  # words per command
DEFAULT_LENGTH = 500
DEFAULT_COUNT = 20
DEFAULT_TEMPERATURE = 1.0
LINE_START = "\n"  # the default prompt of running text: the start of a line (nanoGPT's)
MARK = "  (in the training set)"  # after a generated word that its training set holds

DESCRIPTION = (
    "Let a language model of numpynn train (--dataset shakespeare or names) write. A model of "
    "running text prints the prompt and its continuation, streamed as each character is "
    "drawn. A model of words (names) prints --count new words, one a line; those its training "
    f"set holds end with '{MARK.strip()}'. Without --seed, a random seed is chosen and printed "
    "on stderr: --seed with it writes the same again."
)
EXAMPLES = """examples:
  numpynn generate runs/shakespeare --prompt "ROMEO:" --length 500 --temperature 0.8 --seed 0
  numpynn generate runs/shakespeare/model.npz --top-k 10 | less
  numpynn generate runs/names --count 20          new names, one a line
  numpynn generate runs/names --prompt jo --count 5   names that start with "jo"
"""


def add_parser(commands: Any) -> None:
    generate = commands.add_parser(
        "generate",
        help="a language model writes: continue a prompt, or new names",
        description=textwrap.fill(DESCRIPTION, 79),  # the examples keep their lines
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = generate.add_argument
    add(
        "model",
        metavar="RUN_DIR_OR_MODEL",
        help="a run directory or model file of a language model",
    )
    add(
        "--prompt",
        metavar="TEXT",
        help="running text: the beginning to continue (default: a new line, as a text starts); "
        "words: the beginning of every word (default: none)",
    )
    add(
        "--length",
        type=whole_number(1, MAX_LENGTH),
        metavar="N",
        help=f"running text: characters to write after the prompt ({DEFAULT_LENGTH}, at most "
        f"{MAX_LENGTH:,})",
    )
    add(
        "--count",
        type=whole_number(1, MAX_COUNT),
        metavar="N",
        help=f"words: how many to write ({DEFAULT_COUNT}, at most {MAX_COUNT:,})",
    )
    add(
        "--temperature",
        type=temperature_option,
        default=DEFAULT_TEMPERATURE,
        metavar="T",
        help=f"divides the model's logits before each draw ({DEFAULT_TEMPERATURE:g}: the "
        "distribution the model learned, the one its validation loss measures); lower "
        "(0.8) writes safer, more repetitive text, higher more inventive and misspelt",
    )
    add(
        "--top-k",
        type=whole_number(1, None),
        metavar="K",
        help="draw from the K most probable characters only (default: all)",
    )
    add(
        "--seed",
        type=whole_number(0, None),
        metavar="S",
        help="the seed of the draws: the same seed writes the same text (default: a random "
        "one, printed on stderr)",
    )
    add(
        "--data-dir",
        metavar="DIR",
        help="words: the directory with the dataset's file (names.txt), to mark the words of "
        "the training set (default: NUMPYNN_DATA_DIR, the cache, or the download)",
    )
    add(
        "--threads",
        type=threads_option,
        metavar="N",
        help="BLAS threads, or auto: the cores measured idle now (default: the BLAS default)",
    )


def generate_command(args: argparse.Namespace) -> int:
    writer = load_language_model(args.model)
    check_options(writer, args)
    vocab = len(writer.vocabulary)
    try:
        check_top_k(args.top_k, vocab)
    except ValueError:
        raise CLIError(
            f"--top-k must be between 1 and {vocab} (the model's vocabulary has {vocab} "
            f"characters), got {args.top_k}"
        ) from None
    with blas_threads(args.threads):
        if writer.boundary is None:
            write_text(writer, args)
        else:
            write_words(writer, args)
    return 0


def check_options(writer: TrainedLanguageModel, args: argparse.Namespace) -> None:
    """CLIError for an option the kind of model does not read: --count and --data-dir are for
    a model of words, --length for one of running text."""
    if writer.boundary is None:
        wrong = [o for o, v in (("--count", args.count), ("--data-dir", args.data_dir)) if v]
        if wrong:
            raise CLIError(
                f"{' and '.join(wrong)} {'are' if len(wrong) > 1 else 'is'} for a model of "
                f"words (names); {writer.path} writes running text (--length N characters)"
            )
    elif args.length is not None:
        raise CLIError(
            f"--length: {writer.path} writes words ({writer.dataset or 'a model of words'}), "
            "each until its end; give --count N for how many"
        )


def write_text(writer: TrainedLanguageModel, args: argparse.Namespace) -> None:
    """The prompt and ``--length`` characters that continue it on stdout, each flushed as it
    is drawn; a new line at the end if the text does not end with one."""
    prompt = default_prompt(writer) if args.prompt is None else args.prompt
    length = DEFAULT_LENGTH if args.length is None else args.length
    seed = chosen_seed(args.seed)
    characters = writer.write(  # checks the prompt and the settings before any output
        prompt, length, temperature=args.temperature, top_k=args.top_k, seed=seed
    )
    out = sys.stdout
    last = prompt[-1]
    out.write(prompt)
    out.flush()
    try:
        for last in characters:
            out.write(last)
            out.flush()  # one character at a time, on a terminal or into a pipe
    except KeyboardInterrupt:
        out.write("\n")  # the message of the interrupt on its own line
        raise
    if last != "\n":
        out.write("\n")


def write_words(writer: TrainedLanguageModel, args: argparse.Namespace) -> None:
    """``--count`` words starting with the prompt, one a line, those of the training set
    marked; how many of them it holds on stderr (or why they are not marked)."""
    prefix, boundary = args.prompt or "", writer.boundary
    assert boundary is not None  # a model of words
    if boundary in prefix:
        raise CLIError(
            f"the prompt {prefix!r} holds {boundary!r}, the end of a word: give the beginning "
            "of the words"
        )
    writer.encode(boundary + prefix)  # the characters outside the vocabulary, named
    known = training_words(writer, args.data_dir)
    count = DEFAULT_COUNT if args.count is None else args.count
    seed = chosen_seed(args.seed)
    words = writer.words(
        count, prefix=prefix, temperature=args.temperature, top_k=args.top_k, seed=seed
    )
    for word in words:
        print(word + (MARK if known is not None and word in known else ""), flush=True)
    if known is not None:
        n_known = sum(word in known for word in words)
        where = f"the {writer.dataset} training set ({len(known):,} distinct words)"
        note(f"in {where}: {n_known} of {count}")


def training_words(writer: TrainedLanguageModel, data_dir: str | None) -> frozenset[str] | None:
    """The words of the training set of the model's dataset, or None (said once on stderr)
    if they cannot be found; an error if ``data_dir`` (--data-dir) does not hold them."""
    name = writer.dataset
    if name not in datasets.names() or datasets.get(name).load_text is None:
        note(f"{writer.path} does not name the dataset it was trained on: words not marked")
        return None
    load_text = datasets.get(name).load_text
    assert load_text is not None
    try:
        data = load_text(data_dir)
    except (DatasetNotFoundError, FileFormatError, OSError) as exc:
        if data_dir is not None:
            raise
        reason = str(exc).splitlines()[0].split(" To get it")[0]
        note(f"words not marked: {reason} (--data-dir DIR names the directory with it)")
        return None
    if not isinstance(data, WordsData):
        note(f"the {name} dataset is running text, not words: words not marked")
        return None
    return frozenset(data.train)


def default_prompt(writer: TrainedLanguageModel) -> str:
    """A new line, as a text starts, if the vocabulary has it; else its first character."""
    chars = writer.vocabulary.chars
    return LINE_START if LINE_START in chars else chars[0]


def chosen_seed(seed: int | None) -> int:
    """``seed``, or a random one said on stderr, so that the text can be written again."""
    if seed is None:
        seed = secrets.randbelow(1_000_000)
        note(f"seed {seed} (--seed {seed} writes the same again)")
    return seed


def note(message: str) -> None:
    print(f"numpynn generate: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def blas_threads(option: int | str | None) -> Iterator[None]:
    """Limit the BLAS threads to ``--threads`` (auto: the idle cores; None: leave them)."""
    threads = auto_threads()[0] if option == "auto" else option
    if threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:
        raise CLIError("--threads needs threadpoolctl: pip install 'numpynn[cli]'", 1) from None
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


def refuse_language_model(trained: TrainedModel, command: str) -> None:
    """CLIError if ``trained`` is a language model, which ``numpynn {command}`` (a command of
    classifiers) cannot read: it points to numpynn generate."""
    if trained.metadata.get("task") == LANGUAGE_MODEL:
        raise CLIError(
            f"{trained.path} is a language model: it writes text, it does not classify; "
            f"numpynn {command} reads classifiers. Let it write: numpynn generate {trained.path}"
        )


def whole_number(low: int, high: int | None) -> Callable[[str], int]:
    """The argparse type of a whole number from ``low`` to ``high`` (None: no bound)."""
    expected = f"a whole number >= {low}" if high is None else f"a whole number {low}-{high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    parse.__name__ = "whole number"
    return parse


def temperature_option(text: str) -> float:
    """The argparse type of --temperature: a finite number > 0 (generation's own check)."""
    try:
        return check_temperature(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}") from None
