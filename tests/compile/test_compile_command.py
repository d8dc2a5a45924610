"""`halang compile FILE -o DIR` as the CLI calls it: refuse a file with errors, write nothing."""

import pytest

from halang.compile import CompileError, CompileRefused, compile_cluster, compile_source
from halang.diagnostics import SourceText
from halang.report.text import Style, render_report
from halang.verify import verify_source

from .conftest import TWO_NODE

DUPLICATE = """cluster c {
  heartbeat { key_file = "/etc/halang/k.key" }
  node a { }
  node a { }
}
"""


def test_a_file_with_errors_is_refused_and_nothing_is_written(tmp_path):
    result = compile_source(SourceText(DUPLICATE, "bad.ha"), tmp_path / "out")
    assert result.refused and result.bundle is None
    assert [f.code for f in result.report.errors] == ["HA101"]
    assert not (tmp_path / "out").exists()
    # what the CLI prints is exactly what verify prints
    verified = verify_source(SourceText(DUPLICATE, "bad.ha"))
    assert render_report(result.report, Style(False)) == render_report(verified, Style(False))


def test_compile_cluster_refuses_a_report_with_errors(tmp_path):
    report = verify_source(SourceText(DUPLICATE, "bad.ha"))
    with pytest.raises(CompileRefused, match="bad.ha: not compiled: fix the errors first") as caught:
        compile_cluster(report, tmp_path)
    assert caught.value.report is report
    assert list(tmp_path.iterdir()) == []


def test_a_file_with_no_cluster_is_refused(tmp_path):
    result = compile_source(SourceText("", "empty.ha"), tmp_path)
    assert result.refused
    assert result.report.errors


def test_the_output_directory_is_created(tmp_path):
    result = compile_source(SourceText(TWO_NODE.read_text(), str(TWO_NODE)), tmp_path / "a" / "b")
    assert result.bundle.parent == tmp_path / "a" / "b"
    assert [p.name for p in result.bundle.parent.iterdir()] == [result.bundle.name]  # no temporary left behind


def test_an_output_path_that_is_a_file_is_trouble(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("")
    with pytest.raises(CompileError, match="exists and is not a directory"):
        compile_source(SourceText(TWO_NODE.read_text(), str(TWO_NODE)), blocker)
