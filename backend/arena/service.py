"""Point-Battle service: start a blind battle, record one vote, compute the leaderboard, import/export.

The UI (apps/arena.py, apps/leaderboard.py) and other features (the Point-Bench panel) call only these
functions. Ratings are recomputed from the raw tables, cached for a short TTL, never updated per vote.
"""
from __future__ import annotations

import json
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from backend.arena import abuse, bench_images, formats, matchmaking, ratings, render
from backend.arena.bench import STEER_NOTE
from backend.arena.leaderboard_cache import LeaderboardCache
from backend.arena.vocab import CHOICES
from backend.config import setting
from backend.errors import NotAllowed, UserError
from backend.identity import network_of
from backend.pointing import service as pointing
from backend.pointing.base import check_instruction
from backend.pointing.types import is_system_failure
from backend.registry import get_registry
from backend.security import require_admin
from backend.tempfiles import shared_dir
from storage.db import get_storage
from storage.identity import salted_hash
from storage.models import utcnow
from storage.repos import arena as repo
from storage.repos.images import image_sha256, store_image

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="arena")


def limits() -> abuse.ArenaLimits:
    return abuse.limits_from_env()


def contestants() -> list[dict]:
    return pointing.contestants()


def _check_rate(session_id: str, ip_hash: str | None, lim: abuse.ArenaLimits) -> None:
    since = utcnow() - timedelta(seconds=lim.window_s)
    n_s = get_storage().read(lambda s: repo.recent_battle_times(s, session_id=session_id, since=since))
    n_ip = get_storage().read(lambda s: repo.recent_battle_times(s, ip_hash=ip_hash, since=since)) if ip_hash else 0
    if n_s >= lim.battles_per_window or n_ip >= 4 * lim.battles_per_window:
        raise NotAllowed(f"Too many battles in a short time (limit {lim.battles_per_window} per "
                              f"{lim.window_s // 60} min). Please wait a few minutes.")


def _resolve_input(image: Image.Image, bench_file: str | None, instruction: str):
    """Category, source and reference point: from the bench only if the image really is that bench image and the
    instruction is the item's own. With an instruction of the user's ("point to the saucer" on the cup item) the
    battle was stored as the bench item: counted in its category, its reference point appended to the user's
    sentence, and the item's mask used as the right answer in the judges' gold-item reliability."""
    if bench_file:
        item = bench_images.find_item(bench_file)
        if item is not None and " ".join(item.instruction.split()) == instruction:
            with Image.open(item.image_path) as im:
                bench_img = im.convert("RGB")
            if image_sha256(bench_img) == image_sha256(image):
                return item.category, f"bench:{item.image_filename}", item.ref_point
    return "upload", "upload", None


def _points(res) -> dict:
    return {"px": [list(p) for p in res.points], "norm": [list(p) for p in res.points_norm]}


def start_battle(image: Image.Image, instruction: str, *, session_id: str, client_ip: str | None = None,
                 bench_file: str | None = None, seed: int | None = None) -> dict:
    """Pick two contestants, run both concurrently with a timeout, store the battle, render both outputs."""
    lim = limits()

    instruction = check_instruction(instruction)
    if len(instruction) > lim.max_instruction_chars:
        raise UserError(f"The instruction is too long (at most {lim.max_instruction_chars} characters).")
    if client_ip and client_ip in lim.banned_ips:
        raise NotAllowed("Battles from this network are disabled by the administrator.")
    ip_hash = salted_hash(client_ip)

    net_hash = salted_hash(network_of(client_ip), "net")
    _check_rate(session_id, ip_hash, lim)
    category, source, ref_point = _resolve_input(image, bench_file, instruction)
    if ref_point:  # PointArena's sentence, so the models know where the reference point is

        note = STEER_NOTE.format(x=ref_point[0], y=ref_point[1])
        if len(instruction) + 1 + len(note) > lim.max_instruction_chars:
            raise UserError("This item has a reference point, which adds a sentence to the instruction; please keep "
                             f"the instruction under {lim.max_instruction_chars - len(note) - 1} characters.")
        instruction = f"{instruction} {note}"
    pool = pointing.contestants()
    cfg = matchmaking.config_from_env()
    rng = np.random.default_rng(seed if seed is not None else secrets.randbits(64))
    rating_now, counts = (_active_inputs() if cfg.active else ({}, {}))
    model_a, model_b, prob, swapped = matchmaking.sample_pair(pool, rng, cfg, rating_now, counts)
    sha = get_storage().write(lambda s: store_image(s, image, source=source))
    fa = _pool.submit(pointing.run_pointer, model_a, image, instruction, lim.timeout_s)
    fb = _pool.submit(pointing.run_pointer, model_b, image, instruction, lim.timeout_s)
    ra, rb = fa.result(), fb.result()
    battle_id = uuid.uuid4().hex
    info_a, info_b = ra.backend_info or {}, rb.backend_info or {}
    fields = dict(id=battle_id, session_id=session_id, judge_id=salted_hash(session_id, "judge"), ip_hash=ip_hash,
                  net_hash=net_hash,
                  image_sha256=sha, image_source=source, category=category, instruction=instruction,
                  prompt_template=str(info_a.get("prompt_template") or info_b.get("prompt_template") or "")[:64]
                  or None,
                  model_a=model_a, model_b=model_b, version_a=str(info_a.get("version") or "")[:128] or None,
                  version_b=str(info_b.get("version") or "")[:128] or None, sampling_prob=prob, swapped=swapped,
                  anony=True, points_a=_points(ra), points_b=_points(rb), raw_a=ra.raw_text, raw_b=rb.raw_text,
                  parse_ok_a=bool(ra.parse_ok), parse_ok_b=bool(rb.parse_ok), error_a=ra.error, error_b=rb.error,
                  latency_a=ra.latency_s, latency_b=rb.latency_s,
                  invalid=is_system_failure(ra) or is_system_failure(rb),
                  ref_point=list(ref_point) if ref_point else None, source="live")
    identical = same_answer(ra, rb)
    if identical:  # nothing to judge: stored for the record, never offered for a vote (see `vote`)
        fields["extra"] = {"identical": True}
    get_storage().write(lambda s: repo.insert_battle(s, **fields))
    return {"battle_id": battle_id, "category": category, "ref_point": ref_point, "identical": identical,
            "image_a": render.render_side(image, ra.points, "A", ref_point),
            "image_b": render.render_side(image, rb.points, "B", ref_point),
            "overlay": render.render_overlay(image, ra.points, rb.points, ref_point),
            "badge_a": badge(ra), "badge_b": badge(rb), "n_points": (len(ra.points), len(rb.points))}


IDENTICAL_MESSAGE = ("Both models gave the identical answer, so there is nothing to judge. The battle is stored "
                     "but not rated; start a new round.")


def same_answer(ra, rb) -> bool:
    """Both sides produced the same output (e.g. the `ocr` pointer falling back to `lite0-cam`): same points, to
    a hundredth of a pixel, or both no point at all."""
    def key(res):
        return [(round(float(x), 2), round(float(y), 2)) for x, y in res.points]

    return key(ra) == key(rb)


def badge(res) -> str:
    """What the judge is told about one side before the vote (never the raw text)."""
    if is_system_failure(res):
        return "⚠ this model failed (" + ("timed out" if "timed out" in res.error else "error") + ")"
    if not res.parse_ok or not res.points:
        return "⚠ no valid point"
    return f"{len(res.points)} point{'s' if len(res.points) != 1 else ''}"


def judge_key(session_id: str, username: str | None = None) -> str:
    """Judge id for ratings and outlier tests: the signed-in account when there is one, else the session."""
    return salted_hash(f"user:{username}" if username else session_id, "judge") or ""


def signed_in_only() -> bool:
    return bool(setting("ARENA_SIGNED_IN_ONLY"))


@dataclass(frozen=True)
class _VoteRequest:
    battle_id: str
    winner: str
    session_id: str
    username: str | None


def _vote_batch(s, reqs: Sequence[_VoteRequest]) -> list:
    """One transaction for every pending vote of this process (group commit): one query for the battles, one
    multi-row INSERT, one session UPDATE. Each vote is checked on its own and gets its own answer (a result or the
    VoteRejected meant for its caller); a second vote for a battle in the same batch is refused like one after it."""
    lim = limits()
    only_signed_in = signed_in_only()
    targets = repo.vote_targets(s, [r.battle_id for r in reqs])
    now = utcnow()
    rows: list[dict] = []
    out: list = []
    for r in reqs:
        try:
            t = targets.get(r.battle_id)
            if t is None:
                raise repo.VoteRejected("This battle does not exist. Start a new round.")
            if (t["extra"] or {}).get("identical"):
                raise repo.VoteRejected(IDENTICAL_MESSAGE)
            dwell = (now - t["created"]).total_seconds()
            counted = dwell >= lim.min_dwell_s
            note = None if counted else f"faster than {lim.min_dwell_s:g} s"
            if counted and only_signed_in and not r.username:
                counted, note = False, "not signed in"
            rows.append(repo.vote_row(t, session_id=r.session_id, judge_id=judge_key(r.session_id, r.username),
                                      winner=r.winner, dwell_s=dwell, counted=counted, note=note))
            t["vote_id"] = -1  # taken by this batch
            out.append((t, counted, note))
        except UserError as exc:
            out.append(exc)
    repo.insert_votes(s, rows)
    return out


def vote(battle_id: str, choice: str, *, session_id: str, username: str | None = None) -> dict:
    """Record the one vote for this battle from its own session; reveal the models.

    Concurrent votes of this process share one transaction (group commit, storage/group_commit.py); each still gets
    its own answer. With ARENA_SIGNED_IN_ONLY a vote from a visitor who has not signed in is stored but not counted.
    `leaderboard_from`: UTC time from which the (cached) leaderboard includes a counted vote, None when it already
    does; a vote never recomputes the ratings (see backend/arena/leaderboard_cache.py)."""
    winner = CHOICES.get(choice) if isinstance(choice, str) else None  # a JSON list/dict from a script too
    if winner is None:
        raise UserError(f"Unknown vote {str(choice)[:40]!r}; choose A, B, tie or bothbad.")
    if not battle_id or not isinstance(battle_id, str):
        raise UserError("Start a battle before voting.")
    b, counted, note = get_storage().write_grouped("arena-vote", _vote_batch,
                                                   _VoteRequest(battle_id, winner, session_id, username))
    labels = _labels()
    ttl = limits().cache_ttl_s
    return {"battle_id": battle_id, "winner": winner, "counted": counted, "not_counted_because": note,
            "leaderboard_from": _cache.includes_from(ttl) if counted else None, "leaderboard_ttl_s": ttl,
            "model_a": b["model_a"], "model_b": b["model_b"],
            "label_a": labels.get(b["model_a"], b["model_a"]), "label_b": labels.get(b["model_b"], b["model_b"]),
            "raw_a": b["raw_a"], "raw_b": b["raw_b"], "latency_a": b["latency_a"], "latency_b": b["latency_b"]}


def _labels() -> dict[str, str]:
    """Model name -> display label for the reveal, read from the registry (no health probes on the vote path)."""
    return {e.name: e.label or e.name for e in get_registry().entries("pointing")}


def _safe_contestants() -> list[dict]:
    try:
        return contestants()
    except Exception:  # noqa: BLE001 - labels are cosmetic after a vote
        return []


# ---------------------------------------------------------------- leaderboard

_cache = LeaderboardCache()


def _battles_frame(category: str | None) -> pd.DataFrame:
    """Every voted battle as a per-battle table (only for prompt dedup, which needs each battle's prompt)."""
    rows = get_storage().read(lambda s: repo.voted_battles(s, category))
    return formats.records_to_frame(rows) if rows else pd.DataFrame(columns=formats.BATTLE_COLUMNS + ["invalid"])


def _counts_frame(category: str | None, daily_cap: int | None) -> pd.DataFrame:
    """(model_a, model_b, winner, n) of counted votes, aggregated by the database (GROUP BY)."""
    rows = get_storage().read(lambda s: repo.outcome_counts(s, category, daily_cap))
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner", "n"])


def _vote_order_frame(category: str | None) -> pd.DataFrame:
    """Counted votes in vote order as three plain columns (online Elo needs the order, nothing else)."""
    def _r(s):
        rows = list(repo.iter_counted_votes(s, category))
        return pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])

    return get_storage().read(_r)


def _compute(method: str, category: str | None, bootstrap: int, seed: int, lim: abuse.ArenaLimits):
    """(result, pairwise counts, win fraction, total voted). The database aggregates whenever it can: BT needs only
    the (a, b, outcome) counts; online Elo streams the three columns in vote order; only prompt dedup needs rows."""
    total = get_storage().read(lambda s: repo.count_voted(s, category))
    if lim.dedup_quantile is None and method == "bt":
        counts = _counts_frame(category, lim.daily_vote_cap)
        res = ratings.compute_leaderboard_from_counts(counts, bootstrap, seed, anchor=_anchor(), reg=lim.bt_prior)
        pc, frac = (ratings.pairwise_tables_from_counts(counts, list(res["models"])) if res["models"]
                    else (None, None))
        return res, pc, frac, total
    if lim.dedup_quantile is None and not lim.daily_vote_cap:
        df = _vote_order_frame(category)
    else:
        df = _battles_frame(category)
    res = ratings.compute_leaderboard(df, method, bootstrap, seed, anchor=_anchor(), daily_cap=lim.daily_vote_cap,
                                      dedup_quantile=lim.dedup_quantile, reg=lim.bt_prior)
    counted = ratings.countable(df) if not df.empty else df
    pc, frac = ratings.pairwise_tables(counted, list(res["models"])) if len(counted) else (None, None)
    return res, pc, frac, total


def _anchor():
    return setting("ARENA_ANCHOR")


def leaderboard_report(method: str = "bt", category: str | None = None, bootstrap: int = 100, seed: int = 0,
                       fresh: bool = False) -> dict:
    """Ratings + counts + heatmap tables for one category ("overall"/None = all), cached for a short TTL."""
    if method not in ("bt", "elo"):
        raise UserError("Choose the rating method 'bt' (Bradley-Terry) or 'elo'.")
    category = None if category in (None, "", "overall") else formats.normalise_category(category)
    if category is not None and category not in formats.CATEGORIES:  # each unknown name was a new cache entry
        raise UserError(f"Unknown category; choose overall or one of {', '.join(formats.CATEGORIES)}.")
    lim = limits()
    key = (method, category, bootstrap, seed)
    hit = None if fresh else _cache.get(key, lim.cache_ttl_s)
    if hit is not None:
        return hit
    started = _cache.start()
    res, count, frac, total = _compute(method, category, bootstrap, seed, lim)
    res.update({"category": category or "overall", "updated": utcnow().isoformat(timespec="seconds") + "Z",
                "min_votes": lim.min_votes_shown, "total_votes": total, "pair_counts": count,
                "win_fraction": frac})
    _cache.put(key, started, res)
    return res


def leaderboard(method: str = "bt", category: str | None = None) -> dict:
    """{model: {rating, ci_low, ci_high, rank_ub, battles, wins, losses, ties}} (the Point-Bench panel uses this)."""
    return leaderboard_report(method, category)["models"]


def clear_cache() -> None:
    _cache.clear()


def _active_inputs():
    rep = leaderboard_report("bt", None, bootstrap=0)
    r = {m: v["rating"] for m, v in rep["models"].items()}
    pc = rep.get("pair_counts")
    counts = {} if pc is None else {(a, b): int(pc.loc[a, b]) for a in pc.index for b in pc.columns}
    return r, counts


# ---------------------------------------------------------------- import / export / admin

def _clean_record(b: dict) -> dict:
    """One stored battle as a FastChat clean_battle record plus the point fields."""
    pa, pb = b["points_a"] or {}, b["points_b"] or {}
    return {"question_id": b["id"], "model_a": b["model_a"], "model_b": b["model_b"], "winner": b["winner"],
            "judge": b["judge_id"], "anony": b["anony"], "tstamp": b["vote_tstamp"] or b["tstamp"],
            "turn": 1, "category": b["category"], "prompt": b["instruction"],
            "image_sha256": b["image_sha256"], "image_source": b["image_source"],
            "points_a": pa.get("norm"), "points_b": pb.get("norm"),
            "points_px_a": pa.get("px"), "points_px_b": pb.get("px"),
            "raw_output_a": b["raw_a"], "raw_output_b": b["raw_b"], "parse_ok_a": b["parse_ok_a"],
            "parse_ok_b": b["parse_ok_b"], "latency_a": b["latency_a"], "latency_b": b["latency_b"],
            "sampling_prob": b["sampling_prob"], "swapped": b["swapped"],
            "prompt_template": b["prompt_template"], "version_a": b["version_a"], "version_b": b["version_b"],
            "invalid": b["invalid"], "counted": b["vote_counted"], "source": b["source"]}


def iter_clean_battle(voted_only: bool = True) -> Iterator[dict]:
    """All battles as clean_battle records, streamed from the database (constant memory for a million)."""
    with get_storage().reading() as s:
        for b in repo.iter_battle_rows(s, voted_only):
            yield _clean_record(b)


@dataclass
class LeaderboardView:
    """What the Leaderboard tab shows for one method and category: the report and its CSV."""

    report: dict
    csv: str


def leaderboard_view(method: str = "bt", category: str | None = None) -> LeaderboardView:
    """The report (cached, aggregated in SQL). Every battle is exported only on request (`battles_export_file`):
    each refresh used to build all battles as one list and a JSON file (3.5 s and 15.6 MB at 20k battles)."""
    rep = leaderboard_report(method or "bt", category or "overall")
    return LeaderboardView(report=rep, csv=formats.leaderboard_csv(rep))


EXPORT_MAX_AGE_S = 60.0  # one export of every battle per minute serves everyone who asks in that minute
EXPORT_NAME = "arena-battles-clean_battle.json"
_export_lock = threading.Lock()


def battles_export_file(max_age_s: float = EXPORT_MAX_AGE_S) -> tuple[Path, float]:
    """(every voted battle as a clean_battle JSON file, its age in seconds). Streamed from the database into a
    file shared by all requests (constant memory) and rewritten at most once per `max_age_s`."""
    path = shared_dir("battles-export", lambda d: None) / EXPORT_NAME
    with _export_lock:  # one export at a time in this process; the others wait for it and reuse it
        fresh = path.is_file() and time.time() - path.stat().st_mtime <= max_age_s
        if not fresh:
            tmp = path.with_name(f".{EXPORT_NAME}.{uuid.uuid4().hex}")
            try:
                formats.write_json_stream(tmp, iter_clean_battle())
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        return path, max(0.0, time.time() - path.stat().st_mtime)


def import_battles_file(token: str | None, path: str | None, fmt: str) -> dict:
    """Admin-only import of a clean_battle / PointArena JSON file (see `import_battles`)."""
    check_admin(token)
    if not path:
        raise UserError("Choose a battles JSON file to import.")
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"The file is not valid JSON ({exc}).") from exc
    return import_battles(items, fmt)


def export_clean_battle(voted_only: bool = True) -> list[dict]:
    """All battles as FastChat clean_battle records plus the point fields."""
    return list(iter_clean_battle(voted_only))


IMPORT_CHUNK = 5_000  # battles per transaction: live votes get the database between chunks


def _import_rows(cols: dict, hashes: list[str], lo: int, hi: int, fmt: str):
    """Battle and vote rows (plain dicts, all keys present) for records lo..hi of a parsed file."""
    now = utcnow()
    ids = os.urandom(16 * (hi - lo)).hex()
    battles, votes = [], []
    for j, i in enumerate(range(lo, hi)):
        t = cols["tstamp"][i]
        when = datetime.fromtimestamp(t, tz=UTC).replace(tzinfo=None) if t else now
        judge = cols["judge"][i]
        judge = str(judge)[:64] if judge else None
        pa, pb = cols["points_a"][i], cols["points_b"][i]
        bid = ids[32 * j:32 * j + 32]
        battles.append({"id": bid, "created": when, "judge_id": judge, "image_sha256": cols["image_sha256"][i],
                        "image_source": f"import:{cols['image'][i] or ''}"[:256], "category": cols["category"][i],
                        "instruction": cols["instruction"][i], "model_a": cols["model_a"][i][:128],
                        "model_b": cols["model_b"][i][:128], "sampling_prob": cols["sampling_prob"][i],
                        "swapped": False, "anony": cols["anony"][i],
                        "points_a": {"raw": pa} if pa is not None else None,
                        "points_b": {"raw": pb} if pb is not None else None, "raw_a": cols["raw_output_a"][i],
                        "raw_b": cols["raw_output_b"][i], "parse_ok_a": pa is not None, "parse_ok_b": pb is not None,
                        "invalid": False, "source": fmt, "content_hash": hashes[i]})
        votes.append({"battle_id": bid, "created": when, "session_id": None, "judge_id": judge,
                      "winner": cols["winner"][i], "dwell_s": None, "counted": True, "note": f"imported:{fmt}"})
    return battles, votes


def import_battles(items, fmt: str, progress: Callable[[int, int], None] | None = None,
                   chunk: int = IMPORT_CHUNK) -> dict:
    """Add battles from a clean_battle or PointArena file; content already stored is skipped (by the database:
    a unique content hash and INSERT … ON CONFLICT DO NOTHING; COPY on PostgreSQL). One transaction per chunk."""
    cols = formats.battle_columns(items, fmt, full=True)
    n = len(cols["model_a"])
    hashes = formats.content_hashes(cols)
    added = 0
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        battles, votes = _import_rows(cols, hashes, lo, hi, fmt)
        qids = [str(q)[:32] for q in cols["question_id"][lo:hi] if q]

        def _w(s, battles=battles, votes=votes, qids=qids, chunk_qids=cols["question_id"][lo:hi]):
            if qids:  # our own export coming back: question_id is our battle id
                seen = repo.existing_ids(s, qids)
                if seen:
                    skip = {b["id"] for b, q in zip(battles, chunk_qids, strict=True) if q and str(q)[:32] in seen}
                    battles = [b for b in battles if b["id"] not in skip]
                    votes = [v for v in votes if v["battle_id"] not in skip]
            return repo.bulk_insert_battles(s, battles, votes)

        added += get_storage().write(_w)
        if progress:
            progress(hi, n)
    clear_cache()
    return {"read": n, "added": added, "skipped": n - added}


def check_admin(token: str | None) -> None:
    require_admin(token, "The admin view is disabled: set ADMIN_TOKEN on the server to enable it.")


def admin_report(token: str | None, alpha: float = 0.05) -> dict:
    check_admin(token)
    votes = get_storage().read(lambda s: repo.voted_battles(s))
    n = get_storage().read(repo.counts)
    return {"counts": n, "outliers": abuse.outlier_judges(votes, alpha=alpha),
            "not_counted": sum(1 for v in votes if not v["counted"]),
            "invalid": sum(1 for v in votes if v["invalid"]), "contestants": _safe_contestants()}
