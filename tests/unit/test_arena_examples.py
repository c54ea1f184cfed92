"""The arena's shipped examples are bench photo items, one per category (review14: they showed "Your upload")."""
from __future__ import annotations

import shutil

from backend.arena import bench_images
from backend.arena.vocab import CATEGORIES


def test_one_example_per_category_each_a_bench_item():
    ex = bench_images.examples()
    assert len(ex) == len(bench_images.EXAMPLE_FILES) == 5
    assert {i.category for i in ex} == set(CATEGORIES) - {"upload"}
    assert all(i.instruction and i.image_path.is_file() for i in ex)
    assert any(i.ref_point for i in ex)  # the steerable one carries its reference point


def test_match_example_by_content_not_by_name(tmp_path):
    """Clicking an example hands over a copy of its file: the copy is recognised. A file with the example's name
    and size but other bytes, or any other upload, is not."""
    item = bench_images.examples()[0]
    copy = tmp_path / "copied" / item.image_filename
    copy.parent.mkdir()
    shutil.copy(item.image_path, copy)
    assert bench_images.match_example(copy) == item
    fake = tmp_path / item.image_filename
    data = bytearray(item.image_path.read_bytes())
    data[-3] ^= 0xFF
    fake.write_bytes(bytes(data))
    assert bench_images.match_example(fake) is None
    assert bench_images.match_example(tmp_path / "missing.png") is None and bench_images.match_example(None) is None


def test_example_caption_and_state_come_from_the_example(tmp_path):
    from apps.arena import input_changed

    item = next(i for i in bench_images.examples() if i.category == "steerable")
    copy = tmp_path / item.image_filename
    shutil.copy(item.image_path, copy)
    note, state = input_changed(str(copy), None)
    assert state == item.image_filename and "**Category:** Steerability" in note and "reference point" in note
    other = tmp_path / "mine.png"
    other.write_bytes(b"\x89PNG not an example")
    assert input_changed(str(other), item.image_filename) == ("", None)


def test_a_new_image_clears_the_previous_could_not_start_line():
    """review15: after "⚠ Could not start the battle: “empty.png” is empty." a new upload kept that line under the
    new image; a battle's own status line stays."""
    import gradio as gr

    from apps.arena import clear_failed_start

    failed = "<span class='badge-warn'>⚠ Could not start the battle: “empty.png” is empty. (ref 0123abcd)</span>"
    assert clear_failed_start(failed) == ""
    assert isinstance(clear_failed_start("Category: **Spatial**. Which model pointed better?"), type(gr.skip()))
    assert isinstance(clear_failed_start(None), type(gr.skip()))
