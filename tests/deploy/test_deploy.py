"""`halang deploy`, `rollback` and `diff --deployed` on directories as nodes (the local transport) and the
recording fake: what each node runs afterwards, and what was said."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from halang.deploy import Console, LocalTransport, Options, RecordingTransport, deploy_command, diff_deployed, \
    rollback_command
from halang.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE
from tests.deploy.nodes import make_nodes, snapshot_of

ROOT = Path(__file__).resolve().parents[2]
TWO_NODE = ROOT / "examples" / "two_node_replace.ha"


class Said:
    """A console that keeps what was said: `out` (results), `err` (refusals), `progress` (node, text)."""

    def __init__(self, answer: bool | None = None):
        self.out: list[str] = []
        self.err: list[str] = []
        self.progress: list[tuple[str, str]] = []
        self.asked: list[str] = []
        self.answer = answer

    def console(self) -> Console:
        def confirm(question: str) -> bool:
            self.asked.append(question)
            return bool(self.answer)

        return Console(self.out.append, self.err.append, lambda node, text: self.progress.append((node, text)),
                       None if self.answer is None else confirm)

    @property
    def text(self) -> str:
        return "\n".join(self.out + self.err)


class Site:
    """A two-node cluster on directories: its file (changed with `edit`), its key, its nodes."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.key = tmp / "cluster.key"
        self.key.write_bytes(os.urandom(32))
        self.file = tmp / "payments.ha"
        self.file.write_text(TWO_NODE.read_text())
        self.nodes = tmp / "nodes"
        make_nodes(self.nodes, snapshot_of(self.file), self.key.read_bytes())
        self.local = LocalTransport(self.nodes)

    def edit(self, old: str, new: str) -> None:
        text = self.file.read_text()
        assert old in text
        self.file.write_text(text.replace(old, new, 1))

    def deploy(self, transport=None, said: Said | None = None, **options) -> tuple[int, Said]:
        said = said or Said()
        options = {"yes": True, "faults": 0, "key_file": str(self.key), **options}
        return deploy_command(str(self.file), transport or self.local, said.console(), Options(**options)), said

    def rollback(self, transport=None, **options) -> tuple[int, Said]:
        said = Said()
        options = {"yes": True, "key_file": str(self.key), **options}
        return rollback_command(str(self.file), transport or self.local, said.console(), Options(**options)), said

    def home(self, node: str) -> Path:
        return self.nodes / node / "var/lib/halang"

    def runs(self, node: str) -> str | None:
        """The content hash the node's current.pyz points at (None: nothing)."""
        link = self.home(node) / "current.pyz"
        return Path(os.readlink(link)).stem if link.is_symlink() else None

    def all_run(self) -> dict[str, str | None]:
        return {node: self.runs(node) for node in ("alpha", "bravo")}


@pytest.fixture
def site(tmp_path) -> Site:
    return Site(tmp_path)


def test_a_first_deploy_stages_and_activates_on_every_node_and_says_the_signature_was_not_checked(site):
    code, said = site.deploy(faults=1)
    assert code == EXIT_OK, said.text
    runs = site.all_run()
    assert runs["alpha"] == runs["bravo"] is not None
    assert (site.home("alpha") / "bundles" / f"{runs['alpha']}.pyz").is_file()
    assert (site.home("alpha") / "bundles" / f"{runs['alpha']}.sig").is_file()
    assert "nothing deployed yet: a first deploy" in said.text
    assert ("alpha", "staged (first deploy to this node: nothing runs here, so there is no key to check the "
                     "signature with)") in said.progress
    assert f"  alpha  runs {runs['alpha'][:12]}" in said.out


def test_deploying_what_the_nodes_run_is_no_change(site):
    assert site.deploy()[0] == EXIT_OK
    before = site.all_run()
    code, said = site.deploy()
    assert code == EXIT_OK
    assert "No changes: both sides describe the same cluster." in said.text
    assert "nothing to deploy" in said.text
    assert site.all_run() == before
    outcome = diff_deployed(str(site.file), site.local)
    assert outcome.code == EXIT_OK, outcome.output
    assert "No changes" in outcome.output


def test_a_live_change_is_planned_then_deployed_and_the_old_bundle_is_kept_as_previous(site):
    site.deploy()
    old = site.runs("alpha")
    site.edit("interval   = 500ms", "interval   = 1s")
    outcome = diff_deployed(str(site.file), site.local)
    assert outcome.code == EXIT_FINDINGS
    assert "~ heartbeat: interval  500ms -> 1s  live" in outcome.output
    code, said = site.deploy()
    assert code == EXIT_OK, said.text
    assert "~ heartbeat: interval  500ms -> 1s  live" in said.text
    assert ("alpha", "staged (accepted: signed with the cluster key /etc/halang/payments.key)") in said.progress
    new = site.runs("alpha")
    assert new != old and site.runs("bravo") == new
    assert Path(os.readlink(site.home("bravo") / "previous.pyz")).stem == old


def test_drift_after_a_node_was_changed_by_hand(site):
    site.deploy()
    old = site.runs("alpha")
    site.edit("interval   = 500ms", "interval   = 1s")
    site.deploy()
    link = site.home("bravo") / "current.pyz"  # by hand, behind deploy's back: bravo back on the old bundle
    link.unlink()
    link.symlink_to(f"bundles/{old}.pyz")
    outcome = diff_deployed(str(site.file), site.local)
    assert outcome.code == EXIT_FINDINGS
    assert "Drift: the nodes run different snapshots:" in outcome.output
    assert f"  {old[:12]}  bravo" in outcome.output
    data = json.loads(diff_deployed(str(site.file), site.local, "json").output)
    assert data["drift"] is True and data["nodes"]["bravo"] == old


def test_a_stage_failure_on_one_node_activates_no_node(site):
    site.deploy()
    before = site.all_run()
    site.edit("interval   = 500ms", "interval   = 1s")
    fake = RecordingTransport(site.local, fail={("bravo", "stage"): "no space left on device"})
    code, said = site.deploy(fake)
    assert code == EXIT_TROUBLE
    assert site.all_run() == before
    assert not [call for call in fake.calls if call[1] == "activate"]
    assert ("bravo", "NOT staged: no space left on device") in said.progress
    assert "staging failed on bravo: no node was activated" in said.text
    assert f"  alpha  unchanged: runs {before['alpha'][:12]}" in said.out


def test_an_activation_failure_puts_the_switched_nodes_back(site):
    site.deploy()
    before = site.all_run()
    site.edit("interval   = 500ms", "interval   = 1s")
    fake = RecordingTransport(site.local, fail={("bravo", "activate"): "the daemon did not load it"})
    code, said = site.deploy(fake)
    assert code == EXIT_TROUBLE
    assert ("alpha", "activate") in fake.calls and ("alpha", "restore") in fake.calls
    assert site.all_run() == before
    assert "activation failed on bravo: every node goes back" in said.text
    assert any(line.startswith("  alpha  back on " + before["alpha"][:12]) for line in said.out)


def test_a_node_that_cannot_switch_its_link_is_an_activation_failure(site):
    site.deploy()
    before = site.all_run()
    site.edit("interval   = 500ms", "interval   = 1s")
    (site.home("bravo") / "current.pyz.new" / "in-the-way").mkdir(parents=True)
    code, said = site.deploy()
    assert code == EXIT_TROUBLE
    assert site.all_run() == before
    assert any(node == "bravo" and text.startswith("activation FAILED: cannot switch current.pyz")
               for node, text in said.progress)


def test_a_bundle_signed_with_another_key_is_refused_by_the_nodes(site):
    site.deploy()
    before = site.all_run()
    site.edit("interval   = 500ms", "interval   = 1s")
    wrong = site.tmp / "wrong.key"
    wrong.write_bytes(os.urandom(32))
    code, said = site.deploy(key_file=str(wrong))
    assert code == EXIT_TROUBLE
    assert site.all_run() == before
    assert any("is not signed with this node's cluster key (/etc/halang/payments.key)" in text
               for _, text in said.progress)
    assert not list((site.home("alpha") / "bundles").glob("*.partial"))


def test_a_missing_script_on_one_node_stops_the_deploy_before_anything_changes(site):
    site.deploy()
    before = site.all_run()
    site.edit("interval   = 500ms", "interval   = 1s")
    (site.nodes / "bravo/opt/ledger/bin/start").unlink()
    fake = RecordingTransport(site.local)
    code, said = site.deploy(fake)
    assert code == EXIT_FINDINGS
    assert site.all_run() == before
    assert {label for _, label in fake.calls} == {"status", "preflight"}
    assert "error[HA701]: on node bravo, script /opt/ledger/bin/start does not exist" in said.text
    assert f"{site.file}:" in said.text  # at the file's line, as verify prints findings


def test_check_runs_only_the_preflight_and_reports_every_kind_of_finding(site):
    (site.nodes / "alpha/sys/class/net/en1").rmdir()
    (site.nodes / "bravo/dev/ttyS1").unlink()
    (site.nodes / "bravo/etc/lvm/backup/ledgervg").unlink()
    (site.nodes / "alpha/opt/gateway/bin/stop").write_text("#!/bin/sh\necho changed\n")
    (site.nodes / "bravo/opt/gateway/bin/start").chmod(0o644)
    fake = RecordingTransport(site.local)
    code, said = site.deploy(fake, check=True)
    assert code == EXIT_FINDINGS
    assert {label for _, label in fake.calls} == {"status", "preflight"}
    text = said.text
    assert "error[HA702]: node alpha has no interface en1" in text
    assert "error[HA703]: on node bravo, /dev/ttyS1 of link hb_serial does not exist" in text
    assert "error[HA704]: node bravo does not know volume group ledgervg of group ledger" in text
    assert "warning[HA705]: script /opt/gateway/bin/stop differs between the nodes that may run it" in text
    assert "error[HA701]: on node bravo, script /opt/gateway/bin/start is not executable" in text
    assert site.all_run() == {"alpha": None, "bravo": None}


def test_check_on_ready_nodes_says_so(site):
    code, said = site.deploy(check=True)
    assert code == EXIT_OK
    assert said.out[-1].startswith("pre-flight: 2 nodes ready for payments-")


def test_rollback_returns_every_node_to_the_previous_bundle_and_back_again(site):
    site.deploy()
    first = site.runs("alpha")
    site.edit("interval   = 500ms", "interval   = 1s")
    site.deploy()
    second = site.runs("alpha")
    code, said = site.rollback()
    assert code == EXIT_OK, said.text
    assert site.all_run() == {"alpha": first, "bravo": first}
    assert "~ heartbeat: interval  1s -> 500ms  live" in said.text
    assert site.rollback()[0] == EXIT_OK  # previous.pyz now names the bundle rolled back from
    assert site.all_run() == {"alpha": second, "bravo": second}


def test_rollback_with_nothing_before_changes_nothing(site):
    site.deploy()
    before = site.all_run()
    code, said = site.rollback()
    assert code == EXIT_TROUBLE
    assert "ran no bundle before this one" in said.text
    assert site.all_run() == before


def test_an_unreachable_node_changes_nothing(site):
    site.deploy()
    before = site.all_run()
    site.edit("interval   = 500ms", "interval   = 1s")
    code, said = site.deploy(RecordingTransport(site.local, unreachable={"bravo"}))
    assert code == EXIT_TROUBLE
    assert "bravo: cannot read what it runs: unreachable" in said.text
    assert "nothing was changed" in said.text
    assert site.all_run() == before


def test_a_node_directory_that_is_not_there_is_unreachable(site):
    shutil.rmtree(site.nodes / "bravo")
    code, said = site.deploy()
    assert code == EXIT_TROUBLE
    assert "bravo: cannot read what it runs: unreachable:" in said.text
    assert site.runs("alpha") is None


def test_a_missing_key_file_is_a_clear_refusal(site):
    code, said = site.deploy(key_file=str(site.tmp / "no-such.key"))
    assert code == EXIT_TROUBLE
    assert said.err == [f"halang: cannot read the cluster key {site.tmp / 'no-such.key'}: No such file or "
                        "directory; give --key-file PATH (the key the nodes have); nothing was changed"]


def test_a_node_whose_bundle_is_damaged_cannot_vouch_for_a_new_one(site):
    site.deploy()
    before = site.all_run()
    site.edit("interval   = 500ms", "interval   = 1s")
    target = site.home("alpha") / "bundles" / f"{site.runs('alpha')}.pyz"
    target.write_bytes(b"not a zip")
    code, said = site.deploy()
    assert code == EXIT_TROUBLE, said.text
    assert any("alpha: its current.pyz is damaged" in line for line in said.err)
    assert "alpha: nothing deployed yet: a first deploy" in said.text
    assert any(node == "alpha" and "the bundle this node runs is damaged, so it cannot check the signature" in text
               for node, text in said.progress)
    assert site.all_run() == before
    (site.home("alpha") / "current.pyz").unlink()  # the recovery docs/deploy.md gives
    assert site.deploy()[0] == EXIT_OK


def test_without_a_terminal_and_without_yes_nothing_changes(site):
    code, said = site.deploy(yes=False)
    assert code == EXIT_TROUBLE
    assert "no terminal to confirm on: give --yes" in said.text
    assert site.all_run() == {"alpha": None, "bravo": None}


def test_a_no_at_the_question_changes_nothing(site):
    said = Said(answer=False)
    code, _ = site.deploy(said=said, yes=False)
    assert code == EXIT_TROUBLE
    assert said.asked and said.asked[0].startswith("Deploy payments-")
    assert site.all_run() == {"alpha": None, "bravo": None}


def test_dry_run_shows_the_plan_and_changes_nothing(site):
    code, said = site.deploy(dry_run=True)
    assert code == EXIT_OK
    assert "Dry run:" in said.text
    assert site.all_run() == {"alpha": None, "bravo": None}


def test_a_file_with_errors_is_not_deployed(site):
    site.edit("node bravo { }", "node bravo { }\n  node bravo { }")
    fake = RecordingTransport(site.local)
    code, said = site.deploy(fake)
    assert code == EXIT_FINDINGS
    assert "not deployed: fix the errors first" in said.text
    assert fake.calls == []


def test_an_inconclusive_analysis_is_not_deployed(site):
    fake = RecordingTransport(site.local)
    code, said = site.deploy(fake, faults=1, budget_ms=0)
    assert code == EXIT_FINDINGS
    assert "HA300" in said.text
    assert fake.calls == []


def test_a_move_has_the_daemons_release_the_group_before_they_reload(site):
    site.deploy()
    site.edit("nodes         = [alpha, bravo]", "nodes         = [bravo, alpha]")
    code, said = site.deploy()
    assert code == EXIT_OK, said.text
    assert "move ledger from alpha to bravo" in said.text
    assert ("alpha", "activating, releasing first ledger") in said.progress


class RunsAnotherFormat:
    """Nodes that answer, as what they run, a snapshot of a format this halang does not know."""

    def __init__(self, inner):
        self.inner, self.python = inner, inner.python

    def root(self, node: str) -> str:
        return self.inner.root(node)

    def sysfs(self, node: str) -> str:
        return self.inner.sysfs(node)

    def run(self, target, argv, data=b"", label=""):
        from halang.deploy.transport import Completed

        if label == "status":
            snapshot = {**snapshot_of(TWO_NODE), "format": 99}
            return Completed(0, json.dumps({"current": {"hash": "ab" * 32, "snapshot": snapshot}, "previous": None,
                                            "daemon": None}), "")
        return self.inner.run(target, argv, data, label)


def test_nodes_running_a_snapshot_this_halang_cannot_compare_change_nothing(site):
    code, said = site.deploy(RunsAnotherFormat(site.local))
    assert code == EXIT_TROUBLE
    assert "cannot be compared with" in said.text and "different formats" in said.text
    assert site.all_run() == {"alpha": None, "bravo": None}
    assert diff_deployed(str(site.file), RunsAnotherFormat(site.local)).code == EXIT_TROUBLE
