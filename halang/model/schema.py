"""What each block may say: its attributes, their types, ranges and defaults.

The grammar fixes the block structure; this table gives every attribute its
meaning, so a misspelt key is HA104 with a suggestion and a value of the wrong
kind says what was expected. LANGUAGE.md is the source of every row.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attr:
    # duration | integer | number | size | string | abspath | command | enum | name | names | strings | addresses
    type: str
    choices: tuple[str, ...] = ()
    minimum: int | float | None = None
    maximum: int | float | None = None
    required: bool = False

    def describe(self) -> str:
        if self.type == "enum":
            return "one of " + ", ".join(self.choices)
        return TYPE_WORDS[self.type]


TYPE_WORDS = {
    "duration": "a duration such as 500ms, 5s or 10m",
    "integer": "an integer",
    "number": "a number such as 2 or 1.5",
    "size": "a size such as 512M or 4G",
    "string": "a quoted string",
    "abspath": 'an absolute path in quotes, such as "/etc/halang/key"',
    "command": 'an absolute path in quotes, such as "/opt/app/bin/start"',
    "name": "a name",
    "names": "a list of names, such as [alpha, bravo]",
    "strings": 'a list of quoted strings, such as ["/srv/a"]',
    "addresses": "a list of addresses without a prefix, such as [10.10.1.1, 10.10.2.1]",
}

EVENT_KINDS = ("node_up", "node_down", "network_up", "network_down", "adapter_down", "adapter_up",
               "rg_online", "rg_offline", "rg_move", "split_brain")

BLOCKS: dict[str, dict[str, Attr]] = {
    "heartbeat": {
        "interval": Attr("duration", minimum=10, maximum=60_000),
        "miss_limit": Attr("integer", minimum=2, maximum=100),
        "port": Attr("integer", minimum=1, maximum=65535),
        "key_file": Attr("abspath"),
        "quorum": Attr("enum", ("majority", "none")),
        "tie_breaker": Attr("name"),
    },
    "node": {
        "domains": Attr("names"),
        "ssh": Attr("string"),
    },
    "capacity": {
        "cpu": Attr("number", minimum=0),
        "memory": Attr("size"),
    },
    "network": {
        "type": Attr("enum", ("ether", "token", "fddi", "atm", "socc", "slip")),
        "ipat": Attr("enum", ("alias", "replace")),
        "ping_targets": Attr("addresses"),
    },
    "link": {
        "type": Attr("enum", ("rs232", "disk", "tmscsi", "tmssa"), required=True),
        "device": Attr("abspath"),
        "nodes": Attr("names"),
        # Any other key names a node; its value is that node's device.
    },
    "resource_group": {
        "nodes": Attr("names", required=True),
        "startup": Attr("enum", ("home_node", "first_available", "all_available")),
        "fallover": Attr("enum", ("next_priority", "least_loaded", "bring_offline")),
        "fallback": Attr("enum", ("never", "higher_priority")),
        "fallback_delay": Attr("duration"),
        "service_ips": Attr("names"),
        "volume_groups": Attr("names"),
        "filesystems": Attr("strings"),
        "rto": Attr("duration"),
        "after": Attr("names"),
        "same_node_as": Attr("names"),
        "different_node_from": Attr("names"),
    },
    "filesystem": {
        "device": Attr("string"),
        "fstype": Attr("string"),
        "options": Attr("string"),
    },
    "application": {
        "start": Attr("command", required=True),
        "stop": Attr("command", required=True),
        "timeout": Attr("duration", minimum=1),
    },
    "monitor": {
        "command": Attr("command"),
        "process": Attr("string"),
        "interval": Attr("duration", minimum=1),
        "timeout": Attr("duration", minimum=1),
        "restarts": Attr("integer", minimum=0, maximum=100),
        "stabilization": Attr("duration"),
    },
    "requires": {
        "cpu": Attr("number", minimum=0),
        "memory": Attr("size"),
    },
    "event": {
        "pre": Attr("command"),
        "post": Attr("command"),
        "notify": Attr("command"),
        "recovery": Attr("command"),
    },
}

# Blocks that may appear at most once inside their parent.
SINGLE_BLOCKS = {"heartbeat", "capacity", "monitor", "requires"}
