"""docs/pacemaker.md's worked example shows what halang prints today (the Pacemaker side ran once, by hand)."""

import re
from pathlib import Path

from halang.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "pacemaker.md").read_text()


def shown_after(command: str) -> str:
    """The lines the doc shows after `$ COMMAND`, up to the next command or the end of the block."""
    block = DOC.split(f"$ {command}\n", 1)[1]
    return re.split(r"^(?:\$ |```)", block, maxsplit=1, flags=re.MULTILINE)[0]


def test_the_export_and_its_findings_are_as_shown(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "two_node_replace.ha").write_text((ROOT / "examples" / "two_node_replace.ha").read_text())
    assert main(["export", "pacemaker", "examples/two_node_replace.ha", "-o", "payments-pcmk"]) == 0
    command = "halang export pacemaker examples/two_node_replace.ha -o payments-pcmk 2>/dev/null"
    assert capsys.readouterr().out == shown_after(command)
    headings = "".join(line + "\n" for line in (tmp_path / "payments-pcmk" / "EXPORT.md").read_text().splitlines()
                       if line.startswith("### "))
    assert headings == shown_after("grep '^### ' payments-pcmk/EXPORT.md")


def test_the_halang_side_of_the_replayed_failure_is_as_shown(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["simulate", "examples/two_node_replace.ha", "--fail", "node:alpha"]) == 0
    assert capsys.readouterr().out == shown_after("halang simulate examples/two_node_replace.ha --fail node:alpha")
