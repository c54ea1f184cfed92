"""review19: an inspection whose history row cannot be written (PostgreSQL down, SQLite locked past the deadline)
threw away results computed for seconds: the user saw only "The database cannot be reached …" and had to run it
again. Now the results are shown and the summary says they are not saved, with the database's sentence."""
from __future__ import annotations

from PIL import Image

from backend.anomaly import actions, collection
from storage.db import StorageError


def test_results_are_kept_and_said_not_saved_when_the_database_fails(tmp_path, monkeypatch):
    prompt, query = tmp_path / "normal.png", tmp_path / "query.png"
    Image.new("RGB", (64, 64), (120, 120, 120)).save(prompt)
    img = Image.new("RGB", (64, 64), (120, 120, 120))
    img.paste((250, 20, 20), (20, 20, 36, 36))
    img.save(query)

    def down(*_a, **_k):
        raise StorageError("The database cannot be reached right now; nothing was saved. Please try again in a "
                           "minute. (OperationalError)")

    monkeypatch.setattr(collection, "record_run", down)
    out = actions.inspect([str(prompt)], [str(query)], engine="knn", resolution="256", top_k=0,
                          view=actions.ViewSettings(0.5, 0.5, False, 1.0), escape=lambda t: t)
    assert len(out.run.records) == 1 and out.run.inspection_id is None
    assert "shown but not saved" in out.views.summary and "cannot be reached" in out.views.summary
    assert "Saved as inspection" not in out.views.summary
