from halang.checks.registry import Check
from halang.diagnostics import Severity


class FstabFilesystem(Check):
    """A filesystem without a device is mounted by its /etc/fstab entry, with halang's own agent.

    `filesystems = ["/srv/a"]` names only a mount point and leaves the rest
    to `/etc/fstab`. Pacemaker's `Filesystem` agent needs the device and
    type, so the export mounts such a filesystem with a small agent it
    writes (`ocf/halang/fstab`: `mount` and `umount` of the mount point).
    The fstab entry must say `noauto` on every node, or the node mounts it
    at boot whatever the cluster decides; and unlike `Filesystem`, the agent
    does not kill processes that keep the filesystem busy, so such a stop
    fails and Pacemaker fences the node.

    Fix: write the filesystem as a block with its device and type.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group web { nodes = [alpha, bravo]  filesystems = ["/srv/web"] }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group web {
            nodes = [alpha, bravo]
            filesystem "/srv/web" { device = "/dev/webvg/weblv"  fstype = "xfs" }
          }
        }
    """

    code = "HA812"
    name = "export.fstab-filesystem"
    severity = Severity.WARNING
    phase = "export"
