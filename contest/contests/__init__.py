"""Contests, rounds, registration, the draw, attempts and the clock."""
