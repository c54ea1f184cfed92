"""Battle and leaderboard formats of our peers, so their tools can read our data and we can read theirs.

- FastChat `clean_battle` JSON: a list of {question_id, model_a, model_b, winner, judge, anony, tstamp, turn, ...};
  we add point fields (category, prompt, image_sha256, points_a/b normalised 0–1, raw outputs, parse_ok, latencies,
  sampling_prob, side swap).
- PointArena `dynamic_results.json`: a list of {timestamp, image_filename, object_name, category, model1_name,
  model2_name, model{1,2}_points, winning_model = <model name> | both_good | both_bad}.
- PointArena leaderboard CSV header: `Model,Elo Rating,Wins,Losses,Games,Win Rate,Lower CI,Upper CI`.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from backend.arena.vocab import CATEGORIES, CATEGORY_ALIASES, WINNERS, normalise_category, win_rate  # noqa: F401

POINTARENA_CSV_HEADER = ["Model", "Elo Rating", "Wins", "Losses", "Games", "Win Rate", "Lower CI", "Upper CI"]
BATTLE_COLUMNS = ["model_a", "model_b", "winner", "judge", "anony", "tstamp", "category", "instruction",
                  "image_sha256", "sampling_prob"]
# Everything an import keeps (BATTLE_COLUMNS + point fields); see `clean_battle_columns`.
RECORD_COLUMNS = [*BATTLE_COLUMNS, "image", "points_a", "points_b", "raw_output_a", "raw_output_b", "question_id"]
_HASH_KEYS = ("model_a", "model_b", "winner", "judge", "tstamp", "instruction", "image", "category")
_HASH_ENCODER = json.JSONEncoder(sort_keys=True, default=str)  # same text as json.dumps(sort_keys=True, default=str)


def _tstamp(value) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"Cannot read the timestamp {value!r}; use ISO 8601 or epoch seconds.") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def content_hash(rec: dict) -> str:
    """Stable identity of an imported battle, so importing the same file twice adds nothing."""
    blob = _HASH_ENCODER.encode({k: rec.get(k) for k in _HASH_KEYS})
    return hashlib.sha256(blob.encode()).hexdigest()


def content_hashes(cols: dict[str, list]) -> list[str]:
    """`content_hash` of every row of a column dict (no per-row dict of all fields)."""
    enc, sha = _HASH_ENCODER.encode, hashlib.sha256
    return [sha(enc(dict(zip(_HASH_KEYS, vals))).encode()).hexdigest()
            for vals in zip(*(cols[k] for k in _HASH_KEYS))]


def _as_str(values: list) -> list:
    return values if all(type(v) is str for v in values) else [str(v) for v in values]


def _mapped(values: list, fn) -> list:
    """fn applied once per distinct value (categories, timestamps repeat a lot)."""
    memo: dict = {}
    out = []
    for v in values:
        try:
            out.append(memo[v])
        except KeyError:
            out.append(memo.setdefault(v, fn(v)))
        except TypeError:  # unhashable
            out.append(fn(v))
    return out


def clean_battle_columns(items: list, full: bool = False) -> dict[str, list]:
    """FastChat clean_battle records -> columns (BATTLE_COLUMNS, or RECORD_COLUMNS when `full`), validated.

    One pass per column with C-level comprehensions; any malformed record sends us to `from_clean_battle`, which
    names the first bad battle. Same values as `from_clean_battle`."""
    if not isinstance(items, list):
        raise ValueError("A clean_battle file must hold a JSON list of battles.")
    try:
        cols = {"model_a": _as_str([it["model_a"] for it in items]),
                "model_b": _as_str([it["model_b"] for it in items]),
                "winner": [it["winner"] for it in items]}
        get = [it.get for it in items]
    except (KeyError, TypeError, AttributeError):
        from_clean_battle(items)  # raises with the index of the bad record
        raise
    bad = [w for w in pd.unique(np.asarray(cols["winner"], dtype=object)) if w not in WINNERS]
    if bad:
        from_clean_battle(items)
        raise ValueError(f"Unknown winner {bad[0]!r}; expected one of {', '.join(WINNERS)}.")
    cols["judge"] = [g("judge") for g in get]
    cols["anony"] = [bool(g("anony", True)) for g in get]
    ts = [g("tstamp") for g in get]
    cols["tstamp"] = ts if all(type(t) is float for t in ts) else _mapped(ts, _tstamp)
    cols["category"] = _mapped([g("category") for g in get], normalise_category)
    cols["instruction"] = [g("prompt") or g("instruction") for g in get]
    cols["image_sha256"] = [g("image_sha256") for g in get]
    cols["sampling_prob"] = [g("sampling_prob") for g in get]
    if full:
        cols["image"] = [g("image_sha256") or g("image_filename") for g in get]
        for k in ("points_a", "points_b", "raw_output_a", "raw_output_b", "question_id"):
            cols[k] = [g(k) for g in get]
    return cols


def battle_columns(items, fmt: str, full: bool = False) -> dict[str, list]:
    """Parsed battles of either format as columns (see `clean_battle_columns`)."""
    if fmt == "clean_battle":
        return clean_battle_columns(items, full)
    recs = parse_battles(items, fmt)
    return {c: [r.get(c) for r in recs] for c in (RECORD_COLUMNS if full else BATTLE_COLUMNS)}


def read_json(path: str | Path):
    """Decode a JSON file once with orjson; clear messages for a missing or broken file."""
    p = Path(path)
    try:
        return orjson.loads(p.read_bytes())
    except FileNotFoundError as exc:
        raise ValueError(f"No battles file at {str(p)!r}.") from exc
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{p.name} is not valid JSON (line {exc.lineno}: {exc.msg}).") from exc


def from_clean_battle(items: list) -> list[dict]:
    """FastChat clean_battle records -> our battle records (validated)."""
    if not isinstance(items, list):
        raise ValueError("A clean_battle file must hold a JSON list of battles.")
    out = []
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not {"model_a", "model_b", "winner"} <= it.keys():
            raise ValueError(f"Battle #{i + 1} lacks model_a, model_b or winner.")
        if it["winner"] not in WINNERS:
            raise ValueError(f"Battle #{i + 1} has winner {it['winner']!r}; expected one of {', '.join(WINNERS)}.")
        rec = {"model_a": str(it["model_a"]), "model_b": str(it["model_b"]), "winner": it["winner"],
               "judge": it.get("judge"), "anony": bool(it.get("anony", True)), "tstamp": _tstamp(it.get("tstamp")),
               "category": normalise_category(it.get("category")),
               "instruction": it.get("prompt") or it.get("instruction"),
               "image": it.get("image_sha256") or it.get("image_filename"),
               "image_sha256": it.get("image_sha256"), "sampling_prob": it.get("sampling_prob"),
               "points_a": it.get("points_a"), "points_b": it.get("points_b"),
               "raw_output_a": it.get("raw_output_a"), "raw_output_b": it.get("raw_output_b"),
               "question_id": it.get("question_id")}
        out.append(rec)
    return out


def from_pointarena(items: list) -> list[dict]:
    """PointArena dynamic_results.json -> our battle records; both_good = tie, both_bad = tie (bothbad)."""
    if not isinstance(items, list):
        raise ValueError("A PointArena results file must hold a JSON list of votes.")
    out = []
    for i, it in enumerate(items):
        try:
            m1, m2, win = str(it["model1_name"]), str(it["model2_name"]), it["winning_model"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"Vote #{i + 1} lacks model1_name, model2_name or winning_model.") from exc
        if win == m1:
            winner = "model_a"
        elif win == m2:
            winner = "model_b"
        elif win == "both_good":
            winner = "tie"
        elif win == "both_bad":
            winner = "tie (bothbad)"
        else:
            raise ValueError(f"Vote #{i + 1} names winner {win!r}, which is neither model nor both_good/both_bad.")
        out.append({"model_a": m1, "model_b": m2, "winner": winner, "judge": None, "anony": True,
                    "tstamp": _tstamp(it.get("timestamp")), "category": normalise_category(it.get("category")),
                    "instruction": it.get("object_name"), "image": it.get("image_filename"), "image_sha256": None,
                    "sampling_prob": None, "points_a": it.get("model1_points"), "points_b": it.get("model2_points"),
                    "raw_output_a": None, "raw_output_b": None, "question_id": None})
    return out


def parse_battles(items, fmt: str) -> list[dict]:
    if fmt == "clean_battle":
        return from_clean_battle(items)
    if fmt == "pointarena":
        return from_pointarena(items)
    raise ValueError(f"Unknown battles format {fmt!r}; use clean_battle or pointarena.")


def records_to_frame(records: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(records)
    for col in BATTLE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    return df


def load_battles_file(path: str | Path, fmt: str = "clean_battle") -> pd.DataFrame:
    """Read a battles JSON file in either format into a battles table for `ratings` (decoded once, by columns)."""
    items = read_json(path)
    cols = battle_columns(items, fmt)
    del items
    return pd.DataFrame(cols, columns=BATTLE_COLUMNS)


def leaderboard_csv(result: dict) -> str:
    """The leaderboard in PointArena's CSV header (Elo Rating column holds the chosen method's rating)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(POINTARENA_CSV_HEADER)
    for name, r in result.get("models", {}).items():
        w.writerow([name, f"{r['rating']:.1f}", r["wins"], r["losses"], r["battles"], f"{win_rate(r) or 0:.4f}",
                    f"{r['ci_low']:.1f}", f"{r['ci_high']:.1f}"])
    return buf.getvalue()
