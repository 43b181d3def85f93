"""Benchmarks of lamina-notebook against the offline sandbox on loopback (``python -m benchmarks``).

One module per figure of issue 7; ``_harness`` holds the shared table, statistics and JSON code.
Every figure is a ratio or a side-by-side comparison measured in the same run.
"""
