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
import math
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter, itemgetter, methodcaller
from pathlib import Path
from typing import Any, Literal

import msgspec
import numpy as np
import orjson
import pandas as pd

from backend.arena.vocab import CATEGORIES, CATEGORY_ALIASES, WINNERS, normalise_category, win_rate  # noqa: F401
from backend.errors import UserError

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
        raise UserError(f"Cannot read the timestamp {value!r}; use ISO 8601 or epoch seconds.") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def content_hash(rec: dict) -> str:
    """Stable identity of an imported battle, so importing the same file twice adds nothing."""
    blob = _HASH_ENCODER.encode({k: rec.get(k) for k in _HASH_KEYS})
    return hashlib.sha256(blob.encode()).hexdigest()


_SORTED_HASH_KEYS = sorted(_HASH_KEYS)
_HASH_FORMAT = "{" + ", ".join(f'"{k}": %s' for k in _SORTED_HASH_KEYS) + "}"
_esc = json.encoder.encode_basestring_ascii  # what json.dumps uses for str with ensure_ascii (the default)


def _json_value(v) -> str:
    """json.dumps(v, default=str) for one value, fast for the common exact types; anything else goes through the
    same encoder as `content_hash`, so both functions give the same text."""
    t = type(v)
    if t is str:
        return _esc(v)
    if v is None:
        return "null"
    if t is float and math.isfinite(v):
        return float.__repr__(v)
    if t is int:
        return int.__repr__(v)
    return _HASH_ENCODER.encode(v)


def content_hashes(cols: dict[str, list]) -> list[str]:
    """`content_hash` of every row of a column dict, column-wise (one JSON value encoding per cell, no dicts)."""
    enc = [list(map(_json_value, cols[k])) for k in _SORTED_HASH_KEYS]
    sha = hashlib.sha256
    return [sha((_HASH_FORMAT % vals).encode()).hexdigest() for vals in zip(*enc, strict=True)]


def _as_str(values: list) -> list:
    return values if set(map(type, values)) <= {str} else [str(v) for v in values]


def _opt(items: list, key: str, default=None) -> list:
    """items[i].get(key, default) for every record, at C speed."""
    return list(map(methodcaller("get", key, default), items))


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


def clean_battle_columns(items: list, full: bool = False, columns=None) -> dict[str, list]:
    """FastChat clean_battle records -> columns (BATTLE_COLUMNS, or RECORD_COLUMNS when `full`, or just `columns`
    plus model_a/model_b/winner), validated. Same values as `from_clean_battle`.

    One C-level pass (map + itemgetter) per column; any malformed record sends us to `from_clean_battle`, which
    names the first bad battle."""
    if not isinstance(items, list):
        raise UserError("A clean_battle file must hold a JSON list of battles.")
    want = set(RECORD_COLUMNS if full else BATTLE_COLUMNS) if columns is None else set(columns)
    try:
        cols = {"model_a": _as_str(list(map(itemgetter("model_a"), items))),
                "model_b": _as_str(list(map(itemgetter("model_b"), items))),
                "winner": list(map(itemgetter("winner"), items))}
    except (KeyError, TypeError):
        from_clean_battle(items)  # raises with the index of the bad record
        raise
    bad = [w for w in pd.unique(np.asarray(cols["winner"], dtype=object)) if w not in WINNERS]
    if bad:
        from_clean_battle(items)
        raise UserError(f"Unknown winner {bad[0]!r}; expected one of {', '.join(WINNERS)}.")
    return _optional_columns(cols, want, lambda key, default=None: _opt(items, key, default))


def _optional_columns(cols: dict[str, list], want: set, get) -> dict[str, list]:
    """The wanted columns besides model_a/model_b/winner, from `get(key, default)` -> that field of every record
    (records as dicts or as decoded structs): the same values either way."""
    if "judge" in want:
        cols["judge"] = get("judge")
    if "anony" in want:
        an = get("anony", True)
        cols["anony"] = an if set(map(type, an)) <= {bool} else [bool(v) for v in an]
    if "tstamp" in want:
        ts = get("tstamp")
        cols["tstamp"] = ts if set(map(type, ts)) <= {float} else _mapped(ts, _tstamp)
    if "category" in want:
        cols["category"] = _mapped(get("category"), normalise_category)
    if "instruction" in want:
        cols["instruction"] = [p or i for p, i in zip(get("prompt"), get("instruction"), strict=True)]
    for k in ("image_sha256", "sampling_prob", "points_a", "points_b", "raw_output_a", "raw_output_b", "question_id"):
        if k in want:
            cols[k] = get(k)
    if "image" in want:
        shas, files = get("image_sha256"), get("image_filename")
        cols["image"] = [s or f for s, f in zip(shas, files, strict=True)]
    return cols


# Typed decoding (msgspec): the JSON text goes straight into small structs holding only the fields a command
# uses; every other field of a record is skipped without building a Python object. Field -> msgspec type.
_TYPED_FIELDS: dict[str, Any] = {"anony": bool, "judge": Any, "tstamp": Any, "category": Any, "prompt": Any,
                                 "instruction": Any, "image_sha256": Any, "sampling_prob": Any}
_TYPED_NEEDS = {"anony": ("anony",), "judge": ("judge",), "tstamp": ("tstamp",), "category": ("category",),
                "instruction": ("prompt", "instruction"), "image_sha256": ("image_sha256",),
                "sampling_prob": ("sampling_prob",)}


@lru_cache(maxsize=16)
def _typed_decoder(fields: tuple[str, ...]) -> msgspec.json.Decoder:
    winner = Literal[WINNERS]  # type: ignore[valid-type]
    spec: list = [("model_a", str), ("model_b", str), ("winner", winner)]
    spec += [(f, _TYPED_FIELDS[f], True if f == "anony" else None) for f in fields]
    record = msgspec.defstruct("CleanBattle", spec, gc=False)  # no GC tracking: a million of them
    return msgspec.json.Decoder(list[record])  # type: ignore[valid-type]


def read_clean_battle_columns(path: str | Path, columns=None) -> dict[str, list]:
    """`clean_battle_columns(read_json(path), columns=columns)`, decoded by type: only model_a, model_b, winner and
    the fields behind `columns` become Python objects (names must be strings, winners one of WINNERS, anony a
    boolean). A file outside that fast form (or broken) goes through `read_json` + `clean_battle_columns`, which
    accept every form they accept and name the first bad record, so both give the same columns or the same error."""
    want = set(BATTLE_COLUMNS if columns is None else columns) - {"model_a", "model_b", "winner"}
    if not want <= _TYPED_NEEDS.keys():
        return clean_battle_columns(read_json(path), columns=columns)
    fields = tuple(sorted({f for c in want for f in _TYPED_NEEDS[c]}))
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise UserError(f"No battles file at {str(path)!r}.") from exc
    try:
        items = _typed_decoder(fields).decode(raw)
    except msgspec.DecodeError:  # includes ValidationError
        del raw
        return clean_battle_columns(read_json(path), columns=columns)
    del raw
    cols = {k: list(map(attrgetter(k), items)) for k in ("model_a", "model_b", "winner")}
    return _optional_columns(cols, want, lambda key, default=None: list(map(attrgetter(key), items)))


def read_battle_columns(path: str | Path, fmt: str = "clean_battle", columns=None) -> dict[str, list]:
    """A battles file of either format as columns (`battle_columns`), decoded once."""
    if fmt == "clean_battle":
        return read_clean_battle_columns(path, columns)
    return battle_columns(read_json(path), fmt, columns=columns)


def battle_columns(items, fmt: str, full: bool = False, columns=None) -> dict[str, list]:
    """Parsed battles of either format as columns (see `clean_battle_columns`)."""
    if fmt == "clean_battle":
        return clean_battle_columns(items, full, columns)
    recs = parse_battles(items, fmt)
    want = (RECORD_COLUMNS if full else BATTLE_COLUMNS) if columns is None else ["model_a", "model_b", "winner",
                                                                                  *columns]
    return {c: [r.get(c) for r in recs] for c in dict.fromkeys(want)}


def read_json(path: str | Path):
    """Decode a JSON file once with orjson; clear messages for a missing or broken file."""
    p = Path(path)
    try:
        return orjson.loads(p.read_bytes())
    except FileNotFoundError as exc:
        raise UserError(f"No battles file at {str(p)!r}.") from exc
    except orjson.JSONDecodeError as exc:
        raise UserError(f"{p.name} is not valid JSON (line {exc.lineno}: {exc.msg}).") from exc


def from_clean_battle(items: list) -> list[dict]:
    """FastChat clean_battle records -> our battle records (validated)."""
    if not isinstance(items, list):
        raise UserError("A clean_battle file must hold a JSON list of battles.")
    out = []
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not {"model_a", "model_b", "winner"} <= it.keys():
            raise UserError(f"Battle #{i + 1} lacks model_a, model_b or winner.")
        if it["winner"] not in WINNERS:
            raise UserError(f"Battle #{i + 1} has winner {it['winner']!r}; expected one of {', '.join(WINNERS)}.")
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
        raise UserError("A PointArena results file must hold a JSON list of votes.")
    out = []
    for i, it in enumerate(items):
        try:
            m1, m2, win = str(it["model1_name"]), str(it["model2_name"]), it["winning_model"]
        except (KeyError, TypeError) as exc:
            raise UserError(f"Vote #{i + 1} lacks model1_name, model2_name or winning_model.") from exc
        if win == m1:
            winner = "model_a"
        elif win == m2:
            winner = "model_b"
        elif win == "both_good":
            winner = "tie"
        elif win == "both_bad":
            winner = "tie (bothbad)"
        else:
            raise UserError(f"Vote #{i + 1} names winner {win!r}, which is neither model nor both_good/both_bad.")
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
    raise UserError(f"Unknown battles format {fmt!r}; use clean_battle or pointarena.")


def records_to_frame(records: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(records)
    for col in BATTLE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    return df


def load_battles_file(path: str | Path, fmt: str = "clean_battle", columns=None) -> pd.DataFrame:
    """Read a battles JSON file in either format into a battles table for `ratings` (decoded once, by columns).

    `columns`: only these (besides model_a, model_b, winner), e.g. ["anony"] when nothing else is used."""
    return pd.DataFrame(read_battle_columns(path, fmt, columns))


def leaderboard_csv(result: dict) -> str:
    """The leaderboard in PointArena's CSV header (Elo Rating column holds the chosen method's rating). Win Rate is
    wins / (wins + losses) as in the tab; a model with only ties and both-bad votes has none (an empty cell, the
    tab's "–"), not 0."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(POINTARENA_CSV_HEADER)
    for name, r in result.get("models", {}).items():
        wr = win_rate(r)
        w.writerow([name, f"{r['rating']:.1f}", r["wins"], r["losses"], r["battles"],
                    "" if wr is None else f"{wr:.4f}", f"{r['ci_low']:.1f}", f"{r['ci_high']:.1f}"])
    return buf.getvalue()


def write_json_stream(path: str | Path, records) -> int:
    """A JSON list written record by record (orjson), so a million battles never sit in memory at once."""
    n = 0
    with open(path, "wb") as fh:
        fh.write(b"[")
        for rec in records:
            fh.write(b",\n" if n else b"\n")
            fh.write(orjson.dumps(rec, option=orjson.OPT_NON_STR_KEYS))
            n += 1
        fh.write(b"\n]\n")
    return n
