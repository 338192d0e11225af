"""What each pass of an exported model reads: the face or its mirror image, at a framing zoom.

An exported model averages the logits of several *passes*, each one network reading one view of
the face. Each view costs a network's time, so which views to run is a measured trade, and it must
be measured on the crops users' faces give: on PublicTest's own crops the bundled networks gained
0.4–1.0 points from a second, re-framed view, but nothing on faces the detector cut out of scenes
and photos (``benchmarks/view_choice.py``; the model card, "A fourth attempt"), so the bundled model
reads each face once per network.

A pass is written ``network:view[@zoom]``, e.g. ``0:face``, ``1:mirror@1.05``: the format of the
CLI's ``--passes`` and of the model file's ``moodtape.passes`` metadata. A zoom above 1 crops
tighter (the face fills more of the 48×48 input), below 1 looser; the zoom is part of the graph
(two small matrix products, bilinear, borders replicated), so every runtime, the browser's
included, reads exactly the same views.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from moodtape.errors import DataError

#: Zooms outside this range would show a face the networks never met in training.
ZOOM_RANGE = (0.7, 1.4)
_PASS = re.compile(r"^(\d+):(face|mirror)(?:@(\d*\.?\d+))?$")
#: Zooms are kept to this many decimals, so that the metadata's text is exactly the graph's zoom.
ZOOM_DECIMALS = 3


@dataclass(frozen=True)
class Pass:
    """One network reading one view: the face or its mirror image, zoomed about its centre."""

    network: int
    mirrored: bool = False
    zoom: float = 1.0

    def __post_init__(self) -> None:
        if self.network < 0:
            raise DataError("a pass's network index must be 0 or more")
        if not ZOOM_RANGE[0] <= self.zoom <= ZOOM_RANGE[1]:
            raise DataError(f"a pass's zoom must lie in [{ZOOM_RANGE[0]}, {ZOOM_RANGE[1]}], not {self.zoom}")
        if round(self.zoom, ZOOM_DECIMALS) != self.zoom:
            raise DataError(f"give a pass's zoom with at most {ZOOM_DECIMALS} decimals, not {self.zoom}")

    @property
    def zoomed(self) -> bool:
        """Whether this pass reads a re-framed copy of the face."""
        return self.zoom != 1.0

    @property
    def label(self) -> str:
        """``network:view[@zoom]``, as :func:`parse_passes` reads it."""
        view = "mirror" if self.mirrored else "face"
        return f"{self.network}:{view}" + (f"@{self.zoom:g}" if self.zoomed else "")


def parse_passes(text: str, networks: int) -> list[Pass]:
    """Passes from ``"0:face,1:face,0:mirror@1.05"``; each network must be read at least once.

    Raises:
        DataError: a malformed pass, a network index that is not one of ``networks``, or a
            network that no pass reads.
    """
    passes = []
    for item in (part.strip() for part in text.split(",")):
        match = _PASS.match(item)
        if not match:
            hint = "write N:face or N:mirror, then @ZOOM if any (1:mirror@0.95)"
            raise DataError(f"cannot read the pass {item!r}: {hint}")
        network, view, zoom = int(match[1]), match[2], match[3]
        if network >= networks:
            known = "there is only network 0" if networks == 1 else f"the networks are 0–{networks - 1}"
            raise DataError(f"the pass {item!r} names network {network}, but {known}")
        chosen = Pass(network, view == "mirror", float(zoom) if zoom else 1.0)
        if chosen in passes:
            raise DataError(f"the pass {chosen.label!r} is named twice")
        passes.append(chosen)
    unread = set(range(networks)) - {p.network for p in passes}
    if unread:
        raise DataError(f"no pass reads network(s) {', '.join(map(str, sorted(unread)))}")
    return passes


def default_passes(networks: int, flip: bool = True) -> list[Pass]:
    """One network: the face and, with ``flip``, its mirror. Several: one pass each on the face,
    every second network on the mirror image when ``flip`` is on."""
    if networks == 1:
        return [Pass(0), Pass(0, mirrored=True)] if flip else [Pass(0)]
    return [Pass(i, mirrored=flip and i % 2 == 1) for i in range(networks)]


def describe(passes: Sequence[Pass]) -> str:
    """The passes as one comma-separated text (the model file's ``moodtape.passes``)."""
    return ",".join(p.label for p in passes)


def zoom_matrix(size: int, zoom: float) -> npt.NDArray[np.float32]:
    """``R`` with ``R @ image @ R.T`` = ``image`` zoomed by ``zoom`` about its centre.

    Bilinear sampling; a sample beyond the border takes the edge pixel (as the app's crops pad).
    Row ``u`` of ``R`` says which input pixels make output pixel ``u``: the one at
    ``centre + (u − centre) / zoom``.
    """
    centre = (size - 1) / 2
    matrix = np.zeros((size, size), np.float64)
    for u in range(size):
        source = centre + (u - centre) / zoom
        left = math.floor(source)
        weight = source - left
        matrix[u, min(max(left, 0), size - 1)] += 1 - weight
        matrix[u, min(max(left + 1, 0), size - 1)] += weight
    return matrix.astype(np.float32)
