"""The link transports on real files and a real pty pair: what one node writes, the other reads, once."""

from __future__ import annotations

import os

from runtime.node.transports import SLOT, DiskTransport, StreamTransport
from tests.runtime.helpers import spec

DISK = spec("""
cluster c {
  heartbeat { quorum = none }
  node a { }
  node b { }
  node c { }
  link hb { type = disk  device = "/dev/hb"  nodes = [a, b, c] }
  link line { type = rs232  a = "/dev/ttyS0"  b = "/dev/ttyS0" }
}
""")


def test_each_node_writes_its_own_slot_and_reads_the_others_once(tmp_path):
    device = tmp_path / "hb"
    device.write_bytes(bytes(3 * SLOT))
    a, b, c = (DiskTransport(DISK, node, "hb", str(device)) for node in ("a", "b", "c"))
    a.write(b"from a")
    c.write(b"from c")
    assert sorted(b.read()) == [("hb:a-b", b"from a"), ("hb:b-c", b"from c")]
    assert b.read() == [], "a slot that did not change is nothing new"
    a.write(b"from a, again")
    assert b.read() == [("hb:a-b", b"from a, again")]
    assert a.read() == [("hb:a-c", b"from c")]
    for transport in (a, b, c):
        transport.close()


def test_framed_messages_cross_a_pty_and_survive_garbage():
    master, slave = os.openpty()
    near = StreamTransport(DISK, "a", "line", os.ttyname(slave))
    os.close(slave)
    far_fd = master
    near.write(b"hello")
    data = os.read(far_fd, 1000)
    assert data.endswith(b"hello")
    os.write(far_fd, b"noise" + data + data[:6])  # garbage, a whole frame, half a frame
    assert near.read() == [("line:a-b", b"hello")]
    os.write(far_fd, data[6:])
    assert near.read() == [("line:a-b", b"hello")]
    near.close()
    os.close(far_fd)


def test_a_disk_whose_path_is_cut_is_neither_read_nor_written(tmp_path):
    device = tmp_path / "hb"
    device.write_bytes(bytes(3 * SLOT))
    a, b = DiskTransport(DISK, "a", "hb", str(device)), DiskTransport(DISK, "b", "hb", str(device))
    a.write(b"one")
    moved = tmp_path / "hb.cut"
    device.rename(moved)  # what a lab does to cut a node's connection
    assert not b.reachable() and b.read() == []
    try:
        a.write(b"two")
        raise AssertionError("a write to a cut disk must fail")
    except OSError:
        pass
    moved.rename(device)  # healed: the same file again
    assert b.read() == [("hb:a-b", b"one")]
    a.close()
    b.close()
