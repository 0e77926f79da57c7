"""The command line's parsers: one module per command, and long options never abbreviated."""

import pytest
from cli_helpers import assert_one_line_error, run

from numpynn.cli import COMMANDS, build_parser


def test_every_command_has_its_module_with_a_parser_and_a_command():
    assert list(COMMANDS) == [
        "train", "evaluate", "predict", "generate", "gates", "plot", "export", "lab", "serve"
    ]  # fmt: skip
    for name, module in COMMANDS.items():
        assert callable(module.add_parser), name
        assert callable(getattr(module, f"{name}_command")), name


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["train", "--resume", "{tmp}", "--epoch", "3"], "did you mean --epochs?"),
        (["evaluate", "{tmp}/missing.npz", "--data-di", "d"], "did you mean --data-dir?"),
        (["predict", "{tmp}/missing.npz", "x.png", "--show-inpu", "d"], "--show-input?"),
        (["plot", "curves", "--ou", "x.png"], "did you mean --out?"),
        (["lab", "--lis"], "did you mean --list?"),
        (["serve", "{tmp}/missing.npz", "--max-batc", "3"], "did you mean --max-batch?"),
    ],
)
def test_a_long_option_is_not_taken_for_a_longer_one(capsys, tmp_path, argv, suggestion):
    # Abbreviated, --epoch 3 would be --epochs 3 (and the run would go on, or fail elsewhere).
    code, _, err = run(capsys, *(a.format(tmp=tmp_path) for a in argv))
    assert code == 2
    assert_one_line_error(err, "unrecognized arguments", suggestion)


def test_no_parser_abbreviates():
    parser = build_parser()
    subcommands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert not parser.allow_abbrev
    assert all(not command.allow_abbrev for command in subcommands.values())
