"""``tools/build_catalog.py`` rebuilds the shipped ``tracks.csv`` byte for byte (needs the dataset)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT.parent / "shared" / "datasets" / "deezer-mood"
SHIPPED = ROOT / "src" / "moodtape" / "providers" / "data" / "tracks.csv"


@pytest.mark.skipif(not (DATASET / "train.csv").is_file(), reason="the Deezer Mood dataset is not on this machine")
def test_the_build_script_reproduces_the_shipped_subset(tmp_path: Path) -> None:
    out = tmp_path / "tracks.csv"
    command = [sys.executable, str(ROOT / "tools" / "build_catalog.py"), str(DATASET), "--out", str(out),
               "--size", "3200", "--seed", "20181"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == SHIPPED.read_bytes()
