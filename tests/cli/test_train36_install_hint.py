"""Without PyTorch, ``train`` and ``export`` name the install command that works where moodtape is.

Session 36's walk through the README: in a checkout that ``make run`` set up, ``moodtape train``
said "pip install 'moodtape[train]'", which asks the package index for a moodtape rather than this
checkout (the README says ``pip install -e '.[train]'``), with whatever ``pip`` the shell finds.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from moodtape.cli import cli
from moodtape.cli import train as train_cli


class _Installed:
    """A stand-in for ``importlib.metadata.distribution("moodtape")`` with the given direct_url.json."""

    def __init__(self, direct_url: object) -> None:
        self._text = None if direct_url is None else json.dumps(direct_url)

    def read_text(self, name: str) -> str | None:
        return self._text if name == "direct_url.json" else None


def _installed_as(monkeypatch: pytest.MonkeyPatch, direct_url: object) -> None:
    monkeypatch.setattr("importlib.metadata.distribution", lambda name: _Installed(direct_url))


def _without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    for name in list(sys.modules):
        if name.startswith("moodtape.training.") and name != "moodtape.training.views":
            monkeypatch.delitem(sys.modules, name)


CHECKOUT = {"url": "file:///home/me/my%20moodtape", "dir_info": {"editable": True}}


@pytest.mark.parametrize(
    ("args", "doing"), [(["train", "{tmp}"], "training"), (["export", "{tmp}", "{tmp}"], "exporting")]
)
def test_a_checkout_is_told_to_install_the_extra_into_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], doing: str
) -> None:
    _installed_as(monkeypatch, CHECKOUT)
    _without_torch(monkeypatch)
    result = CliRunner().invoke(cli, [arg.format(tmp=tmp_path) for arg in args])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    hint = f"{shlex.quote(sys.executable)} -m pip install -e '/home/me/my moodtape[train]'"
    assert line == f"moodtape: error: {doing} needs PyTorch (torch is missing): {hint}"


@pytest.mark.parametrize(
    "direct_url",
    [
        None,  # installed from the package index: no direct_url.json
        {"url": "file:///home/me/moodtape", "dir_info": {}},  # pip install . (a copy, not editable)
        {"url": "https://example.org/moodtape.tar.gz", "archive_info": {}},
        {"url": "file:///x", "dir_info": "editable"},  # not PEP 610's shape
    ],
)
def test_anywhere_else_the_package_name_is_given(monkeypatch: pytest.MonkeyPatch, direct_url: object) -> None:
    _installed_as(monkeypatch, direct_url)
    assert train_cli.train_extra_install() == "pip install 'moodtape[train]'"
