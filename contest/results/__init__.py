"""Results: the ranking rule, prizes, statistics."""
