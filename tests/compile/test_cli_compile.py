"""`halang compile FILE -o DIR` through the command line (skipped until cli.py wires the command)."""

import pytest

from halang.cli import build_parser, main

from .conftest import TWO_NODE

DUPLICATE = 'cluster c {\n  heartbeat { key_file = "/etc/halang/k.key" }\n  node a { }\n  node a { }\n}\n'

pytestmark = pytest.mark.skipif(
    "compile" not in build_parser()._subparsers._group_actions[0].choices,  # noqa: SLF001
    reason="halang compile is not wired into cli.py yet")


def test_compile_prints_the_bundle_path_and_exits_0(tmp_path, capsys):
    assert main(["compile", str(TWO_NODE), "-o", str(tmp_path)]) == 0
    [bundle] = tmp_path.glob("payments-*.pyz")
    assert capsys.readouterr().out.strip() == str(bundle)


def test_compile_refuses_a_file_with_errors_with_verify_findings(tmp_path, capsys):
    bad = tmp_path / "bad.ha"
    bad.write_text(DUPLICATE)
    assert main(["compile", str(bad), "-o", str(tmp_path / "out"), "--no-color"]) == 1
    captured = capsys.readouterr()
    assert f"{bad}:4:8: error[HA101]: node 'a' is defined twice" in captured.out + captured.err
    assert "not compiled" in captured.err
    assert not (tmp_path / "out").exists()


def test_compile_of_a_missing_file_is_trouble(tmp_path, capsys):
    assert main(["compile", str(tmp_path / "nope.ha"), "-o", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_an_inconclusive_analysis_writes_no_bundle(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(TWO_NODE), "-o", str(out), "--budget", "0s"]) == 1
    assert "error[HA300]" in capsys.readouterr().err
    assert not out.exists() or not list(out.iterdir())


def test_the_bundle_says_what_was_proved(tmp_path, capsys):
    import json
    import subprocess
    import sys

    assert main(["compile", str(TWO_NODE), "-o", str(tmp_path), "--faults", "1"]) == 0
    bundle = capsys.readouterr().out.strip()
    from halang.compile import read_bundle

    proof = json.loads(read_bundle(bundle).members["proof.json"])
    assert (proof["faults"], proof["reachable"], proof["complete"]) == (1, False, True)
    shown = subprocess.run([sys.executable, "-I", bundle, "info"], capture_output=True, text=True, check=True).stdout
    assert "proved    every set of up to 1 failure (z3 " in shown
