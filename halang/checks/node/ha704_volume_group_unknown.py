from halang.checks.registry import Check
from halang.diagnostics import Severity


class VolumeGroupUnknown(Check):
    """Volume group unknown on a node: a group's volume group is not known to LVM on one of its nodes.

    A resource group activates its `volume_groups` on whichever node takes it
    over. If a node's LVM does not know a volume group, because its disks are
    not zoned or mapped to that node, or it was never imported there, the
    takeover stops at the volume groups and the group does not come up: the
    HACMP equivalent of a shared volume group not imported on the standby
    node. `halang deploy` looks on every node of each group before it
    changes anything (and `halang deploy --check` only looks): LVM knows a
    volume group by its metadata backup (`/etc/lvm/backup/VG`), an active
    one by `/dev/VG`.

    Fixes: present the shared disks to every node of the group's `nodes`
    list, import the volume group there if it was exported (`vgimport`), and
    check that `vgs` lists it; or correct the name in the file to what `vgs`
    shows.

    Bad:
        cluster payments {
          node alpha { }
          node bravo { }    # vgs on alpha and bravo: rootvg, appavg
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app_a { nodes = [alpha, bravo]  volume_groups = [app_a_vg] }
        }

    Good:
        cluster payments {
          node alpha { }
          node bravo { }    # vgs on alpha and bravo: rootvg, appavg
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app_a { nodes = [alpha, bravo]  volume_groups = [appavg] }
        }
    """

    code = "HA704"
    name = "node.volume-group-unknown"
    severity = Severity.ERROR
    phase = "deploy"
