"""Speed and scale benchmarks: `python -m benchmarks.run` (see run.py for options, RESULTS.md for results).

Not part of the test suite. Built corpora and indexes are cached under var/bench/ (git-ignored).
"""
