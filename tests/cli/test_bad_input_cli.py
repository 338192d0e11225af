"""Every command, given bad arguments or bad settings: one line on stderr, exit ≠ 0, never a traceback.

Run in-process through :func:`moodtape.cli.main` (what the console script runs), so a stray
exception would surface here as a test error rather than hide in a subprocess.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moodtape.cli import cli, main

COMMANDS = sorted(cli.commands)


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["moodtape", *args])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    return code, capsys.readouterr().err


def assert_one_line(code: int, err: str) -> None:
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    # click's usage errors print "Usage: …" and "Try … --help" before the one "Error:" line.
    errors = [line for line in lines if "error" in line.lower()]
    assert len(errors) == 1, err


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    monkeypatch.setenv("MOODTAPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MOODTAPE_OFFLINE", "true")


BAD_SETTINGS = [
    ("MOODTAPE_MAX_PIXELS", "abc"),
    ("MOODTAPE_PORT", "abc"),
    ("MOODTAPE_OFFLINE", "perhaps"),
    ("MOODTAPE_MODEL", "/no/such/model.onnx"),
]
#: Arguments that would be fine, so that only the setting can be what fails.
FINE_ARGS = {
    "analyze": ["x.jpg"],
    "evaluate": ["."],
    "train": ["."],
    "export": [".", "run"],
    "recommend": ["sad"],
    "convert": ["a.h5", "b.onnx"],
    "catalog": ["stats"],
    "serve": ["--port", "0"],
    "calibrate": ["missing-folder"],
    "db": ["status"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_a_bad_setting_stops_every_command_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    code, err = run(monkeypatch, capsys, command, *FINE_ARGS[command])
    assert_one_line(code, err)
    assert err.strip().splitlines()[-1].startswith(f"moodtape: error: {name}=")


def test_help_still_works_with_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOODTAPE_PORT", "abc")
    monkeypatch.setattr(sys, "argv", ["moodtape", "serve", "--help"])
    main()
    assert "--port" in capsys.readouterr().out


BAD_ARGS = [
    ["analyze"],
    ["analyze", "missing.jpg"],
    ["analyze", "x.jpg", "--preset", "nope"],
    ["analyze", "x.jpg", "--model", "missing.onnx"],
    ["evaluate", "missing-folder"],
    ["train", "missing-folder", "--epochs", "-3"],
    ["train", ".", "--lr", "abc"],
    ["export", "missing", "run"],
    ["recommend"],
    ["recommend", "glee"],
    ["recommend", "sad", "--n", "0"],
    ["recommend", "sad", "--n", "9" * 400],
    ["recommend", "--valence", "nan", "--arousal", "0"],
    ["recommend", "--valence", "1e400", "--arousal", "0"],
    ["recommend", "sad", "--strategy", "shout"],
    ["recommend", "sad", "--export", "out.exe"],
    ["recommend", "--image", "missing.jpg"],
    ["recommend", "sad", "--catalog", "missing.csv"],
    ["convert", "missing.h5", "out.onnx"],
    ["catalog", "import", "missing.csv"],
    ["catalog", "nope"],
    ["serve", "--port", "abc"],
    ["serve", "--port", "99999"],
    ["serve", "--threads", "0"],
    ["serve", "--certfile", "missing.pem"],
    ["no-such-command"],
]


@pytest.mark.parametrize("args", BAD_ARGS, ids=" ".join)
def test_bad_arguments_give_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, err = run(monkeypatch, capsys, *args)
    assert_one_line(code, err)


#: Options whose garbage values must be refused by parsing or by a check, for every command but serve
#: (which would start listening when the garbage happens to be valid).
_OPTIONS = {
    name: [
        opt
        for param in command.params
        if isinstance(param, click.Option) and not param.is_flag
        for opt in param.opts
        if opt.startswith("--")
    ]
    for name, command in cli.commands.items()
    if name not in {"serve", "catalog", "db"}
}
_GARBAGE = st.one_of(
    st.text(min_size=0, max_size=12),
    st.sampled_from(["-1", "0", "nan", "inf", "1e400", "9" * 30, "", "\x00", "../..", "é"]),
)


# At least 40 fixed examples in `make test`; MOODTAPE_FUZZ=long's profile (tests/conftest.py) makes it
# a long random run.
@settings(
    max_examples=max(40, settings.default.max_examples),
    derandomize=settings.default.derandomize,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.data(),
    command=st.sampled_from(sorted(_OPTIONS)),
)
def test_garbage_option_values_never_give_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data: st.DataObject, command: str
) -> None:
    option = data.draw(st.sampled_from(_OPTIONS[command]))
    value = data.draw(_GARBAGE)
    positional = {
        "analyze": ["missing.jpg"],
        "recommend": [],
        "convert": ["missing.h5", "o.onnx"],
        "calibrate": ["missing-folder"],
    }.get(command, ["missing-folder"] if command != "export" else ["missing", "run"])
    code, err = run(monkeypatch, capsys, command, *positional, option, value)
    assert "Traceback" not in err
    if code == 0:  # a valid recommend (e.g. --seed 0 without a mood cannot pass; only lists can)
        return
    assert_one_line(code, err)
