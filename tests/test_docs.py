"""Generated docs match their sources, and every code of LANGUAGE.md is explained."""

import re
from pathlib import Path

from halang.checks.registry import all_checks
from halang.docs import generated_files
from halang.syntax import parse

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = ROOT.parent / "shared" / "LANGUAGE.md"


def test_generated_docs_are_current():
    stale = [str(path.relative_to(ROOT)) for path, text in generated_files().items()
             if not path.exists() or path.read_text() != text]
    assert not stale, f"run `make docs`: stale {stale}"


def test_every_language_code_is_in_the_registry():
    codes = set(re.findall(r"^\| (HA\d{3}) \|", LANGUAGE.read_text(), flags=re.MULTILINE))
    assert codes, "LANGUAGE.md lists codes"
    assert codes <= set(all_checks()), f"codes without a check class: {sorted(codes - set(all_checks()))}"


def test_every_check_is_documented_with_examples_that_parse():
    for code, check in all_checks().items():
        doc = check.doc()
        assert doc.title and doc.explanation, f"{code} has no title or explanation"
        assert re.fullmatch(r"[a-z]+(\.[a-z0-9-]+)+", doc.name), f"{code} name {doc.name!r} is not dotted"
        # HA001's bad example is a syntax error on purpose.
        for snippet in (doc.good,) if code == "HA001" else (doc.bad, doc.good):
            if snippet.startswith("cluster"):
                tree, findings = parse(snippet)
                assert tree is not None and not [f for f in findings if f.code == "HA001"], f"{code}: {snippet}"
