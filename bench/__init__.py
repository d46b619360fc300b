"""Benchmarks with targets: `python -m bench` (see docs/PERFORMANCE.md)."""
