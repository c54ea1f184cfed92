"""backend.docs_blocks: generated README/docs blocks are replaced between their markers and nowhere else."""
import pytest

from backend.docs_blocks import replace_block

B, E = "<!-- x:begin -->", "<!-- x:end -->"


def test_replaces_only_between_markers_and_is_idempotent():
    text = f"intro\n{B}\nold table\n{E}\noutro {E}\n"
    once = replace_block(text, B, E, "new")
    assert once == f"intro\n{B}\nnew\n{E}\noutro {E}\n"
    assert replace_block(once, B, E, "new") == once


def test_missing_markers_leave_text_or_stop_when_required():
    assert replace_block("no markers", B, E, "x") == "no markers"
    assert replace_block(f"{E} before {B}", B, E, "x") == f"{E} before {B}"  # an end marker must follow the begin
    with pytest.raises(SystemExit, match="README.md"):
        replace_block("no markers", B, E, "x", required=True, where="README.md")
