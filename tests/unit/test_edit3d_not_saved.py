"""review19: with the database down or locked past its deadline, every Photo 3D Edit render (each slider release)
answered "The database cannot be reached …" and showed nothing, so the photo could not be edited or exported at
all. Now the render is shown and its status line says it is not in the edit history (undo/redo)."""
from __future__ import annotations

from PIL import Image, ImageDraw

from backend.edit3d import service
from backend.edit3d.params import EditParams, SceneSettings, Selection
from storage.db import StorageError


class _Down:
    def _fail(self, *_a, **_k):
        raise StorageError("The database cannot be reached right now; nothing was saved. Please try again in a "
                           "minute. (OperationalError)")

    write = read = _fail


def test_a_render_is_shown_and_said_not_saved_when_the_database_fails(monkeypatch):
    img = Image.new("RGB", (160, 120), (200, 220, 240))
    ImageDraw.Draw(img).ellipse((60, 30, 110, 80), fill=(220, 30, 30))
    monkeypatch.setattr(service, "get_storage", lambda: _Down())
    p = service.preview(img, Selection(points=((85.0, 55.0, 1),)), SceneSettings(), service.Backends(),
                        EditParams(yaw=20.0), session_id="s-down")
    assert p.after is not None and p.after.shape[:2] == p.before.shape[:2]
    assert "not saved in the edit history" in p.status and "cannot be reached" in p.status
    assert p.history == []
