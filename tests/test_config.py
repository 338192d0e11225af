"""docs/settings.md and .env.example must list exactly the settings declared in config.SETTINGS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from moodtape.config import SETTINGS, Settings

ROOT = Path(__file__).resolve().parent.parent
_ROW = re.compile(r"^\| `(?P<name>[A-Z0-9_]+)` \| (?P<default>[^|]*) \|")


def _table(path: Path) -> dict[str, str]:
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            default = match["default"].strip()
            rows[match["name"]] = "" if default == "(empty)" else default.strip("`")
    return rows


def _env_example(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_settings_doc_has_every_setting_with_its_default() -> None:
    table = _table(ROOT / "docs" / "settings.md")
    assert list(table) == [s.name for s in SETTINGS], "docs/settings.md is out of step with config.SETTINGS"
    assert table == {s.name: s.default for s in SETTINGS}


def test_env_example_lists_every_setting_and_no_secret_values() -> None:
    example = _env_example(ROOT / ".env.example")
    assert list(example) == [s.name for s in SETTINGS], ".env.example is out of step with config.SETTINGS"
    for setting in SETTINGS:
        expected = "" if setting.secret else setting.default
        assert example[setting.name] == expected, setting.name


def test_env_example_loads_as_settings(tmp_path: Path) -> None:
    target = tmp_path / ".env"
    target.write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    loaded = Settings.load(environ={}, dotenv=target)
    assert loaded.public() == Settings({}).public()


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.secret], ids=lambda s: s.name)
def test_secrets_are_hidden_in_public_view(setting: object) -> None:
    name = setting.name  # type: ignore[attr-defined]
    assert Settings({name: "hunter2-secret-value"}).public()[name] == "set"
    assert "hunter2-secret-value" not in repr(Settings({name: "hunter2-secret-value"}))


def test_readme_table_has_every_setting_with_its_default() -> None:
    table = _table(ROOT / "README.md")
    assert list(table) == [s.name for s in SETTINGS], "the README's settings table is out of step with config.SETTINGS"
    assert table == {s.name: s.default for s in SETTINGS}
