"""What the inspector keeps: inspections, named prompt pools and corrected masks (through storage/).

Prompt pools are shared by name per product, so a line's normal references can be reused and grown
over time (AdaptCLIP #7: "keep adding good images to cut false positives"). Corrections are the
annotation-collection loop: a user fixes a predicted mask with a brush, it is stored as ground
truth, and saved items export as an MVTec-layout zip that the evaluation mode reads back.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from backend.anomaly.inspector import Run, find_regions, verdict
from backend.errors import UserError
from storage.db import get_storage
from storage.repos import anomaly as repo
from storage.repos.images import image_path, load_image, store_image

MAX_POOL = 64
NAME_MAX = 64


# control characters and bidirectional overrides/isolates: a shared pool's name is shown in every visitor's list
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
KEY_SEP = " / "  # "product / name" in the pool list (`pool_key`)


def clean_name(value: str, what: str) -> str:
    v = " ".join(_INVISIBLE.sub("", str(value or "")).split())
    if not v:
        raise UserError(f"Please give a {what}.")
    if len(v) > NAME_MAX:
        raise UserError(f"The {what} is {len(v)} characters long; at most {NAME_MAX} are allowed.")
    return v


def record_run(run: Run, prompts: list[Image.Image], queries: list[Image.Image], *, session_id: str | None,
               image_threshold: float, pixel_threshold: float) -> int:
    """Store prompt and query images once (by hash) and the inspection with its results; sets run.inspection_id."""
    def _w(s):
        shas = [store_image(s, p, source="anomaly:prompt") for p in prompts]
        results = []
        for rec, q in zip(run.records, queries, strict=False):
            qsha = store_image(s, q, source="anomaly:query")
            results.append({"filename": rec.name, "query_sha": qsha,
                            "prompt_sha": shas[rec.prompt_index] if 0 <= rec.prompt_index < len(shas) else None,
                            "prompt_similarity": rec.prompt_similarity, "score": rec.score,
                            "verdict": verdict(rec.score, image_threshold, rec.prompt_similarity), "ms": rec.ms,
                            "regions": [g.to_dict() for g in find_regions(rec.amap, pixel_threshold, rec.scale)]})
        return repo.add_inspection(s, session_id=session_id, engine=run.engine, size=run.size, tiled=run.tiled,
                                   retrieval_k=run.retrieval_k, image_threshold=image_threshold,
                                   pixel_threshold=pixel_threshold, prompt_shas=shas, results=results,
                                   ms_total=run.ms_total, settings={"skipped": run.skipped})

    run.inspection_id = get_storage().write(_w)
    return run.inspection_id


def get_inspection(inspection_id: int) -> dict | None:
    return get_storage().read(lambda s: repo.get_inspection(s, int(inspection_id)))


def save_pool(product: str, name: str, prompts: list[Image.Image], *, session_id: str | None,
              shared: bool = False) -> dict:
    product, name = clean_name(product, "product name"), clean_name(name, "pool name")
    if KEY_SEP in product:  # "a / b" + "c" was listed as "a / b / c" and read back as "a" + "b / c": never loadable
        raise UserError("A product name cannot contain “ / ” with spaces around it (the pool list separates product "
                        "and pool name with it); please write it without the spaces, e.g. “cap/A”.")
    if not prompts:
        raise UserError("The prompt pool is empty; add normal images before saving it.")
    if len(prompts) > MAX_POOL:
        raise UserError(f"A pool holds at most {MAX_POOL} prompt images; {len(prompts)} were given.")

    def _w(s):
        if shared:  # a shared name is its first sharer's: another visitor's pool under it would replace theirs
            taken, owner = repo.shared_pool_owner(s, product, name)
            if taken and owner != (session_id or None):
                raise UserError("Another visitor already shares a pool under this product and pool name; "
                                "please choose another pool name (nothing was saved; your prompt images are still there).")
        shas = [store_image(s, p, source=f"anomaly:pool:{product}") for p in prompts]
        return repo.save_pool(s, session_id=session_id, product=product, name=name, prompt_shas=shas,
                              shared=shared)

    pid = get_storage().write(_w)
    return {"id": pid, "product": product, "name": name, "n": len(prompts), "shared": bool(shared)}


def list_pools(product: str | None = None, *, session_id: str | None) -> list[dict]:
    """Pools `session_id` may see: its own and shared ones."""
    return get_storage().read(lambda s: repo.list_pools(s, product or None, session_id=session_id))


def pool_key(pool: dict) -> str:
    return f"{pool['product']}{KEY_SEP}{pool['name']}"


def load_pool(key: str, *, session_id: str | None) -> tuple[dict, list[Path]]:
    """`key` is "product / name" as listed; returns the pool (own first, else a shared one) and its stored PNG files
    (not decoded: loading a shared 360 MP pool decoded every image on every call, ~5 s of CPU that any visitor
    could ask for again and again)."""
    if not isinstance(key, str) or KEY_SEP not in key:  # an API client may send any JSON value
        raise UserError("Please choose a saved prompt pool first.")
    product, name = key.split(KEY_SEP, 1)

    def _r(s):
        pool = repo.get_pool(s, product, name, session_id=session_id)
        if pool is None:
            return None, []
        return pool, [image_path(s, sha) for sha in pool["prompt_shas"]]

    pool, files = get_storage().read(_r)
    if pool is None:
        raise UserError("There is no prompt pool by that name that you saved or that was shared with you.")
    if any(f is None or not f.is_file() for f in files):
        raise UserError("Some images of this pool are missing from the data directory; please save it again.")
    return pool, files


def save_correction(*, query: Image.Image, mask: np.ndarray, product: str, defect_type: str, filename: str,
                    session_id: str | None, inspection_id: int | None) -> dict:
    product = clean_name(product, "product name")
    mask = np.asarray(mask) > 0
    if mask.shape != (query.height, query.width):
        raise UserError(f"The mask is {mask.shape[1]}×{mask.shape[0]} but the image is "
                         f"{query.width}×{query.height}; please redraw it on the image.")
    defect = "good" if not mask.any() else clean_name(defect_type or "defect", "defect type").replace(" ", "_")
    mask_img = Image.fromarray((mask * 255).astype(np.uint8)).convert("RGB")

    def _w(s):
        qsha = store_image(s, query, source="anomaly:correction-query")
        msha = store_image(s, mask_img, source="anomaly:correction-mask")
        return repo.add_correction(s, session_id=session_id, inspection_id=inspection_id, product=product,
                                   defect_type=defect, filename=filename or "query.png", query_sha=qsha,
                                   mask_sha=msha, mask_pixels=int(mask.sum()))

    cid = get_storage().write(_w)
    return {"id": cid, "product": product, "defect_type": defect, "mask_pixels": int(mask.sum())}


def list_corrections(product: str | None = None, session_id: str | None = None) -> list[dict]:
    return get_storage().read(lambda s: repo.list_corrections(s, product=product or None,
                                                              session_id=session_id or None))


def correction_items(product: str | None = None, session_id: str | None = None) -> list[dict]:
    """Corrections with their images loaded, ready for `exports.mvtec_zip`."""
    def _r(s):
        items = []
        pools: dict[str, list] = {}
        # every session's newest version of each image: exports.mvtec_zip settles agreement and conflicts
        for c in repo.list_corrections(s, product=product or None, session_id=session_id or None, per_session=True):
            img, m = load_image(s, c["query_sha"]), load_image(s, c["mask_sha"])
            if img is None or m is None:
                continue
            if c["product"] not in pools:  # the newest saved pool of the product becomes train/good: your own
                # first (a stranger's newer shared pool of that product was exported as your normal images)
                ps = repo.list_pools(s, c["product"], session_id=session_id, everything=session_id is None)
                ps = [p for p in ps if p["own"]] or ps
                pools[c["product"]] = [load_image(s, sha) for sha in ps[0]["prompt_shas"]] if ps else []
            items.append({**c, "image": img, "mask": np.asarray(m.convert("L")) > 127,
                          "prompts": [p for p in pools[c["product"]] if p is not None]})
        return items

    return get_storage().read(_r)


def stored_image(sha: str) -> Image.Image | None:
    """An image stored earlier (e.g. the original-size query of an inspection), or None."""
    if not sha:
        return None
    return get_storage().read(lambda s: load_image(s, sha))
