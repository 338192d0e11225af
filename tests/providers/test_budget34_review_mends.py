"""What a review of the cut-short change found (session 34), each failing before its mend:

- a stale token (401) on a search's *first* page late in its time: the renewal was held to the
  token's deadline and never sent, and the whole list was the catalog's with "ran out of time
  before it could ask again", though the first page always goes;
- YouTube's spent search allowance quoted inside a list YouTube still gave ("…using the built-in
  catalog until tomorrow"), on every video list for the rest of the day;
- an import whose rows were all in the catalog already read and hashed it before writing, and was
  refused "database is locked" when another connection committed meanwhile.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.providers.test_budget34_cut_short import SIX_PAGES, Spotify, _spotify

from moodtape.errors import QuotaExceededError
from moodtape.providers.catalog import Catalog
from moodtape.providers.http import OutOfTimeError, shortfall_reason

API_KEY = "test-youtube-key-0034"


def test_a_stale_token_late_on_the_first_page_is_renewed_and_the_page_asked_again(clock) -> None:
    fake = Spotify(clock, page_statuses=(503, 401))
    provider = _spotify(clock, fake)
    tracks = provider.tracks(SIX_PAGES)  # 503 at 4.9 s, 401 at 10.05 s: renewal, then the page
    assert len(tracks) == 10  # was none: the catalog's list, "ran out of time before it could ask again"
    assert fake.tokens == 2 and len(fake.searches) == 3


def test_a_quota_is_named_in_words_true_of_a_list_the_service_still_gave() -> None:
    spent = QuotaExceededError(
        "YouTube's daily search allowance is used up; using the built-in catalog until tomorrow."
    )
    assert shortfall_reason(spent) == "it allows no more requests for now"
    assert shortfall_reason(OutOfTimeError("YouTube")) is None


def test_an_import_of_rows_already_there_holds_the_write_lock_while_it_hashes(tmp_path: Path, monkeypatch) -> None:
    csv = tmp_path / "tracks.csv"
    csv.write_text("title,artist,valence,energy\nSong One,Artist A,0.5,0.5\nSong Two,Artist B,0.2,0.8\n")
    Catalog(tmp_path).import_csv(csv)
    with sqlite3.connect(tmp_path / "catalog.db") as older:  # as an older moodtape left it: no digest
        older.execute("DELETE FROM meta WHERE name LIKE 'items_digest:%'")
    hashing = Catalog._every_track
    others: list[str] = []

    def another_process_writes_meanwhile(index, connection):
        other = sqlite3.connect(tmp_path / "catalog.db", timeout=0.1)
        try:
            other.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('items_digest:other', 'x')")
            other.commit()
            others.append("committed")
        except sqlite3.OperationalError as error:
            others.append(str(error))
        finally:
            other.close()
        yield from hashing(index, connection)

    monkeypatch.setattr(Catalog, "_every_track", staticmethod(another_process_writes_meanwhile))
    result = Catalog(tmp_path).import_csv(csv)  # every row already there; was "database is locked"
    assert result.added == 0 and len(result.skipped) == 2
    assert others == ["database is locked"]  # the import held the write lock: the other waited
