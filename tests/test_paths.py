"""Every command that reads or writes a user's path, through every kind of bad path (issue 26):
one error naming the path as given and the cause in words, never "[Errno" or the atomic
writer's temporary file."""

import errno
import os
import stat
from pathlib import Path

import pytest
from cli_helpers import run
from PIL import Image, ImageDraw

import numpynn as nn
from numpynn import paths
from numpynn.atomic import atomic_write
from numpynn.cli import main
from numpynn.errors import PathError

pytest.importorskip("matplotlib")

# The kinds of bad path, and the words of each cause.
CAUSES = {
    "a directory": "it is a directory, not a file",
    "a file": "it is a file, not a directory",
    "a file as parent": "notes.txt is a file, not a directory",
    "missing": "it does not exist",
    "a missing directory": "does not exist",
    "no permission to read": "no permission to read it",
    "no permission to write": "no permission to write in",
    "a full disk": "the disk is full",
}
READ_FILE = ["a directory", "a file as parent", "missing", "no permission to read"]
WRITE_FILE = [
    "a directory",
    "a file as parent",
    "a missing directory",
    "no permission to write",
    "a full disk",
]
READ_DIR = ["a file", "a file as parent", "missing", "no permission to read"]
WRITE_DIR = ["a file", "a file as parent", "no permission to write", "a full disk"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A tiny digit model (784-10, untrained), a real digits run, a picture of a 1:
    {name: path}."""
    base = tmp_path_factory.mktemp("paths")
    model = nn.Sequential(nn.Dense(784, 10, seed=0), nn.Softmax())
    nn.save(model, base / "model.npz", metadata={"dataset": "mnist"})
    run_dir = base / "run"
    argv = ["train", "--dataset", "digits", "--epochs", "1", "--threads", "1", "--no-plots"]
    assert main([*argv, "--quiet", "--out", str(run_dir)]) == 0
    image = Image.new("L", (200, 300), 255)
    ImageDraw.Draw(image).line([(90, 40), (90, 250)], fill=0, width=20)
    image.save(base / "one.png")
    return {"model": base / "model.npz", "run": run_dir, "image": base / "one.png"}


def bad_path(kind, tmp_path, monkeypatch):
    """A path of ``kind`` under ``tmp_path``, the file or directory made as it needs."""
    (tmp_path / "notes.txt").write_text("notes")
    (tmp_path / "folder").mkdir()
    if kind == "a directory":  # named as a file might be
        (tmp_path / "img.png").mkdir()
        return tmp_path / "img.png"
    if kind == "a file":
        return tmp_path / "notes.txt"
    if kind == "a file as parent":
        return tmp_path / "notes.txt" / "x.png"
    if kind == "missing":
        return tmp_path / "nowhere"
    if kind == "a missing directory":
        return tmp_path / "nowhere" / "x.png"
    if kind == "no permission to read":
        deny(tmp_path / "folder", os.R_OK, monkeypatch)
        (tmp_path / "secret.png").write_bytes(b"x")
        deny(tmp_path / "secret.png", os.R_OK, monkeypatch)
        return tmp_path / "secret.png"
    if kind == "no permission to write":
        deny(tmp_path / "folder", os.W_OK, monkeypatch)
        return tmp_path / "folder" / "x.png"
    assert kind == "a full disk"
    real_fsync = os.fsync

    def full(fd):  # a file's data does not fit; a directory's fsync still works
        if stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    return tmp_path / "out" / "x.png"


def deny(path, mode, monkeypatch):
    """Take away the permission ``mode`` (os.R_OK or os.W_OK) on ``path``: by chmod, or for
    root, whom chmod does not stop, by making os.access say no, as it would."""
    if os.geteuid() != 0:
        path.chmod(0o500 if mode == os.W_OK else 0)  # given back by _restore_permissions
        return
    real_access = os.access

    def access(p, wanted, *args, **kwargs):
        if Path(p) == path and wanted & mode:
            return False
        return real_access(p, wanted, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


@pytest.fixture(autouse=True)
def _restore_permissions(tmp_path):
    yield
    for p in [tmp_path, *tmp_path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o700)


def check(code, out, err, path, kind, cause=None):
    """One clear failure: not 0, the path as given and the cause, no errno or temporary file."""
    assert code != 0, out
    text = out + err
    assert "[Errno" not in text and ".tmp" not in text and "Traceback" not in text, text
    assert str(path) in err, err
    assert (cause or CAUSES[kind]) in err, err


# Each command that reads a file: argv for the bad path p.
READERS = {
    "evaluate MODEL": lambda f, p: ["evaluate", p],
    "predict MODEL": lambda f, p: ["predict", p, f["image"]],
    "predict IMAGE": lambda f, p: ["predict", f["model"], p],
    "export MODEL": lambda f, p: ["export", p, "m.onnx"],
    "plot filters MODEL": lambda f, p: ["plot", "filters", p],
    "generate MODEL": lambda f, p: ["generate", p],
    "serve MODEL": lambda f, p: ["serve", p, "--port", "0"],
}
WRITERS = {
    "export OUT": lambda f, p: ["export", f["model"], p],
    "plot activations --out": lambda f, p: ["plot", "activations", "--out", p],
    "plot curves --out": lambda f, p: ["plot", "curves", f["run"], "--out", p],
    "predict --show-input FILE": lambda f, p: [
        "predict",
        f["model"],
        f["image"],
        "--show-input",
        p,
    ],
}
DIR_READERS = {
    "train --resume": lambda f, p: ["train", "--resume", p],
    "train --data-dir": lambda f, p: ["train", "--data-dir", p, "--out", "r"],
    "evaluate --data-dir": lambda f, p: ["evaluate", f["model"], "--data-dir", p],
    "plot curves RUN_DIR": lambda f, p: ["plot", "curves", p],
}
DIR_WRITERS = {
    "train --out": lambda f, p: [
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--no-plots",
        "--quiet",
        "--out",
        p,
    ],
    "lab --out": lambda f, p: ["lab", "activations", "--out", p],
    "predict --show-input DIR": lambda f, p: [
        "predict",
        f["model"],
        f["image"],
        "--show-input",
        p,
    ],
}


def cases(commands, kinds):
    return [(name, kind) for name in commands for kind in kinds]


@pytest.mark.parametrize(("command", "kind"), cases(READERS, READ_FILE))
def test_a_command_reading_a_file(capsys, files, tmp_path, monkeypatch, command, kind):
    if command.startswith("serve"):
        pytest.importorskip("uvicorn")
    monkeypatch.chdir(tmp_path)
    path = bad_path(kind, tmp_path, monkeypatch)
    # A directory given as MODEL may be a run's: what it lacks is named.
    cause = "is a directory without model.npz" if "MODEL" in command else None
    check(
        *run(capsys, *READERS[command](files, path)),
        path,
        kind,
        cause if kind == "a directory" else None,
    )


@pytest.mark.parametrize(("command", "kind"), cases(WRITERS, WRITE_FILE))
def test_a_command_writing_a_file(capsys, files, tmp_path, monkeypatch, command, kind):
    if command.startswith("export"):
        pytest.importorskip("onnx")
    monkeypatch.chdir(tmp_path)
    path = bad_path(kind, tmp_path, monkeypatch)
    if kind == "a full disk":
        path.parent.mkdir()
    check(*run(capsys, *WRITERS[command](files, path)), path, kind)


@pytest.mark.parametrize(("command", "kind"), cases(DIR_READERS, READ_DIR))
def test_a_command_reading_a_directory(capsys, files, tmp_path, monkeypatch, command, kind):
    monkeypatch.chdir(tmp_path)
    path = bad_path(kind, tmp_path, monkeypatch)
    if kind == "no permission to read":
        path = tmp_path / "folder"
    check(*run(capsys, *DIR_READERS[command](files, path)), path, kind)


@pytest.mark.parametrize(("command", "kind"), cases(DIR_WRITERS, WRITE_DIR))
def test_a_command_writing_a_directory(capsys, files, tmp_path, monkeypatch, command, kind):
    monkeypatch.chdir(tmp_path)
    path = bad_path(kind, tmp_path, monkeypatch)
    if kind in ("no permission to write", "a full disk"):
        path = path.parent
    check(*run(capsys, *DIR_WRITERS[command](files, path)), path, kind)


# ---- files inside a directory given: a run's config.json and metrics.json, a data file ---


def unreadable_run(files, tmp_path, monkeypatch, name):
    """A copy of the digits run whose file ``name`` cannot be read: (run dir, that file)."""
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(files["run"], run_dir)
    deny(run_dir / name, os.R_OK, monkeypatch)
    return run_dir, run_dir / name


def test_resume_of_a_run_whose_config_cannot_be_read(capsys, files, tmp_path, monkeypatch):
    run_dir, config = unreadable_run(files, tmp_path, monkeypatch, "config.json")
    code, out, err = run(capsys, "train", "--resume", run_dir)
    check(code, out, err, config, "no permission to read")


def test_plot_curves_of_a_run_whose_metrics_cannot_be_read(capsys, files, tmp_path, monkeypatch):
    run_dir, metrics = unreadable_run(files, tmp_path, monkeypatch, "metrics.json")
    code, out, err = run(capsys, "plot", "curves", run_dir, "--out", tmp_path / "c.png")
    check(code, out, err, metrics, "no permission to read")


def test_a_data_dir_whose_idx_file_cannot_be_read(capsys, tmp_path, monkeypatch):
    from numpynn.datasets.mnist import IDX_NAMES

    monkeypatch.chdir(tmp_path)
    for name in IDX_NAMES.values():
        (tmp_path / name).write_bytes(b"")
    images = tmp_path / IDX_NAMES["x_train"]
    deny(images, os.R_OK, monkeypatch)
    code, out, err = run(capsys, "train", "--data-dir", tmp_path, "--out", "r")
    check(code, out, err, images, "no permission to read")


# ---- the library: nn.save, nn.load, save_figure ------------------------------------------


def save_model(path):
    nn.save(nn.Sequential(nn.Dense(2, 1)), path)


def save_figure(path):
    nn.plots.save_figure(nn.plots.new_figure((1, 1)), path)


@pytest.mark.parametrize("save", [save_model, save_figure], ids=["nn.save", "save_figure"])
@pytest.mark.parametrize("kind", WRITE_FILE)
def test_the_library_writing_a_file(tmp_path, monkeypatch, save, kind):
    path = bad_path(kind, tmp_path, monkeypatch)
    if kind == "a full disk":
        path.parent.mkdir()
    with pytest.raises(PathError) as caught:
        save(path)
    message = str(caught.value)
    assert f"cannot write {'figure ' if save is save_figure else ''}{path}: " in message
    assert CAUSES[kind] in message and "[Errno" not in message and ".tmp" not in message
    assert caught.value.path == str(path)
    assert not list(tmp_path.rglob("*.tmp"))  # the temporary file is gone


@pytest.mark.parametrize("kind", READ_FILE)
def test_nn_load(tmp_path, monkeypatch, kind):
    path = bad_path(kind, tmp_path, monkeypatch)
    if kind == "no permission to read":  # a real model file, unreadable
        save_model(tmp_path / "m.npz")
        deny(tmp_path / "m.npz", os.R_OK, monkeypatch)
        path = tmp_path / "m.npz"
    with pytest.raises(PathError) as caught:
        nn.load(path)
    assert str(caught.value).startswith(f"cannot read {path}: ")
    assert CAUSES[kind] in str(caught.value)


def test_a_path_error_is_also_the_built_in_class_of_its_cause(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "absent.npz")
    with pytest.raises(IsADirectoryError):
        nn.load(tmp_path)
    with pytest.raises(NotADirectoryError):
        (tmp_path / "f").write_text("")
        nn.load(tmp_path / "f" / "m.npz")


# ---- the operating system's own errors, translated where they happen -----------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.EACCES, "no permission to write in"),
        (errno.ENOSPC, "the disk is full"),
        (errno.EROFS, "the file system is read-only"),
        (errno.EIO, "input/output error"),
    ],
)
def test_atomic_write_translates_the_error_of_the_write_itself(tmp_path, code, words):
    """What the checks before writing cannot see (a race, a device error) is translated too."""
    with pytest.raises(PathError) as caught, atomic_write(tmp_path / "f.bin") as f:
        f.write(b"x")
        raise OSError(code, os.strerror(code), str(tmp_path / ".f.bin.abc.tmp"))
    message = str(caught.value)
    assert message.startswith(f"cannot write {tmp_path / 'f.bin'}: {words}"), message
    assert ".tmp" not in message and "[Errno" not in message
    assert os.listdir(tmp_path) == []


def test_a_permission_error_of_the_operating_system_is_translated(tmp_path, monkeypatch):
    """PermissionError raised by the OS itself (not only a check of os.access) is one PathError."""

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(args[0]))

    monkeypatch.setattr(os, "stat", refused)
    with pytest.raises(PathError, match=f"cannot read image file {tmp_path}/x.png: no permission"):
        paths.check_readable_file(tmp_path / "x.png", "image file")


def test_an_output_directory_is_made_with_its_parents(tmp_path):
    made = paths.make_dir(tmp_path / "a" / "b", "run directory")
    assert made.is_dir()


def test_a_file_needs_its_directory_to_exist(tmp_path):
    with pytest.raises(PathError, match=f"the directory {tmp_path / 'a'} does not exist"):
        paths.check_writable_file(tmp_path / "a" / "f.png")
