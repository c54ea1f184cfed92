"""`python -m backend.arena.transfer import|export|export-leaderboard`: the command line is
backend/arena/cli/transfer.py; this module only keeps the documented entry point."""
from __future__ import annotations

from backend.arena.cli.transfer import main

if __name__ == "__main__":
    raise SystemExit(main())
