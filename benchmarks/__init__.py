"""numpynn's benchmark suite against PyTorch, scikit-learn and a per-sample backprop loop.

Run ``python -m benchmarks.run`` (full, about 8 minutes) or ``python -m benchmarks.run --smoke``
(seconds); see benchmarks/RESULTS.md.
"""
