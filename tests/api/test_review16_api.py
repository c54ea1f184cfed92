"""review16: what a new user and an attacker found in the running app, each through the real endpoint."""
from __future__ import annotations

import random
import re

import pytest
from gradio_client import handle_file
from PIL import Image

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("fresh_limits")]
REF = re.compile(r"\(ref [0-9a-f]{8}\)")


def test_a_shared_pool_cannot_be_replaced_by_another_visitor(new_client, tmp_path):
    """Visitor B shared a pool under visitor A's shared pool name; every third visitor who loaded that name got B's
    "normal" images (and the name was listed twice)."""
    good, evil = tmp_path / "good.png", tmp_path / "evil.png"
    Image.new("RGB", (64, 64), (90, 120, 150)).save(good)
    Image.new("RGB", (64, 64), (255, 0, 255)).save(evil)
    name = f"line {random.randint(0, 10**9)}"
    a, b, c = new_client(), new_client(), new_client()
    a.predict([handle_file(good)], "bottle", name, True, api_name="/anomaly_save_pool")
    with pytest.raises(Exception) as ei:
        b.predict([handle_file(evil), handle_file(evil)], "bottle", name, True, api_name="/anomaly_save_pool")
    assert "Another visitor already shares a pool under this product and pool name" in str(ei.value)
    assert REF.search(str(ei.value))
    paths, msg = c.predict(f"bottle / {name}", api_name="/anomaly_load_pool")
    assert len(paths) == 1 and "1 image(s)" in msg
    assert Image.open(paths[0]).convert("RGB").getpixel((0, 0)) == (90, 120, 150)
    # B keeps a private pool of that name if it wants one; the others still load A's
    b.predict([handle_file(evil)], "bottle", name, False, api_name="/anomaly_save_pool")
    paths, _ = c.predict(f"bottle / {name}", api_name="/anomaly_load_pool")
    assert Image.open(paths[0]).convert("RGB").getpixel((0, 0)) == (90, 120, 150)


def test_a_pool_whose_product_has_the_separator_is_refused_up_front(new_client, tmp_path):
    """Product "cap / A": saved ("Saved pool cap / A / line") and listed, but loading it said there was no such
    pool."""
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), (90, 120, 150)).save(good)
    with pytest.raises(Exception, match="A product name cannot contain"):
        new_client().predict([handle_file(good)], "cap / A", "line", False, api_name="/anomaly_save_pool")
