"""The arena's vocabulary, defined once: vote outcomes, categories and how a leaderboard row reads.

Formats (import/export), storage (what a stored vote may say), the ratings maths, the Point-Bench code and the
UI all import these names, so a new category or outcome is added in one place.

- Outcomes follow FastChat's `clean_battle` files: "model_a", "model_b", "tie", "tie (bothbad)"; a tie and a
  both-bad vote count as half a win for each side.
- Categories have two spellings: Point-Bench data keys (PointArena's folder names, "affordable") and arena keys
  ("affordance", plus "upload" for people's own photos). `normalise_category` maps either to the arena key,
  `bench_category` to the Point-Bench key.
"""
from __future__ import annotations

# ---------------------------------------------------------------- outcomes

WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
OUTCOME = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}
# What a client may send as its choice -> the stored winner.
CHOICES = {"A": "model_a", "B": "model_b", "tie": "tie", "bothbad": "tie (bothbad)",
           "model_a": "model_a", "model_b": "model_b", "tie (bothbad)": "tie (bothbad)", "both_bad": "tie (bothbad)"}
VERDICTS = {"model_a": "A is better", "model_b": "B is better", "tie": "a tie", "tie (bothbad)": "both bad"}

# ---------------------------------------------------------------- categories

BENCH_CATEGORIES = ("affordable", "spatial", "counting", "steerable", "reasoning")  # Point-Bench keys, site order
CATEGORIES = ("affordance", "counting", "reasoning", "spatial", "steerable", "upload")  # arena keys
CATEGORY_ALIASES = {"affordable": "affordance", "affordance": "affordance", "counting": "counting",
                    "spatial": "spatial", "reasoning": "reasoning", "steerable": "steerable",
                    "steerability": "steerable", "user_upload": "upload", "upload": "upload"}
_BENCH_KEY = {"affordance": "affordable", "steerability": "steerable"}
CATEGORY_LABELS = {"affordance": "Affordance", "affordable": "Affordance", "spatial": "Spatial",
                   "counting": "Counting", "steerable": "Steerability", "reasoning": "Reasoning",
                   "upload": "Your upload"}
# Leaderboard dropdown: (label, arena key), "overall" first.
CATEGORY_CHOICES = [("Overall", "overall"), ("Spatial", "spatial"), ("Affordance", "affordance"),
                    ("Counting", "counting"), ("Steerability", "steerable"), ("Reasoning", "reasoning"),
                    ("Uploads", "upload")]


def normalise_category(value) -> str | None:
    """Either spelling (any case) -> the arena key; unknown names pass through lower-cased; empty -> None."""
    if value is None or value == "":
        return None
    key = str(value).strip().lower()
    return CATEGORY_ALIASES.get(key, key)


def bench_category(value) -> str:
    """Either spelling -> the Point-Bench key ("affordance" -> "affordable"); unknown names lower-cased."""
    key = str(value or "").strip().lower()
    return _BENCH_KEY.get(key, key)


def category_label(key: str | None) -> str:
    if not key or key == "overall":
        return "Overall"
    return CATEGORY_LABELS.get(key, str(key).title())


# ---------------------------------------------------------------- leaderboard rows

def plural(n: int, word: str) -> str:
    """'1 counted vote', '2 counted votes'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def win_rate(r: dict) -> float | None:
    decided = r["wins"] + r["losses"]
    return r["wins"] / decided if decided else None


def ci_text(r: dict, digits: int = 1) -> str:
    """FastChat's `+upper/-lower` CI text."""
    return f"+{r['ci_high'] - r['rating']:.{digits}f}/-{r['rating'] - r['ci_low']:.{digits}f}"


def leaderboard_row(name: str, r: dict, min_votes: int = 0) -> dict:
    """One model's leaderboard row, the same for the CLI, the CSV/JSON exports and the UI.

    Below `min_votes` counted votes the rank is provisional (`provisional=True`); the UI then shows no CI."""
    wr = win_rate(r)
    return {"rank_ub": r["rank_ub"], "model": name, "rating": round(r["rating"], 1), "ci": ci_text(r),
            "ci_low": round(r["ci_low"], 1), "ci_high": round(r["ci_high"], 1), "votes": r["battles"],
            "wins": r["wins"], "losses": r["losses"], "ties": r["ties"],
            "win_rate": round(wr, 3) if wr is not None else None, "provisional": r["battles"] < min_votes}


LEADERBOARD_COLUMNS = ["rank_ub", "model", "rating", "ci", "ci_low", "ci_high", "votes", "wins", "losses", "ties",
                       "win_rate", "provisional"]


# ---------------------------------------------------------------- Point-Bench result rows

POINTER_ERROR = "Pointer error"  # an item's `reason` starts with this when its pointer gave an error and no point


def failed_run(items) -> bool:
    """True when no item of a Point-Bench run got a prediction: every item has no point and a pointer error (a
    pointer whose weights were missing, a dead endpoint, a predictions file for another bench). Such a run's 0 %
    measures the setup, not the model, so it is never shown as the model's score. A run without stored items
    cannot be judged and counts as not failed."""
    if not isinstance(items, list) or not items:
        return False
    return all(isinstance(it, dict) and not it.get("points") and not it.get("points_count")
               and str(it.get("reason") or "").startswith(POINTER_ERROR) for it in items)
