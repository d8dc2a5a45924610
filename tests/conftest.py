import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def pytest_collection_modifyitems(config, items):
    """Root-only tests skip without root, but in CI (CI=true) they must run, so there they fail instead."""
    if os.geteuid() == 0:
        return
    in_ci = os.environ.get("CI") == "true"
    for item in items:
        if "root" in item.keywords:
            if in_ci:
                item.user_properties.append(("needs_root", True))
            else:
                item.add_marker(pytest.mark.skip(reason="needs root (network namespaces, addresses)"))


def pytest_runtest_setup(item):
    """In CI a root-only test that cannot run as root fails: CI must run it, so skipping would hide it."""
    if ("needs_root", True) in item.user_properties:
        pytest.fail("needs root (network namespaces, addresses), and CI (CI=true) must run it: run CI as root",
                    pytrace=False)
