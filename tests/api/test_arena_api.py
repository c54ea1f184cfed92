"""Point Battle through gradio_client: create a battle, vote, reject a double and a foreign-session vote."""
import pytest

pytestmark = pytest.mark.api


def _battle(c, photo, text="Point to the red ball"):
    from gradio_client import handle_file

    out = c.predict(handle_file(photo), text, api_name="/new_battle")
    battle_id = out[0]
    assert isinstance(battle_id, str) and len(battle_id) == 32
    assert out[1] and out[2], "both annotated images come back"
    assert "Model A" in out[4] and "Model B" in out[4]
    assert "center" not in out[4] and "random" not in out[4], "names stay hidden before the vote"
    return battle_id


def test_battle_vote_and_reveal(new_client, fast_models, photo):
    c = new_client()
    bid = _battle(c, photo)
    r = c.predict(bid, "A", api_name="/vote")
    assert r["battle_id"] == bid and r["winner"] == "model_a" and r["counted"] is True
    assert {r["model_a"], r["model_b"]} == {"center", "random"}
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="already has a vote"):
        c.predict(bid, "B", api_name="/vote")


def test_foreign_session_vote_rejected(new_client, fast_models, photo):
    from gradio_client.exceptions import AppError

    owner, other = new_client(), new_client()
    bid = _battle(owner, photo)
    with pytest.raises(AppError, match="Only the person who started"):
        other.predict(bid, "B", api_name="/vote")
    assert owner.predict(bid, "bothbad", api_name="/vote")["winner"] == "tie (bothbad)"


def test_bad_inputs_have_clear_messages(new_client, fast_models, photo):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    c = new_client()
    with pytest.raises(AppError, match="instruction is empty"):
        c.predict(handle_file(photo), "   ", api_name="/new_battle")
    with pytest.raises(AppError, match="Unknown vote"):
        c.predict("0" * 32, "C", api_name="/vote")
    with pytest.raises(AppError, match="does not exist"):
        c.predict("0" * 32, "A", api_name="/vote")


def test_leaderboard_and_admin(new_client, fast_models, photo):
    from gradio_client.exceptions import AppError

    from backend.arena import service

    c = new_client()
    for choice in ("A", "tie"):
        c.predict(_battle(c, photo), choice, api_name="/vote")
    service.clear_cache()
    lb = c.predict("bt", "overall", api_name="/leaderboard")
    assert lb["method"] == "bt" and {"center", "random"} <= set(lb["models"])
    for m in (lb["models"]["center"], lb["models"]["random"]):
        assert m["ci_low"] <= m["rating"] <= m["ci_high"] and m["battles"] >= 2
    uploads = c.predict("elo", "upload", api_name="/leaderboard")
    assert uploads["category"] == "upload" and uploads["models"]
    with pytest.raises(AppError, match="Wrong admin token"):
        c.predict("nope", api_name="/arena_admin")
    md, table = c.predict("test-admin-token", api_name="/arena_admin")
    assert "Battles:" in md and table["headers"][0] == "judge"


def test_random_bench_item_keeps_its_category(new_client, fast_models):
    from gradio_client import handle_file

    from backend.arena import bench_images

    if not bench_images.load_items():
        pytest.skip("bundled Point-Bench sample not present")
    c = new_client()
    path, instruction, note = c.predict(api_name="/random_bench_image")
    assert instruction and "Category:" in note
    out = c.predict(handle_file(path), instruction, api_name="/new_battle")
    label = note.split("**Category:** ")[1].split(" ·")[0]
    assert f"Category: **{label}**" in out[4]
    # the same picture sent by someone else without the bench state is an upload
    other = new_client()
    out2 = other.predict(handle_file(path), instruction, api_name="/new_battle")
    assert "Category: **Your upload**" in out2[4]


def test_fast_vote_is_kept_but_not_counted(new_client, fast_models, photo, monkeypatch):
    from backend.arena import service

    monkeypatch.setenv("ARENA_MIN_DWELL_S", "3600")
    c = new_client()
    r = c.predict(_battle(c, photo), "B", api_name="/vote")
    assert r["counted"] is False
    exported = {b["question_id"]: b for b in service.export_clean_battle()}
    assert exported[r["battle_id"]]["counted"] is False and exported[r["battle_id"]]["winner"] == "model_b"


def test_admin_import_pointarena_file(new_client, tmp_path):
    import json

    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    items = [{"timestamp": "2025-05-01T10:00:00", "model1_name": "ext-a", "model2_name": "ext-b",
              "winning_model": "ext-a", "category": "spatial", "object_name": "Point to x", "image_filename": "x.jpg"},
             {"timestamp": "2025-05-01T10:01:00", "model1_name": "ext-b", "model2_name": "ext-a",
              "winning_model": "both_good", "category": "spatial", "object_name": "Point to y", "image_filename": "y.jpg"}]
    f = tmp_path / "dynamic_results.json"
    f.write_text(json.dumps(items))
    c = new_client()
    with pytest.raises(AppError, match="Wrong admin token"):
        c.predict("bad", handle_file(str(f)), "pointarena", api_name="/arena_import")
    assert "added 2" in c.predict("test-admin-token", handle_file(str(f)), "pointarena", api_name="/arena_import")
    assert "added 0, skipped 2" in c.predict("test-admin-token", handle_file(str(f)), "pointarena",
                                             api_name="/arena_import")
    lb = c.predict("elo", "spatial", api_name="/leaderboard")
    assert lb["models"]["ext-a"]["wins"] == 1 and lb["models"]["ext-b"]["ties"] == 1
