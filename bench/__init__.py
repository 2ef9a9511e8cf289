"""Benchmarks: speed and memory targets live here, never in the test suite."""
