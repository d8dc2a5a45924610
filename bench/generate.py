#!/usr/bin/env python3
"""Write a large, valid halang cluster for benchmarking `halang verify`.

    python3 bench/generate.py NODES [-o FILE]

or, from Python, `generate(nodes) -> str`. Standard library only; the
output depends on NODES alone.

Layout (every node has four adapters and ten resource groups, each group
one service address):

- Nodes `n0 .. n{N-1}` sit in pods of 8; the last pod is smaller but never
  below 2 (9 nodes make pods of 7 and 2). Each pod has two switches,
  `p<P>_swa` and `p<P>_swb`, and one `disk` heartbeat link joining all its
  nodes, so every pair of nodes that shares a group shares a non-IP link.
- Network `p<P>_pub` (one per pod, `ipat = replace`): per node a boot
  adapter `en0` on switch A and a standby `en1` on switch B, each on its own
  /24, and one service address in the boot subnet (group `g<n>_0`).
  Replacement puts at most one service address on an adapter, so a node
  with two adapters there can hold its own service address and its
  neighbour's after a takeover, never more: that is why the other nine
  service addresses live on the aliasing network below.
- Network `net_app` (cluster-wide, `ipat = alias`): per node `en2` on
  10.200.0.0/16 (switch A) and `en3` on 10.201.0.0/16 (switch B), and nine
  service addresses on the pod's own /24 (written with an explicit `/24`,
  outside both boot subnets). Being one network on two flat subnets, it
  is what lets every node hear every other: networks of different pods
  never hear each other, and with `quorum = majority` (the default from
  three nodes) pods that only heard themselves would hold no quorum.
- Group `g<n>_<i>` runs on `[n<n>, next node of the pod]` with one
  application (scripts of its own, `/opt/bench/g<n>_<i>/start` and
  `stop`: two groups sharing a start script is HA407); group 1 of each node
  comes online after group 0 of the same node.
- Capacity: each node gives cpu 48 and 64G; a node's ten groups take
  cpu 19 and 23G, so a node carrying its neighbour's groups as well is
  still inside its capacity.

Every pod subnet is a distinct /24 `10.(k // 256).(k % 256).0/24` taken
from a counter k, starting at 10.1.0.0; host numbers stay within .11 to
.108, away from network and broadcast addresses.
"""
import argparse
import re
import sys

POD = 8
GROUPS_PER_NODE = 10
FIRST_SUBNET = 256  # 10.1.0.0/24
MAX_NODES = 250 * 254  # host numbering on the two /16s of net_app


def pod_sizes(nodes):
    """Pods of 8; a remainder of 1 borrows one node from the previous pod."""
    if nodes < 2:
        raise ValueError("need at least 2 nodes")
    if nodes > MAX_NODES:
        raise ValueError(f"at most {MAX_NODES} nodes")
    sizes = [POD] * (nodes // POD)
    rest = nodes % POD
    if rest == 1:
        sizes[-1] -= 1
        sizes.append(2)
    elif rest:
        sizes.append(rest)
    return sizes


def subnet(k):
    """The k-th /24 of 10.0.0.0/8, as its first three octets."""
    if not FIRST_SUBNET <= k < 200 * 256:  # 10.200.0.0 and up is net_app's
        raise ValueError("out of pod subnets")
    return f"10.{k // 256}.{k % 256}"


def app_address(n, base):
    """Node n's address on one of net_app's /16s, never .0 or .255."""
    return f"10.{base}.{1 + n // 250}.{1 + n % 250}/16"


def generate(nodes: int) -> str:
    sizes = pod_sizes(nodes)
    out = [
        f"# Benchmark cluster: {nodes} nodes in {len(sizes)} pods, written by bench/generate.py.\n",
        f"cluster bench_{nodes} {{\n",
        "  heartbeat {\n"
        "    interval   = 1s\n"
        "    miss_limit = 5\n"
        '    key_file   = "/etc/halang/bench.key"\n'
        "  }\n",
    ]
    pods = []
    first = 0
    for p, size in enumerate(sizes):
        pods.append((p, list(range(first, first + size))))
        first += size

    for p, members in pods:
        out.append(f"\n  # pod {p}\n")
        for n in members:
            out.append(f"  node n{n} {{ capacity {{ cpu = 48  memory = 64G }} }}\n")

    app = ["\n  network net_app {\n    ipat = alias\n"]
    for p, members in pods:
        boot, standby, services = (subnet(FIRST_SUBNET + 3 * p + i) for i in range(3))
        out.append(f"\n  network p{p}_pub {{\n    ipat = replace\n")
        for j, n in enumerate(members):
            out.append(f"    adapter n{n} en0 boot    {boot}.{11 + j}/24 switch p{p}_swa\n"
                       f"    adapter n{n} en1 standby {standby}.{11 + j}/24 switch p{p}_swb\n")
        for j, n in enumerate(members):
            out.append(f"    service s{n}_0 {boot}.{101 + j}\n")
        out.append("  }\n")
        for j, n in enumerate(members):
            app.append(f"    adapter n{n} en2 boot {app_address(n, 200)} switch p{p}_swa\n"
                       f"    adapter n{n} en3 boot {app_address(n, 201)} switch p{p}_swb\n")
            for i in range(1, GROUPS_PER_NODE):
                app.append(f"    service s{n}_{i} {services}.{10 * j + 10 + i}/24\n")
        out.append(f"\n  link p{p}_hb {{\n    type   = disk\n"
                   f'    device = "/dev/hb_p{p}"\n'
                   f"    nodes  = [{', '.join(f'n{n}' for n in members)}]\n  }}\n")
    app.append("  }\n")
    out.extend(app)

    for p, members in pods:
        for j, n in enumerate(members):
            backup = members[(j + 1) % len(members)]
            for i in range(GROUPS_PER_NODE):
                after = f"  after = [g{n}_0]" if i == 1 else ""
                out.append(
                    f"  resource_group g{n}_{i} {{\n"
                    f"    nodes = [n{n}, n{backup}]  service_ips = [s{n}_{i}]{after}\n"
                    f"    requires {{ cpu = {1 + i % 3}  memory = {1 + i % 4}G }}\n"
                    f'    application app {{ start = "/opt/bench/g{n}_{i}/start"  '
                    f'stop = "/opt/bench/g{n}_{i}/stop" }}\n'
                    f"  }}\n")
    out.append("}\n")
    return "".join(out)


TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|[{}\[\]=,]|[^\s{}\[\]=,"]+')


def count_tokens(text):
    """Rough token count: strings, punctuation, and the runs between them."""
    text = re.sub(r"#[^\n]*", "", text)
    return sum(1 for _ in TOKEN.finditer(text))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nodes", type=int, help="number of nodes (at least 2)")
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        text = generate(args.nodes)
    except ValueError as e:
        parser.error(str(e))
    data = text.encode()
    if args.output:
        with open(args.output, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)
    groups = args.nodes * GROUPS_PER_NODE
    print(f"{args.output or '<stdout>'}: {args.nodes} nodes, {groups} groups, "
          f"{args.nodes * (4 + GROUPS_PER_NODE)} addresses, {len(data)} bytes, "
          f"~{count_tokens(text)} tokens", file=sys.stderr)


if __name__ == "__main__":
    main()
