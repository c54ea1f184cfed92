"""The one exception family whose message is written for the person using the app.

`apps.common.user_errors` shows a `UserError`'s message as it is (the user can act on it: a wrong file, an
empty prompt, a model that is unavailable here, a limit reached). Any other exception is a bug or an
environment failure: the user gets a generic sentence and the details go to the log. So raise `UserError` (or
a subclass) exactly when the message tells the user what to change, and a plain exception otherwise.

It subclasses ValueError so existing `except ValueError` callers (CLIs, the HTTP pointer server) keep working.
"""
from __future__ import annotations


class UserError(ValueError):
    """A problem the user can fix; the message says how, in one sentence."""


class NotAllowed(UserError, PermissionError):
    """The request is refused (wrong admin token, banned network, rate limit); the message says why."""


def shown_fragment(text: object, limit: int = 24) -> str:
    """A piece of user text as a `UserError` message may quote it: printable characters only (no control, bidi
    or zero-width characters), no markup characters (``<>&"'`` and the backtick), at most `limit` characters,
    then "…"; "" when nothing is left."""
    text = str(text)
    kept = "".join(ch for ch in text[:8 * limit] if ch.isprintable() and ch not in "<>&\"'`")
    return kept[:limit].strip() + ("…" if len(kept) > limit or len(text) > 8 * limit else "")

