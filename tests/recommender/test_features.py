from __future__ import annotations

import pytest

from moodtape.recommender.features import (
    ENERGY_WEIGHTS,
    effective_energy,
    item_point,
    loudness_feel,
    loudness_to_unit,
    mood_to_unit,
    tempo_feel,
    tempo_to_unit,
    unit_to_mood,
)
from moodtape.types import Track, Video


def track(**features: float) -> Track:
    base = {"valence": 0.5, "energy": 0.5}
    base.update(features)
    return Track(title="t", artist="a", **base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("valence", "arousal"), [(-1.0, -1.0), (0.0, 0.0), (0.3, -0.7), (1.0, 1.0)])
def test_mood_and_unit_plane_round_trip(valence: float, arousal: float) -> None:
    unit = mood_to_unit(valence, arousal)
    assert all(0.0 <= x <= 1.0 for x in unit)
    assert unit_to_mood(*unit) == pytest.approx((valence, arousal))
    assert mood_to_unit(0.0, 0.0) == (0.5, 0.5)


def test_energy_alone_is_kept() -> None:
    assert effective_energy(track(energy=0.37)) == pytest.approx(0.37)
    video = Video(title="v", channel="c", valence=0.2, energy=0.8)
    assert item_point(video) == (0.2, pytest.approx(0.8))


def test_quiet_slow_acoustic_is_calmer_than_loud_fast_electric_at_equal_energy() -> None:
    calm = track(energy=0.4, loudness=0.2, tempo=0.1, acousticness=0.9, danceability=0.2)
    loud = track(energy=0.4, loudness=0.9, tempo=0.9, acousticness=0.05, danceability=0.8)
    assert effective_energy(calm) < 0.4 < effective_energy(loud)


def test_each_feature_pushes_the_right_way() -> None:
    base = effective_energy(track(energy=0.5, loudness=0.5, tempo=0.5, acousticness=0.5, danceability=0.5))
    assert effective_energy(track(energy=0.5, loudness=0.9, tempo=0.5, acousticness=0.5, danceability=0.5)) > base
    assert effective_energy(track(energy=0.5, loudness=0.5, tempo=0.9, acousticness=0.5, danceability=0.5)) > base
    assert effective_energy(track(energy=0.5, loudness=0.5, tempo=0.5, acousticness=0.9, danceability=0.5)) < base


def test_spotify_units_normalise() -> None:
    assert loudness_to_unit(-60.0) == 0.0
    assert loudness_to_unit(0.0) == 1.0
    assert loudness_to_unit(-6.0) == pytest.approx(0.9)
    assert tempo_to_unit(30.0) == 0.0
    assert tempo_to_unit(125.0) == pytest.approx(0.5)
    assert tempo_to_unit(400.0) == 1.0


def test_loudness_and_tempo_are_read_over_realistic_ranges() -> None:
    """Issue 11: −20 dB and −5 dB used to differ by 0.25 (a −60…0 dB scale); now by most of the range."""
    quiet, loud = loudness_to_unit(-20.0), loudness_to_unit(-5.0)
    assert loudness_feel(quiet) == pytest.approx(5 / 22) and loudness_feel(loud) == pytest.approx(20 / 22)
    assert loudness_feel(loudness_to_unit(-40.0)) == 0.0 and loudness_feel(loudness_to_unit(-1.0)) == 1.0
    assert tempo_feel(tempo_to_unit(60.0)) == pytest.approx(0.0) and tempo_feel(tempo_to_unit(180.0)) == pytest.approx(
        1.0
    )
    assert tempo_feel(tempo_to_unit(120.0)) == pytest.approx(0.5)
    # at equal energy, a quiet track and a loud one now land far apart
    gap = effective_energy(track(energy=0.5, loudness=loud)) - effective_energy(track(energy=0.5, loudness=quiet))
    assert gap > 0.15


def test_the_weights_sum_to_one_and_energy_leads() -> None:
    assert sum(ENERGY_WEIGHTS.values()) == pytest.approx(1.0)
    assert ENERGY_WEIGHTS["energy"] == max(ENERGY_WEIGHTS.values())
    assert (
        ENERGY_WEIGHTS["loudness"]
        > ENERGY_WEIGHTS["tempo"]
        > ENERGY_WEIGHTS["electric"]
        > ENERGY_WEIGHTS["danceability"]
    )
