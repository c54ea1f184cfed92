"""Point-Battle arena: matchmaking, ratings (pure functions), battles service, Point-Bench evaluation."""
