from halang.checks.registry import Check
from halang.diagnostics import Severity


class UnsignedHeartbeats(Check):
    """No key_file: heartbeats and control messages are not authenticated.

    Without a shared secret any host that can send UDP to the heartbeat port
    can forge a heartbeat, keep a dead node looking alive, or ask a node to
    release its groups. With `key_file`, every heartbeat and control message is
    signed with the key, and messages that fail the check are dropped and
    counted.

    Bad:
        heartbeat { interval = 1s }

    Good:
        heartbeat { interval = 1s  key_file = "/etc/halang/payments.key" }
    """

    code = "HA601"
    name = "security.unsigned-heartbeats"
    severity = Severity.WARNING

    def run(self, context):
        heartbeat = context.cluster.heartbeat
        # A key_file written but invalid (a relative path) is HA104's, not "there is no key_file".
        written = any(attribute.key == "key_file" for block in context.tree.blocks_of("heartbeat")
                      for attribute in block.attributes)
        if heartbeat.key_file is None and not written:
            yield self.finding(heartbeat.span() if heartbeat.spans else context.cluster.span(),
                               "heartbeats and control messages are not authenticated: there is no key_file",
                               'add key_file = "/etc/halang/<cluster>.key" to the heartbeat block, '
                               "the same file on every node")
