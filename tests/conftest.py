"""Shared test configuration: Hypothesis profiles.

``dev`` (the default) runs few examples for a fast edit-test loop; ``ci`` runs more
and is what ``make test`` selects (``HYPOTHESIS_PROFILE=ci``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
