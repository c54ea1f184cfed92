"""`python -m backend.arena.transfer import|export|export-leaderboard`: the command line is in backend/arena/cli.py
(`transfer_main`); this module only keeps the documented entry point."""
from __future__ import annotations

from backend.arena.cli import transfer_main

if __name__ == "__main__":
    raise SystemExit(transfer_main())
