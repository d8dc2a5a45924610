"""`halang graph`: every example drawn to SVG naming every node, network and group; failures drawn.

Drawing SVG needs Graphviz's `dot`. Without it these tests skip, saying so,
except in CI (CI=true), where they must run.
"""

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from halang.diagnostics import SourceText
from halang.graph import GraphError, graph_command, render_dot, render_image
from halang.verify import verify_source

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.ha"))
SVG = "{http://www.w3.org/2000/svg}"

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and os.environ.get("CI") != "true",
    reason="Graphviz's dot is not installed (apt-get install graphviz); in CI (CI=true) these tests run regardless",
)


def cluster_of(path: Path):
    report = verify_source(SourceText(path.read_text(), str(path)), faults=0)
    assert not report.errors
    return report.cluster


def svg_words(svg: bytes) -> str:
    """The text drawn in the picture (not the element ids in <title>)."""
    root = ET.fromstring(svg)
    return " ".join("".join(text.itertext()) for text in root.iter(f"{SVG}text"))


@needs_dot
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_draws_and_names_everything(path):
    cluster = cluster_of(path)
    words = svg_words(render_image(render_dot(cluster), "svg"))
    names = [node.name for node in cluster.nodes] + [group.name for group in cluster.groups]
    names += [f"network {network.name}" for network in cluster.networks] + [link.name for link in cluster.links]
    for name in names:
        assert name in words, f"{name} is not drawn"


@needs_dot
def test_the_command_writes_svg_and_dot(tmp_path):
    example = str(ROOT / "examples" / "two_node_replace.ha")
    assert graph_command(example, str(tmp_path / "c.svg")) == (0, f"wrote {tmp_path / 'c.svg'}", False)
    ET.parse(tmp_path / "c.svg")
    assert graph_command(example, str(tmp_path / "c.dot"))[0] == 0
    assert (tmp_path / "c.dot").read_text().startswith('graph "cluster:payments" {')


def test_a_failed_node_is_grey_and_its_group_moves():
    dot = render_dot(cluster_of(ROOT / "examples" / "two_node_replace.ha"), ["node:alpha"])
    assert "with node:alpha failed" in dot
    alpha = next(line for line in dot.splitlines() if line.strip().startswith('"node:alpha" ['))
    assert "(down)" in alpha and "dashed" in alpha and "ledger" not in alpha
    bravo = next(line for line in dot.splitlines() if line.strip().startswith('"node:bravo" ['))
    assert "ledger" in bravo and "moved from alpha" in bravo and "gateway" in bravo


def test_groups_are_drawn_on_their_startup_nodes_with_their_priority_lists():
    dot = render_dot(cluster_of(ROOT / "examples" / "three_node_quorum.ha"))
    node_lines = {line.strip().split(" ", 1)[0]: line for line in dot.splitlines()
                  if line.strip().startswith('"node:') and " [" in line and " -- " not in line}
    assert "erp_db" in node_lines['"node:wh1"'] and "wh1 &gt; wh2 &gt; wh3" in node_lines['"node:wh1"']
    assert "print_spool" in node_lines['"node:wh3"']
    assert all("mon_agent" in line for line in node_lines.values())  # concurrent: on every node
    assert "moved from" not in dot and "offline" not in dot


def test_switch_adapter_link_and_domain_failures():
    cluster = cluster_of(ROOT / "examples" / "three_node_quorum.ha")
    dot = render_dot(cluster, ["switch:core_b", "adapter:wh2/en0", "link:hb_disk"])
    assert "switch core_b (down)" in dot
    adapter = next(line for line in dot.splitlines() if '"adapter:net_public:wh2:en0" [' in line)
    assert "dashed" in adapter
    assert "hb_disk</B> (disk) down" in dot
    dot = render_dot(cluster, ["domain:rack_a"])
    assert "<B>wh1</B> (down)" in dot


def test_a_partition_without_quorum_is_marked():
    # Cut wh3 off every path: it is up but alone, so under majority it runs nothing.
    cluster = cluster_of(ROOT / "examples" / "three_node_quorum.ha")
    dot = render_dot(cluster, ["adapter:wh3/en0", "adapter:wh3/en1", "adapter:wh3/en2", "linkend:wh3/hb_disk"])
    wh3 = next(line for line in dot.splitlines() if line.strip().startswith('"node:wh3" ['))
    assert "(no quorum)" in wh3 and "print_spool" not in wh3


def test_a_component_that_is_not_one_is_refused(tmp_path):
    cluster = cluster_of(ROOT / "examples" / "two_node_replace.ha")
    with pytest.raises(GraphError, match="no node named 'charlie'"):
        render_dot(cluster, ["node:charlie"])
    code, output, _ = graph_command(str(ROOT / "examples" / "two_node_replace.ha"), str(tmp_path / "x.dot"),
                                    ["nodes:alpha"])
    assert code == 2 and "not a component name" in output


@needs_dot
def test_the_command_writes_png(tmp_path):
    example = str(ROOT / "examples" / "two_node_replace.ha")
    assert graph_command(example, str(tmp_path / "c.png")).code == 0
    data = (tmp_path / "c.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 200 and height > 100, "a picture of the cluster, not an empty one"


def test_the_command_refuses_other_outputs_and_files_with_errors(tmp_path):
    example = str(ROOT / "examples" / "two_node_replace.ha")
    code, output, _ = graph_command(example, str(tmp_path / "x.jpg"))
    assert code == 2 and ".png" in output
    broken = tmp_path / "broken.ha"
    broken.write_text("cluster c {\n  node a {\n}\n")
    code, output, refused = graph_command(str(broken), str(tmp_path / "x.dot"))
    assert code == 1 and refused and "HA001" in output and "not drawn" in output


def test_without_dot_the_message_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphError, match="apt-get install graphviz"):
        render_image("graph { a }", "svg")
    code, output, _ = graph_command(str(ROOT / "examples" / "two_node_replace.ha"), str(tmp_path / "x.svg"))
    assert code == 2 and "apt-get install graphviz" in output
    assert not (tmp_path / "x.svg").exists()
