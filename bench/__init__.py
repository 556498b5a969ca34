"""Benchmark scripts and readers for published instance sets; kept apart from the dispatch core."""
