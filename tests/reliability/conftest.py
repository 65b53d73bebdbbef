"""Reliability fixtures: the e2e fake Discord and launcher on the import path, and the hypothesis profile.

The end-to-end helpers are imported by name (``fake_discord``, ``harness``), as tests/e2e does, plus this
directory's ``rigs``. Property tests use the ``reliability`` profile: RELIABILITY_MAX_EXAMPLES=2000 digs deeper.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

HERE = Path(__file__).parent
for directory in (HERE.parent / "e2e", HERE):  # --import-mode=importlib puts no test directory on sys.path
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))

settings.register_profile(
    "reliability",
    max_examples=int(os.environ.get("RELIABILITY_MAX_EXAMPLES", "60")),
    deadline=None,  # a first call may build caches; speed is asserted where it matters, not per example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=os.environ.get("RELIABILITY_RANDOM") is None,  # the same examples on every run unless asked
)
