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

import pandas as pd

from backend.arena.ratings import WINNERS
from backend.errors import UserError

POINTARENA_CSV_HEADER = ["Model", "Elo Rating", "Wins", "Losses", "Games", "Win Rate", "Lower CI", "Upper CI"]
# PointArena's folder names -> our category keys ("affordable" is shown as Affordance).
CATEGORY_ALIASES = {"affordable": "affordance", "affordance": "affordance", "counting": "counting",
                    "spatial": "spatial", "reasoning": "reasoning", "steerable": "steerable",
                    "steerability": "steerable", "user_upload": "upload", "upload": "upload"}
CATEGORIES = ["affordance", "counting", "reasoning", "spatial", "steerable", "upload"]
BATTLE_COLUMNS = ["model_a", "model_b", "winner", "judge", "anony", "tstamp", "category", "instruction",
                  "image_sha256", "sampling_prob"]


def normalise_category(value) -> str | None:
    if value is None or value == "":
        return None
    return CATEGORY_ALIASES.get(str(value).strip().lower(), str(value).strip().lower())


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
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def content_hash(rec: dict) -> str:
    """Stable identity of an imported battle, so importing the same file twice adds nothing."""
    keys = ("model_a", "model_b", "winner", "judge", "tstamp", "instruction", "image", "category")
    blob = json.dumps({k: rec.get(k) for k in keys}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


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


def load_battles_file(path: str | Path, fmt: str = "clean_battle") -> pd.DataFrame:
    """Read a battles JSON file in either format into a battles table for `ratings`."""
    p = Path(path)
    try:
        items = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"No battles file at {str(p)!r}.") from exc
    except json.JSONDecodeError as exc:
        raise UserError(f"{p.name} is not valid JSON (line {exc.lineno}: {exc.msg}).") from exc
    return records_to_frame(parse_battles(items, fmt))


def leaderboard_csv(result: dict) -> str:
    """The leaderboard in PointArena's CSV header (Elo Rating column holds the chosen method's rating)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(POINTARENA_CSV_HEADER)
    for name, r in result.get("models", {}).items():
        decided = r["wins"] + r["losses"]
        w.writerow([name, f"{r['rating']:.1f}", r["wins"], r["losses"], r["battles"],
                    f"{(r['wins'] / decided) if decided else 0:.4f}", f"{r['ci_low']:.1f}", f"{r['ci_high']:.1f}"])
    return buf.getvalue()
