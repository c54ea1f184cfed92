"""`--endpoint`: a real OpenAI-compatible server (backend.pointing.serve, in-process uvicorn) serving the
`center` pointer scores exactly like the registry pointer itself on a slice of the sample bench."""
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from backend.arena.bench import evaluate_endpoint, evaluate_pointer

SAMPLE = Path(__file__).resolve().parents[2] / "static" / "bench"
PICK = ["photo_coffee_handle.jpg", "photo_coins_top_row.jpg", "photo_chelsea_other_eye.jpg", "gen_reasoning_00.png",
        "gen_affordable_04.png", "gen_steerable_03.png"]


@pytest.fixture(scope="module")
def small_bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    rows = [r for r in json.loads((SAMPLE / "data.json").read_text()) if r["image_filename"] in PICK]
    for sub, key in (("images", "image_filename"), ("masks", "mask_filename")):
        (root / sub).mkdir()
        for r in rows:
            shutil.copy(SAMPLE / sub / r[key], root / sub / r[key])
    (root / "data.json").write_text(json.dumps(rows))
    return root


@pytest.fixture(scope="module")
def server():
    uvicorn = pytest.importorskip("uvicorn")
    from backend.pointing.serve import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app("center"), host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    srv.should_exit = True
    th.join(10)


def test_endpoint_matches_registry_pointer(small_bench, server, tmp_path):
    direct = evaluate_pointer(small_bench, "center")
    remote = evaluate_endpoint(small_bench, server, "center", "pixel-json", out=tmp_path / "r.json")
    assert remote["source"] == "endpoint" and remote["n"] == len(PICK) == direct["n"]
    assert [r["success"] for r in remote["items"]] == [r["success"] for r in direct["items"]]
    assert remote["per_category"] == direct["per_category"]
    assert all(r.get("raw_text") for r in remote["items"])  # the endpoint's own words are kept
