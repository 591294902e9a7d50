"""One way for a test to skip: never silently in CI.

A test that cannot run here (no browser, no real-world stores, a library missing)
calls `skip_or_fail`. With LABBOOK_REQUIRE_ALL=1 (set by .ci/run) that is a failure,
so CI never passes on tests it did not run.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def skip_or_fail(reason: str, switch: str = "LABBOOK_REQUIRE_ALL") -> NoReturn:
    """Skips the test, or fails it when `switch` or LABBOOK_REQUIRE_ALL is set to 1."""
    for name in dict.fromkeys((switch, "LABBOOK_REQUIRE_ALL")):
        if os.environ.get(name) == "1":
            pytest.fail(f"{reason} ({name}=1 makes this a failure)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)  # no LABBOOK_REQUIRE_* switch is set
