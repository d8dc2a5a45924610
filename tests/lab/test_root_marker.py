"""The `root` marker: without root a test skips with its reason, but in CI (CI=true) it fails the run, never
skips."""

import os
import subprocess
import sys

import pytest

from .conftest import ROOT

INNER = """
import pytest

@pytest.mark.root
def test_needs_root():
    pass
"""


@pytest.mark.parametrize("ci, outcome", [("true", "1 error"), ("", "1 skipped")])
def test_a_root_test_without_root(tmp_path, ci, outcome):
    (tmp_path / "not_root.py").write_text("import os\nos.geteuid = lambda: 1000\n")
    (tmp_path / "test_inner.py").write_text(INNER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]), "CI": ci}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfs", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "-p", "not_root", "-p", "tests.conftest", "-o", "markers=root: needs root",
                           str(tmp_path / "test_inner.py")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert outcome in done.stdout, done.stdout + done.stderr
    assert done.returncode == (1 if ci else 0)  # in CI it fails the run (at setup, before any fixture needs root)
    assert "needs root (network namespaces, addresses)" in done.stdout
    if ci:
        assert "CI (CI=true) must run it" in done.stdout
