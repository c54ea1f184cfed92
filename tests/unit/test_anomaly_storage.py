"""Anomaly tables and repository on SQLite and PostgreSQL (migration anomaly_0001)."""
from PIL import Image
from sqlalchemy import inspect as sa_inspect

from storage.repos import anomaly as repo
from storage.repos.images import load_image, store_image


def test_inspection_pool_and_correction_roundtrip(db_url, storage_for):
    st = storage_for(db_url)
    tables = set(sa_inspect(st.engine).get_table_names())
    assert {"anomaly_inspections", "anomaly_results", "anomaly_prompt_pools", "anomaly_corrections"} <= tables
    p = Image.new("RGB", (20, 10), (1, 2, 3))
    q = Image.new("RGB", (20, 10), (9, 9, 9))

    def write(s):
        psha, qsha = store_image(s, p), store_image(s, q)
        iid = repo.add_inspection(s, session_id="sess-a", engine="knn", size=256, tiled=False, retrieval_k=None,
                                  image_threshold=0.2, pixel_threshold=0.15, prompt_shas=[psha],
                                  results=[{"filename": "q.png", "query_sha": qsha, "prompt_sha": psha,
                                            "prompt_similarity": 0.9, "score": 0.31, "verdict": "NG", "ms": 12.0,
                                            "regions": [{"box": [1, 2, 3, 4], "area_px": 9}]}], ms_total=12.5)
        repo.save_pool(s, session_id="sess-a", product="cap", name="line 3", prompt_shas=[psha])
        repo.save_pool(s, session_id="sess-b", product="cap", name="line 3", prompt_shas=[psha, qsha])
        repo.save_pool(s, session_id=None, product="bolt", name="default", prompt_shas=[psha], shared=True)
        repo.add_correction(s, session_id="sess-a", inspection_id=iid, product="cap", defect_type="scratch",
                            filename="q.png", query_sha=qsha, mask_sha=psha, mask_pixels=5)
        repo.add_correction(s, session_id="sess-a", inspection_id=iid, product="cap", defect_type="dent",
                            filename="q.png", query_sha=qsha, mask_sha=psha, mask_pixels=7)
        repo.add_correction(s, session_id="sess-b", inspection_id=99999, product="cap", defect_type="good",
                            filename="p.png", query_sha=psha, mask_sha=psha, mask_pixels=0)
        return iid, psha, qsha

    iid, psha, qsha = st.write(write)
    got = st.read(lambda s: repo.get_inspection(s, iid))
    assert got["engine"] == "knn" and got["prompt_shas"] == [psha] and got["session_id"] == "sess-a"
    assert got["results"][0]["score"] == 0.31 and got["results"][0]["regions"][0]["box"] == [1, 2, 3, 4]
    assert st.read(lambda s: repo.count_inspections(s, "sess-a")) == 1
    pools = st.read(lambda s: repo.list_pools(s, session_id="sess-b"))  # own + shared, never another's
    assert [(x["product"], x["name"], x["n"]) for x in pools] == [("bolt", "default", 1), ("cap", "line 3", 2)]
    assert st.read(lambda s: repo.get_pool(s, "cap", "line 3", session_id="sess-b"))["prompt_shas"] == [psha, qsha]
    assert st.read(lambda s: repo.get_pool(s, "cap", "line 3", session_id="sess-a"))["prompt_shas"] == [psha]
    assert st.read(lambda s: repo.get_pool(s, "cap", "line 3", session_id="sess-c")) is None
    assert [x["name"] for x in st.read(lambda s: repo.list_pools(s, session_id="sess-c"))] == ["default"]
    assert len(st.read(lambda s: repo.list_pools(s, everything=True))) == 3
    assert st.read(lambda s: repo.get_pool(s, "cap", "nope", session_id="sess-a")) is None
    corr = st.read(lambda s: repo.list_corrections(s, product="cap"))
    assert [(c["query_sha"], c["defect_type"]) for c in corr] == [(qsha, "dent"), (psha, "good")]
    assert corr[1]["inspection_id"] is None  # a dangling id is not stored
    mine = st.read(lambda s: repo.list_corrections(s, session_id="sess-b"))
    assert len(mine) == 1 and mine[0]["mask_pixels"] == 0
    assert st.read(lambda s: load_image(s, qsha)).getpixel((0, 0)) == (9, 9, 9)
