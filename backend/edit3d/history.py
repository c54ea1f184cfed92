"""Undo/redo over the append-only history rows (FastChat-style: no I/O in here).

Each row is one action. `edit` and `reset` push a state (dropping any redo tail), `undo` and
`redo` move the cursor. Replaying the rows of a session and image gives the stack and cursor,
so the database alone is the source of truth and the UI never has to keep its own copy.
The app does not replay: each row stores the cursor after it, and `Position` is built from the few rows that
storage.repos.edit3d.position reads (the same answer as `replay` of every row, for any history length).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .params import EditParams


@dataclass
class HistoryState:
    states: list[dict] = field(default_factory=lambda: [{"params": EditParams().to_dict(), "selection": None,
                                                          "scene": None, "id": None}])
    cursor: int = 0

    @property
    def current(self) -> dict:
        return self.states[self.cursor]

    @property
    def can_undo(self) -> bool:
        return self.cursor > 0

    @property
    def can_redo(self) -> bool:
        return self.cursor < len(self.states) - 1


def replay(rows: list[dict]) -> HistoryState:
    st = HistoryState()
    for r in rows:
        entry = {"params": r["params"], "selection": r.get("selection"), "scene": r.get("scene"), "id": r.get("id")}
        act = r["action"]
        if act in ("edit", "reset"):
            st.states = st.states[:st.cursor + 1] + [entry]
            st.cursor += 1
        elif act == "undo" and st.can_undo:
            st.cursor -= 1
        elif act == "redo" and st.can_redo:
            st.cursor += 1
    return st


def _untouched() -> dict:
    return {"params": EditParams().to_dict(), "selection": None, "scene": None, "id": None}


@dataclass
class Position:
    """Where a history stands: the cursor, the top of the stack and the states next to the cursor."""

    cursor: int = 0
    top: int = 0
    near: dict[int, dict] = field(default_factory=dict)  # depth -> row, for cursor-1..cursor+1 (depth 0: untouched)

    @classmethod
    def from_rows(cls, pos: dict) -> Position:
        return cls(int(pos["cursor"]), int(pos["top"]), dict(pos["states"]))

    def state(self, depth: int) -> dict:
        if depth == 0:
            return _untouched()
        r = self.near[depth]
        return {"params": r["params"], "selection": r.get("selection"), "scene": r.get("scene"), "id": r.get("id")}

    @property
    def current(self) -> dict:
        return self.state(self.cursor)

    @property
    def can_undo(self) -> bool:
        return self.cursor > 0

    @property
    def can_redo(self) -> bool:
        return self.cursor < self.top
