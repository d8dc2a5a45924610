"""`halang fmt`: the same model, the same comments, a fixed point, and the layout of halang/fmt/layout.py.

The round-trip cases are found by listing: every example and every
tests/checks/**/good_*.ha that parses without a syntax error.
"""

import random
from collections import Counter
from pathlib import Path

import pytest

from halang.diagnostics import SourceText
from halang.fmt import FormatError, fmt_command, format_source
from halang.fmt.layout import find_comments
from halang.syntax import parse
from halang.verify import load

ROOT = Path(__file__).resolve().parents[2]


def _parses(path: Path) -> bool:
    tree, diagnostics = parse(path.read_text())
    return tree is not None and not any(d.code == "HA001" for d in diagnostics)


CASES = sorted(ROOT.glob("examples/*.ha")) + [path for path in sorted(ROOT.glob("tests/checks/**/good_*.ha"))
                                             if _parses(path)]


def model_and_codes(text: str):
    cluster, _tree, findings = load(SourceText(text))
    return (cluster.to_json() if cluster is not None else None), Counter(f.code for f in findings)


def comment_texts(text: str) -> list[str]:
    return [comment.text for comment in find_comments(text)]


@pytest.mark.parametrize("path", CASES, ids=lambda p: str(p.relative_to(ROOT)))
def test_formatting_keeps_the_model_and_every_comment_and_is_a_fixed_point(path):
    text = path.read_text()
    formatted = format_source(text)
    assert model_and_codes(formatted) == model_and_codes(text)
    assert comment_texts(formatted) == comment_texts(text)
    assert format_source(formatted) == formatted


@pytest.mark.parametrize("seed", range(12))
def test_comments_anywhere_a_line_ends_survive(seed):
    """Comments sprinkled at random line ends and between lines keep their text, order and the model."""
    rng = random.Random(seed)
    source = (ROOT / "examples" / sorted(p.name for p in (ROOT / "examples").glob("*.ha"))[seed % 4]).read_text()
    lines = source.splitlines()
    out = []
    for number, line in enumerate(lines):
        roll = rng.random()
        if roll < 0.2:
            out.append(f"{' ' * rng.randrange(8)}# full-line {number}")
        if roll > 0.7 and line.strip() and "#" not in line:
            line += f"{' ' * rng.randrange(1, 6)}# end-of-line {number}"
        if rng.random() < 0.1:
            out.append("")
        out.append(line)
    text = "\n".join(out) + "\n"
    formatted = format_source(text)
    assert Counter(comment_texts(formatted)) == Counter(comment_texts(text))
    assert model_and_codes(formatted) == model_and_codes(text)
    assert format_source(formatted) == formatted


MESSY = '''\
# header


cluster  demo   {   # after the brace
  heartbeat { interval = 1s  miss_limit = 4 }
  node alpha {}
  node bravo-2 {   }
  node charlie { capacity { cpu = 2 } }
  network net {
      ipat=replace
    adapter alpha en0 boot 10.0.0.1/24 switch sw1   # boot
    adapter bravo-2 en0 boot 10.0.0.2/24
    adapter alpha en1 standby 10.0.1.1/24 switch sw22
    service svc 10.0.0.100
    service longer_svc 10.0.0.101
  }
  resource_group app {



    nodes = [alpha,bravo-2,]   # home first
    service_ips = [
      svc,  # the one
      # and the other
      longer_svc
    ]
    volume_groups=[]
    application app { start = "/a \\"b\\""  stop = "/b" }
    # last words in app
  }
  accept HA601 "lab"
}
# trailer
'''

EXPECTED = '''\
# header

cluster demo {  # after the brace
  heartbeat {
    interval   = 1s
    miss_limit = 4
  }

  node alpha   { }
  node bravo-2 { }
  node charlie { capacity { cpu = 2 } }

  network net {
    ipat = replace
    adapter alpha   en0 boot    10.0.0.1/24 switch sw1  # boot
    adapter bravo-2 en0 boot    10.0.0.2/24
    adapter alpha   en1 standby 10.0.1.1/24 switch sw22
    service svc        10.0.0.100
    service longer_svc 10.0.0.101
  }

  resource_group app {
    nodes         = [alpha, bravo-2]  # home first
    service_ips   = [
      svc,  # the one
      # and the other
      longer_svc,
    ]
    volume_groups = []
    application app {
      start = "/a \\"b\\""
      stop  = "/b"
    }
    # last words in app
  }

  accept HA601 "lab"
}
# trailer
'''


def test_the_canonical_layout():
    assert format_source(MESSY) == EXPECTED
    assert format_source(EXPECTED) == EXPECTED


def test_ping_targets_are_written_as_a_list_of_addresses_as_spelt():
    text = ("cluster c {\n  node a { }\n  network n {\n      ipat=replace\n    adapter a en0 boot 10.0.1.1/24\n"
            "    ping_targets=[10.0.1.254,FD00::0001,]   # routers\n  }\n"
            "  network m {\n    ping_targets = [\n      10.0.3.1,  # core\n      10.0.4.1\n    ]\n  }\n}\n")
    assert format_source(text) == (
        "cluster c {\n  node a { }\n\n  network n {\n    ipat         = replace\n"
        "    adapter a en0 boot 10.0.1.1/24\n    ping_targets = [10.0.1.254, FD00::0001]  # routers\n  }\n\n"
        "  network m {\n    ping_targets = [\n      10.0.3.1,  # core\n      10.0.4.1,\n    ]\n  }\n}\n")
    assert model_and_codes(format_source(text)) == model_and_codes(text)


def test_a_comment_inside_an_empty_block_opens_it():
    text = "cluster c {\n  node a { # later\n  }\n  node b { }\n}\n"
    assert format_source(text) == "cluster c {\n  node a {  # later\n  }\n\n  node b { }\n}\n"


def test_the_cluster_block_is_never_on_one_line():
    assert format_source("# only\ncluster c { node a { } } # end") == "# only\ncluster c {\n  node a { }\n}  # end\n"


def test_blank_lines_inside_blocks_are_kept_once():
    text = "cluster c {\n  node a {\n    domains = [x]\n\n\n\n    ssh = \"root@a\"\n  }\n}\n"
    assert format_source(text) == "cluster c {\n  node a {\n    domains = [x]\n\n    ssh     = \"root@a\"\n  }\n}\n"


def test_a_file_with_syntax_errors_is_refused():
    with pytest.raises(FormatError) as caught:
        format_source("cluster c {\n  node a {\n}\n")
    assert caught.value.diagnostics and all(d.code == "HA001" for d in caught.value.diagnostics)


def test_windows_line_endings_become_unix_ones():
    text = "cluster c {\r\n  node a { }  # x\r\n}\r\n"
    assert format_source(text) == "cluster c {\n  node a { }  # x\n}\n"


# ---------------------------------------------------------------- the command

def test_check_reports_a_file_that_would_change_and_leaves_it(tmp_path):
    path = tmp_path / "c.ha"
    path.write_text(MESSY)
    assert fmt_command(str(path), check=True) == (1, f"{path}: would reformat", False)
    assert path.read_text() == MESSY


def test_rewrites_in_place_then_is_clean(tmp_path):
    path = tmp_path / "c.ha"
    path.write_text(MESSY)
    assert fmt_command(str(path)) == (0, f"{path}: reformatted", False)
    assert path.read_text() == EXPECTED
    assert fmt_command(str(path), check=True) == (0, f"{path}: already formatted", False)


def test_syntax_errors_are_findings_and_missing_files_trouble(tmp_path):
    path = tmp_path / "bad.ha"
    path.write_text("cluster c {\n  node a {\n}\n")
    code, output, refused = fmt_command(str(path), check=True)
    assert code == 1 and refused and "HA001" in output and "not formatted" in output
    assert fmt_command(str(tmp_path / "none.ha"))[0] == 2
