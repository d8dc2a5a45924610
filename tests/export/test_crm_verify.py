"""`crm_verify` passes on the CIB of every example and fixture that exports, once fencing is supplied.

A file exports when `verify --faults 1` finds no error in it, as the
command requires. The bare export fails crm_verify for one reason only, the
missing fencing device (HA801); with the tests' stub device, and the nodes
joined as in a running cluster (`crm_simulate --node-up`: a CIB with no
node state makes Pacemaker fence every node first), crm_verify is silent.
"""

from pathlib import Path

import pytest

from halang.diagnostics import SourceText
from halang.export.pacemaker import export_pacemaker
from halang.verify import verify_source
from tests.export.crm import Simulator, crm_verify, needs_pacemaker

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = sorted([*ROOT.glob("examples/*.ha"), *ROOT.glob("docs/*.ha"), *ROOT.glob("tests/**/*.ha")])
STONITH_ONLY = ("no STONITH resources have been defined", "disable STONITH with the stonith-enabled option",
                "Clusters with shared data need STONITH", "Errors found during check: config not valid")


def exporting() -> list[Path]:
    found = []
    for path in CANDIDATES:
        report = verify_source(SourceText(path.read_text(), str(path)), faults=1)
        if not report.errors and report.cluster is not None:
            found.append(path)
    return found


EXPORTING = exporting()


def test_the_examples_and_dozens_of_fixtures_export():
    names = {path.relative_to(ROOT).as_posix() for path in EXPORTING}
    assert {f"examples/{path.name}" for path in ROOT.glob("examples/*.ha")} <= names
    assert len(names) > 40


@needs_pacemaker
@pytest.mark.parametrize("path", EXPORTING, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_crm_verify_passes_with_fencing_and_fails_only_for_it_without(path, tmp_path):
    source = SourceText(path.read_text(), str(path))
    cluster = verify_source(source, faults=0).cluster
    bare = tmp_path / "cib.xml"
    bare.write_text(export_pacemaker(cluster, source).files["cib.xml"])
    without = crm_verify(bare)
    assert without.returncode != 0
    messages = [line for line in without.stderr.splitlines() if line.strip() and "-V may provide" not in line]
    assert messages and all(any(part in line for part in STONITH_ONLY) for line in messages), without.stderr
    simulator = Simulator(tmp_path, bare.read_text())
    joined, _ = simulator.run(simulator.initial, up=[node.name for node in cluster.nodes])
    done = crm_verify(joined)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
