"""Helpers for the command-line tests: run ``numpynn`` in-process, check one-line errors."""

from numpynn.cli import main


def run(capsys, *argv):
    """(exit code, stdout, stderr) of ``numpynn *argv``."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err, *words):
    """``err`` is one line, 'numpynn ...: error: ...', holding every one of ``words``."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert "error:" in lines[0]
    for word in words:
        assert word in lines[0], lines[0]
