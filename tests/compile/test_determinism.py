"""The same file compiles to the same bytes: in one process, in another, in any directory."""

import json
import subprocess
import sys
import zipfile

import pytest

from halang.compile import compile_cluster, read_bundle
from halang.compile.archive import ZIP_DATE
from halang.diagnostics import SourceText
from halang.verify import verify_source
from runtime.node.bundle import content_hash

from .conftest import EXAMPLES, ROOT, TWO_NODE, compile_file


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.ha")), ids=lambda p: p.name)
def test_two_compiles_give_the_same_bytes(example, tmp_path):
    first = compile_file(example, tmp_path / "first")
    second = compile_file(example, tmp_path / "second")
    assert first.name == second.name
    assert first.read_bytes() == second.read_bytes()


def test_a_fresh_process_gives_the_same_bytes(two_node_bundle, tmp_path):
    code = ("import sys; from halang.compile import compile_source; from halang.cli import read_source; "
            "print(compile_source(read_source(sys.argv[1]), sys.argv[2]).bundle)")
    done = subprocess.run([sys.executable, "-c", code, str(TWO_NODE), str(tmp_path / "elsewhere")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120, check=True)
    again = tmp_path / "elsewhere" / two_node_bundle.name
    assert done.stdout.strip() == str(again)
    assert again.read_bytes() == two_node_bundle.read_bytes()


def test_the_name_is_the_cluster_and_the_short_content_hash(two_node_bundle):
    bundle = read_bundle(two_node_bundle)
    assert two_node_bundle.name == f"payments-{bundle.content_hash[:12]}.pyz"
    assert bundle.file_name == two_node_bundle.name


def test_members_are_sorted_dated_1980_stored_with_fixed_permissions(two_node_bundle):
    with zipfile.ZipFile(two_node_bundle) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    for info in infos:
        assert info.date_time == ZIP_DATE
        assert info.compress_type == zipfile.ZIP_STORED
        assert info.create_system == 3
        expected = 0o100755 if info.filename.startswith("events/") else 0o100644
        assert info.external_attr >> 16 == expected, info.filename


def test_manifest_hashes_every_other_member_and_no_time(two_node_bundle):
    bundle = read_bundle(two_node_bundle)
    with zipfile.ZipFile(two_node_bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
    assert set(manifest) == {"bundle_format", "cluster", "compiler_version", "content_hash", "members"}
    assert manifest["bundle_format"] == 1 and manifest["cluster"] == "payments"
    assert manifest["compiler_version"] == __import__("halang").__version__
    assert set(manifest["members"]) == names - {"manifest.json"}
    assert manifest["content_hash"] == content_hash("payments", manifest["compiler_version"], manifest["members"])
    assert bundle.manifest == manifest


def test_the_bundle_holds_the_snapshot_plans_scripts_engine_and_pyroute2(two_node_bundle):
    bundle = read_bundle(two_node_bundle)
    report = verify_source(SourceText(TWO_NODE.read_text(), str(TWO_NODE)))
    assert bundle.snapshot_text == report.cluster.to_json()
    names = set(bundle.members)
    assert {"snapshot.json", "plans/alpha.json", "plans/bravo.json", "systemd/halang-node@.service",
            "events/node_down.sh", "events/adapter_down.sh", "README.txt", "__main__.py",
            "runtime/__init__.py", "runtime/__main__.py", "runtime/node/bundle.py", "pyroute2/__init__.py",
            } <= names
    shipped_runtime = {name for name in names if name.startswith("runtime/")}
    assert shipped_runtime == {f"runtime/{path.relative_to(ROOT / 'runtime').as_posix()}"
                               for path in (ROOT / "runtime").rglob("*.py") if "__pycache__" not in path.parts}
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert any(name.startswith("licenses/pyroute2/") for name in names)


def test_a_cluster_compiles_as_its_report_does_but_for_what_was_proved(tmp_path):
    report = verify_source(SourceText(TWO_NODE.read_text(), str(TWO_NODE)))
    from_report = read_bundle(compile_cluster(report, tmp_path / "report"))
    from_cluster = read_bundle(compile_cluster(report.cluster, tmp_path / "cluster"))
    assert set(from_report.members) == set(from_cluster.members)
    for name in from_report.members:
        if name != "proof.json":
            assert from_report.members[name] == from_cluster.members[name], name
    proved = json.loads(from_report.members["proof.json"])
    assert (proved["faults"], proved["complete"], proved["analysis"]) == (1, True, "ran")
    assert json.loads(from_cluster.members["proof.json"])["complete"] is False
