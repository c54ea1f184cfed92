"""Command lines of the arena, one module each, so a command imports only what it needs (the ratings CLI never
loads the database layer). The modules they drive stay free of argument parsing and printing.

    python -m backend.arena.ratings --battles clean_battle.json [--method bt|elo] [--bootstrap 100]
    python -m backend.arena.transfer import battles.json [--format clean_battle|pointarena]
    python -m backend.arena.transfer export --out battles.json
    python -m backend.arena.transfer export-leaderboard --out lb.csv [--method bt|elo] [--category overall]
"""
