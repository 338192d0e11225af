"""A held face (``"held": true``: a stream's main person missed in this frame, shown at their
track's last box) is drawn dashed and faint and is not counted or described as a face in view.

Before, the page drew it as any face and said "2 faces" with one person in view.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_a_held_face_is_drawn_apart_and_left_out_of_the_summary(page: Any) -> None:
    result = page.evaluate(
        """async () => {
          const { drawFaces, describeFaces } = await import("/static/js/overlay.js");
          const layer = document.createElement("div");
          document.body.append(layer);
          const probabilities = { angry: 0, disgust: 0, fear: 0, happy: 0.1, sad: 0.8, surprise: 0, neutral: 0.1 };
          const user = { box: [10, 20, 40, 40], emotion: "sad", confidence: 0.8, uncertain: false, probabilities };
          const bystander = { ...user, box: [60, 20, 30, 30], emotion: "happy", confidence: 0.9 };
          const image = { width: 100, height: 100 };
          const look = () => [...layer.children].map((box) => {
            const style = getComputedStyle(box);
            return [box.classList.contains("held"), style.borderTopStyle, style.opacity];
          });
          drawFaces(layer, [{ ...user, held: true }, bystander], image, true);
          const held = look();
          drawFaces(layer, [user, bystander], image, true);
          const found = look();
          layer.remove();
          return {
            held,
            found,
            heldSummary: describeFaces([{ ...user, held: true }, bystander], image, true),
            foundSummary: describeFaces([user, bystander], image, true),
          };
        }"""
    )
    assert result["held"] == [[True, "dashed", "0.55"], [False, "solid", "1"]]
    # The same box, found again, is drawn as any face (the inline look is taken off).
    assert result["found"] == [[False, "solid", "1"], [False, "solid", "1"]]
    assert result["heldSummary"] == "1 face: happy 90 %."
    assert result["foundSummary"].startswith("2 faces.")
