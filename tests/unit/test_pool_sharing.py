"""A shared prompt-pool name belongs to the session that shared it first (review16). Before, the newest shared pool
of a name won: any visitor could share a pool under the name of someone else's shared pool, and every other visitor
who loaded that name got the newcomer's "normal" images (and saw the name twice in the dropdown)."""
from __future__ import annotations

import pytest

from storage.repos import anomaly as repo


def _fill(s):
    repo.save_pool(s, session_id="owner", product="cap", name="line 3", prompt_shas=["a"], shared=True)
    repo.save_pool(s, session_id="attacker", product="cap", name="line 3", prompt_shas=["evil", "evil"],
                   shared=True)
    repo.save_pool(s, session_id="owner", product="cap", name="line 3", prompt_shas=["a", "b"], shared=True)
    repo.save_pool(s, session_id="attacker", product="cap", name="line 3", prompt_shas=["evil"], shared=True)
    repo.save_pool(s, session_id="mine", product="cap", name="line 3", prompt_shas=["m"])


def test_a_shared_name_loads_its_first_sharers_pool(db_url, storage_for):
    st = storage_for(db_url)
    st.write(_fill)
    visitor = st.read(lambda s: repo.get_pool(s, "cap", "line 3", session_id="visitor"))
    assert visitor["prompt_shas"] == ["a", "b"]  # the owner's newest version, never the attacker's
    assert st.read(lambda s: repo.get_pool(s, "cap", "line 3", session_id=None))["prompt_shas"] == ["a", "b"]
    # a session's own pool of that name still comes first, for the attacker too
    assert st.read(lambda s: repo.get_pool(s, "cap", "line 3", session_id="attacker"))["prompt_shas"] == ["evil"]
    assert st.read(lambda s: repo.get_pool(s, "cap", "line 3", session_id="mine"))["prompt_shas"] == ["m"]
    assert st.read(lambda s: repo.shared_pool_owner(s, "cap", "line 3")) == (True, "owner")
    assert st.read(lambda s: repo.shared_pool_owner(s, "cap", "other")) == (False, None)


def test_a_shared_name_is_listed_once(db_url, storage_for):
    st = storage_for(db_url)
    st.write(_fill)
    listed = st.read(lambda s: repo.list_pools(s, session_id="visitor"))
    assert [(p["name"], p["n"], p["own"]) for p in listed] == [("line 3", 2, False)]
    mine = st.read(lambda s: repo.list_pools(s, session_id="mine"))
    assert [(p["name"], p["n"], p["own"]) for p in mine] == [("line 3", 1, True)]
    assert len(st.read(lambda s: repo.list_pools(s, everything=True))) == 3  # the admin read keeps every owner


def test_sharing_under_another_visitors_shared_name_is_refused(db_url, storage_for, monkeypatch):
    from PIL import Image

    from backend.anomaly import collection
    from backend.errors import UserError

    st = storage_for(db_url)
    monkeypatch.setattr(collection, "get_storage", lambda: st)
    img = Image.new("RGB", (16, 16), (10, 20, 30))
    collection.save_pool("cap", "line 3", [img], session_id=None, shared=True)  # a CLI/anonymous sharer
    st.write(lambda s: repo.save_pool(s, session_id="owner", product="cap", name="line 4", prompt_shas=[],
                                      shared=True))
    with pytest.raises(UserError, match="Another visitor already shares a pool under this product and pool name"):
        collection.save_pool("cap", "line 4", [img], session_id="attacker", shared=True)
    # nothing of the attacker's was stored: it still sees the two shared pools, the owners' ones
    assert [(p["name"], p["n"], p["own"]) for p in st.read(lambda s: repo.list_pools(s, session_id="attacker"))] \
        == [("line 4", 0, False), ("line 3", 1, False)]
    # the sharer itself saves new versions, and anyone may keep a private pool of that name
    collection.save_pool("cap", "line 4", [img, img], session_id="owner", shared=True)
    collection.save_pool("cap", "line 4", [img], session_id="attacker", shared=False)
    assert len(st.read(lambda s: repo.get_pool(s, "cap", "line 4", session_id="visitor"))["prompt_shas"]) == 2
    assert len(st.read(lambda s: repo.get_pool(s, "cap", "line 4", session_id="attacker"))["prompt_shas"]) == 1


def test_a_product_name_with_the_key_separator_is_refused_not_saved_unloadable(db_url, storage_for, monkeypatch):
    """Product "cap / A" + pool "line" was saved and listed as "cap / A / line", which load_pool read back as product
    "cap" + pool "A / line": "There is no prompt pool by that name…" for a pool the list showed."""
    from PIL import Image

    from backend.anomaly import collection
    from backend.errors import UserError

    st = storage_for(db_url)
    monkeypatch.setattr(collection, "get_storage", lambda: st)
    img = Image.new("RGB", (16, 16), (10, 20, 30))
    with pytest.raises(UserError, match="A product name cannot contain “ / ”"):
        collection.save_pool("cap / A", "line", [img], session_id="me")
    assert st.read(lambda s: repo.list_pools(s, session_id="me")) == []
    collection.save_pool("cap/A", "line / 2", [img], session_id="me")  # a slash in the pool name is fine
    (key,) = [collection.pool_key(p) for p in collection.list_pools(session_id="me")]
    pool, imgs = collection.load_pool(key, session_id="me")
    assert (pool["product"], pool["name"], len(imgs)) == ("cap/A", "line / 2", 1)


def test_shared_names_lose_control_and_bidi_characters():
    """A shared pool's name is listed to every visitor: U+202E reversed the rest of their dropdown entry."""
    from backend.anomaly.collection import clean_name

    assert clean_name("\u202egood\u2066 parts\x00\n", "pool name") == "good parts"


def test_your_corrections_export_uses_your_own_pool_as_train_good(db_url, storage_for, monkeypatch):
    """The export of your corrections took the product's newest visible pool as train/good: a stranger's newer shared
    pool of the same product put their images in your dataset although you had saved your own."""
    import numpy as np
    from PIL import Image

    from backend.anomaly import collection

    st = storage_for(db_url)
    monkeypatch.setattr(collection, "get_storage", lambda: st)
    mine, theirs = Image.new("RGB", (16, 16), (10, 20, 30)), Image.new("RGB", (16, 16), (250, 0, 250))
    collection.save_pool("cap", "my line", [mine], session_id="me")
    collection.save_pool("cap", "their line", [theirs, theirs], session_id="stranger", shared=True)
    mask = np.zeros((16, 16), bool)
    mask[4:8, 4:8] = True
    collection.save_correction(query=mine, mask=mask, product="cap", defect_type="dent", filename="q.png",
                               session_id="me", inspection_id=None)
    (item,) = collection.correction_items(product="cap", session_id="me")
    assert [p.getpixel((0, 0)) for p in item["prompts"]] == [(10, 20, 30)]
