"""`halang deploy`: every node runs the same verified, signed bundle, or none changes (docs/deploy.md).

    plan.py        pure: where nodes are reached, who runs what (drift), pre-flight findings HA701-HA705
    transport.py   SshTransport (OpenSSH's client), LocalTransport (a directory per node), RecordingTransport
    node_agent.py  the node side, sent as text: status, preflight, stage, accept, activate, restore, start
    rollout.py     one agent operation on one node; many nodes, N at a time
    command.py     deploy, rollback, diff --deployed and start, talking through a Console
"""

from halang.deploy.command import Console, DeployError, Options, deploy_command, diff_deployed, rollback_command, \
    start_command
from halang.deploy.plan import Target
from halang.deploy.transport import LocalTransport, RecordingTransport, SshTransport, make_transport

__all__ = ["Console", "DeployError", "LocalTransport", "Options", "RecordingTransport", "SshTransport", "Target",
           "deploy_command", "diff_deployed", "make_transport", "rollback_command", "start_command"]
