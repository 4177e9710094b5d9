"""Benchmarks: ``python -m tests.benchmarks [area ...]`` prints figure vs target. Not part of the suite."""
