import posixpath

from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class ResourceInTwoGroups(Check):
    """One volume group, filesystem mount point or application start script in two resource groups.

    A resource group is the unit that moves: when it comes online on a node,
    that node varies on its volume groups, mounts its filesystems and starts
    its applications, and no other node does. Two groups move independently,
    so two groups naming the same volume group can be online on two nodes at
    once, each with the volume group varied on and the filesystem on it
    mounted read-write: the data is corrupted, the very failure shared
    storage clusters are built to prevent. A mount point or a start script in
    two groups is the same storage or the same service started twice.

    A concurrent group (`startup = all_available`) is one group online on
    several nodes, and may name storage built for that (a concurrent volume
    group); it is never two groups. Mount points and script paths are
    compared as paths (`/orders/` is `/orders`); volume group names as
    written, case included, as LVM does.

    Each group after the first (in file order) that names the resource is
    reported, at its mention, pointing at the first group's. Fixes: put the
    storage and the application that uses it in one group, and tie the other
    group to it with `same_node_as` or `after`; or give each group its own.

    Bad:
        resource_group orders {
          nodes         = [alpha, bravo]
          volume_groups = [sharedvg]
          filesystem /orders { }
        }
        resource_group billing {
          nodes         = [bravo, alpha]
          volume_groups = [sharedvg]
          filesystem /orders { }
        }

    Good:
        resource_group orders {
          nodes         = [alpha, bravo]
          volume_groups = [ordersvg]
          filesystem /orders { }
        }
        resource_group billing {
          nodes         = [bravo, alpha]
          volume_groups = [billingvg]
          filesystem /billing { }
          same_node_as  = [orders]
        }
    """

    code = "HA407"
    name = "dependency.resource-in-two-groups"
    severity = Severity.ERROR

    def run(self, context):
        vg_items = context.group_list_items("volume_groups")
        uses = []  # (kind, key, group, span, words)
        for group in context.cluster.groups:
            for vg in group.volume_groups:
                span = vg_items.get((group.name, vg), group.span("volume_groups"))
                uses.append(("volume group", vg, group.name, span, f"volume group {vg}"))
            for filesystem in group.filesystems:
                uses.append(("filesystem", posixpath.normpath(filesystem.mount_point), group.name,
                             filesystem.span("mount_point"), f"filesystem {filesystem.mount_point}"))
            for application in group.applications:
                uses.append(("start script", posixpath.normpath(application.start), group.name,
                             application.span("start"), f"start script {application.start} (application "
                                                        f"{application.name})"))
        first: dict[tuple[str, str], tuple[str, object, str]] = {}
        for kind, key, group, span, words in uses:
            owner = first.setdefault((kind, key), (group, span, words))
            if owner[0] == group:
                continue  # within one group a repeat is another code's (HA101), or harmless
            yield self.finding(
                span, f"{words} belongs to resource group {group} and already to resource group {owner[0]}: "
                      "the two could bring it up on two nodes at once",
                f"a {kind} belongs to one group: put it and what uses it in one group and tie the other with "
                f"same_node_as = [{owner[0]}] or after = [{owner[0]}], or give {group} a {kind} of its own",
                related=(Related(owner[1], f"first named here, by {owner[0]}: {owner[2]}"),))
