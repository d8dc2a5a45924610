"""The bundle as a node runs it: `python3 -I BUNDLE.pyz ...` with nothing else installed."""

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, run_bundle



def find_python39():
    """A working Python 3.9, what the oldest nodes run (a pyenv shim may exist and still not run)."""
    candidates = [str(path) for path in sorted(Path.home().glob(".pyenv/versions/3.9*/bin/python3"))]
    candidates.append(shutil.which("python3.9") or "")
    for candidate in filter(None, candidates):
        try:
            probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 9))"],
                                   capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if probe.stdout.strip() == "True":
            return candidate
    return None


PYTHON39 = find_python39()


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    """A fresh virtualenv with no packages at all: not even pip, let alone jinja2 or pyroute2."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python3")
    probe = subprocess.run([python, "-I", "-c", "import pyroute2"], capture_output=True, text=True)
    assert probe.returncode != 0, "the fresh virtualenv must not have pyroute2"
    return python


def test_info_runs_in_a_bare_virtualenv(two_node_bundle, bare_python, tmp_path):
    done = run_bundle(two_node_bundle, "info", "--node", "alpha", python=bare_python, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert "cluster   payments" in out
    assert "compiler  halang 0.1.0" in out
    assert "nodes     alpha, bravo" in out
    assert "node alpha (cluster payments)" in out
    assert "en0 10.10.1.11 <-> en0 10.10.1.12 port 7400  (net_ether_01, 10.10.1.0/24)" in out
    assert "rs232   /dev/ttyS1 <-> /dev/ttyS1  (hb_serial)" in out
    assert "ledger         1 of 2 (home)" in out


def test_info_json_is_the_manifest_and_the_plan(two_node_bundle, bare_python):
    done = run_bundle(two_node_bundle, "info", "--node", "bravo", "--json", python=bare_python)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["manifest"]["cluster"] == "payments"
    assert data["plan"]["node"] == "bravo"


def test_the_bundle_imports_pyroute2_from_itself(two_node_bundle, bare_python):
    code = f"import sys; sys.path.insert(0, {str(two_node_bundle)!r}); import pyroute2; print(pyroute2.__file__)"
    done = subprocess.run([bare_python, "-I", "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(two_node_bundle))


def test_run_without_the_key_file_starts_nothing_and_says_why(two_node_bundle, bare_python, tmp_path):
    missing = tmp_path / "no.key"
    done = run_bundle(two_node_bundle, "run", "--node", "alpha", "--state-dir", str(tmp_path),
                      "--key-file", str(missing), python=bare_python)
    assert done.returncode == 3
    assert f"cannot read the key file {missing}" in done.stderr and "nothing was started" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_with_a_malformed_device_option_is_a_usage_error(two_node_bundle, tmp_path):
    done = run_bundle(two_node_bundle, "run", "--node", "alpha", "--state-dir", str(tmp_path), "--device", "hb")
    assert done.returncode == 2 and "LINK=PATH" in done.stderr


def test_verify_checks_every_member(two_node_bundle, bare_python):
    done = run_bundle(two_node_bundle, "verify", python=bare_python)
    assert done.returncode == 0, done.stderr
    assert "members match the manifest" in done.stdout


def test_an_unknown_node_is_named_not_a_traceback(two_node_bundle):
    for command in (["info", "--node", "zulu"], ["run", "--node", "zulu"]):
        done = run_bundle(two_node_bundle, *command)
        assert done.returncode == 2
        assert "cluster payments has no node 'zulu' (nodes: alpha, bravo)" in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.skipif(PYTHON39 is None, reason="no Python 3.9 interpreter here")
def test_info_runs_on_python_3_9(two_node_bundle):
    done = run_bundle(two_node_bundle, "info", "--node", "alpha", python=PYTHON39)
    assert done.returncode == 0, done.stderr
    assert "heartbeat paths (3)" in done.stdout
    imported = subprocess.run([PYTHON39, "-I", "-c", f"import sys; sys.path.insert(0, {str(two_node_bundle)!r}); "
                               "import runtime, pyroute2"], capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stderr


@pytest.mark.parametrize("module", ["runtime/node/bundle.py", "runtime/__main__.py"])
def test_node_side_code_parses_as_python_3_9(module):
    source = (ROOT / module).read_text()
    ast.parse(source, feature_version=(3, 9))
    stub = (ROOT / "halang/compile/templates/bundle_main.py").read_text()
    ast.parse(stub, feature_version=(3, 6))  # it must get far enough to say "needs 3.9" on older ones


# The bundle's main, run as `python3 BUNDLE.pyz` runs it; it then says it returned and waits for a line
# on stdin before the interpreter exits, so the test can close the reading end in between.
RETURN_THEN_EXIT = """
import sys
sys.path.insert(0, sys.argv[1])
from runtime.__main__ import main
code = main(["--bundle", sys.argv[1], "info", "--node", "alpha", "--json"])
sys.stderr.write("returned\\n")
sys.stderr.flush()
sys.stdin.readline()
sys.exit(code)
"""


def test_info_leaves_nothing_for_the_interpreter_to_write_at_exit(two_node_bundle):
    child = subprocess.Popen([sys.executable, "-I", "-c", RETURN_THEN_EXIT, str(two_node_bundle)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stderr.readline() == b"returned\n"
    assert child.stdout.read1(100).startswith(b"{")
    child.stdout.close()  # the reader goes away, like `head` after its lines
    child.stdin.write(b"\n")
    child.stdin.close()
    assert child.wait(timeout=60) == 0
    assert child.stderr.read() == b""


def test_info_to_a_reader_gone_before_it_writes_exits_0_quietly(two_node_bundle):
    child = subprocess.Popen([sys.executable, "-I", str(two_node_bundle), "info", "--node", "alpha", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()
    assert child.wait(timeout=60) == 0
    assert child.stderr.read() == b""


def test_info_into_head_never_breaks(two_node_bundle):
    # The race of `| head -20`: head may exit while the bundle still writes. Run it often enough to meet it.
    script = (f'for i in $(seq 1 40); do "{sys.executable}" -I "{two_node_bundle}" info --node alpha --json '
              '| head -20 >/dev/null; echo "${PIPESTATUS[0]}"; done')
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300)
    assert set(result.stdout.split()) == {"0"}
    assert result.stderr == ""
