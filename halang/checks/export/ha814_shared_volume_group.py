from halang.checks.registry import Check
from halang.diagnostics import Severity


class SharedVolumeGroup(Check):
    """A concurrent group's volume groups need lvmlockd and dlm, which the export does not write.

    A volume group of an exclusive group is exported as `LVM-activate` with
    `vg_access_mode=system_id` (one node at a time). A concurrent group
    (`startup = all_available`) activates it on every node at once, which
    LVM allows only with shared activation under lvmlockd
    (`vg_access_mode=lvmlockd activation_mode=shared`), and lvmlockd needs
    the dlm: two clones the site must add and order before the group, and
    the volume group must have been created shared. Without them the group
    fails to start on every node.

    Fix: add the `ocf:pacemaker:controld` and `ocf:heartbeat:lvmlockd`
    clones, ordered before the group's clone.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group scan { nodes = [alpha, bravo]  startup = all_available  volume_groups = [scanvg] }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group scan { nodes = [alpha, bravo]  startup = all_available }
        }
    """

    code = "HA814"
    name = "export.shared-volume-group"
    severity = Severity.WARNING
    phase = "export"
