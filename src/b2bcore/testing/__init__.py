"""Tools for testing code built on b2bcore.

* :mod:`b2bcore.testing.strategies` — Hypothesis strategies for b2bcore's values
  and models (needs Hypothesis installed).
"""

__all__: list[str] = []
