"""Tools for testing code built on b2bcore (they need pytest and Hypothesis installed).

* :mod:`b2bcore.testing.strategies` — Hypothesis strategies for b2bcore's values
  and models, to property-test your own rules on top of b2bcore;
* :mod:`b2bcore.testing.contracts` — the storage contract suite every adapter runs:
  subclass :class:`~b2bcore.testing.contracts.StoreContract` and give it a ``store``
  fixture.
"""

__all__: list[str] = []
