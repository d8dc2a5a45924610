from halang.checks.registry import Check
from halang.diagnostics import Severity


class LinkDeviceMissing(Check):
    """Link device missing on a node: a link's serial line, target-mode device or heartbeat disk is not there.

    A non-IP link is what keeps two nodes from taking each other for dead when
    the IP network fails, so a link whose device is missing on one end leaves
    the cluster one IP failure from a split or an outage while the file says
    otherwise. `halang deploy` looks for each link's device (or, for a `disk`
    link, the shared block device or file) on every node of the link before
    it changes anything (and `halang deploy --check` only looks).

    Serial ports and disks are often named differently on each node: write
    the path per node (`alpha = "/dev/ttyS1"`) rather than one `device` for
    all, and for a shared disk prefer a stable name (`/dev/disk/by-id/...`,
    `/dev/mapper/...`) to `/dev/sdX`, which can change at boot.

    Bad:
        cluster payments {
          node alpha { }
          node bravo { }    # bravo's serial port is /dev/ttyS0
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
        }

    Good:
        cluster payments {
          node alpha { }
          node bravo { }    # bravo's serial port is /dev/ttyS0
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS0" }
        }
    """

    code = "HA703"
    name = "node.link-device-missing"
    severity = Severity.ERROR
    phase = "deploy"
