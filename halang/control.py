"""The operator's commands: `halang status`, `move`, `online`, `offline`, `stop`, through the control socket of
the daemon on this node (runtime/node/control.py), and `start` through the deploy transport.

The daemon decides; these only ask and show. `move`, `online`, `offline` and
`stop` wait, as clRGmove does, until the cluster has done what was asked (or
`--timeout` passes), and say how long it took; `--no-wait` returns once the
request is accepted. Exit status: 0 done, 1 refused (the reason is printed),
2 the command could not run (no daemon here, no answer in time).
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Callable, Optional

from runtime.node.control import SOCKET, short_path

DEFAULT_STATE_DIR = "/var/lib/halang"
EXIT_DONE, EXIT_REFUSED, EXIT_TROUBLE = 0, 1, 2


class ControlError(Exception):
    """The daemon could not be asked; the message says why and what to do."""


def find_socket(state_dir: Optional[str]) -> Path:
    """The control socket to ask: the state directory's given, else this node's daemon's, else, with a lab up
    on this machine (`halang lab up`), that of the first lab node whose daemon answers."""
    if state_dir:
        return Path(state_dir) / SOCKET
    default = Path(DEFAULT_STATE_DIR) / SOCKET
    if default.exists():
        return default
    from halang.lab.command import lab_state_dirs

    for directory in lab_state_dirs().values():
        if (directory / SOCKET).exists():
            return directory / SOCKET
    return default


def ask(path: Path, message: dict, timeout: float) -> dict:
    """One request, one answer (runtime/node/control.py)."""
    data = exchange(path, json.dumps(message).encode("utf-8") + b"\n", timeout)
    try:
        answer = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ControlError("the daemon's answer is not JSON (is it this version of halang?)") from None
    if not isinstance(answer, dict):
        raise ControlError("the daemon's answer is not a JSON object")
    return answer


def exchange(path: Path, data: bytes, timeout: float) -> bytes:
    """Send the bytes, and read the one line that answers them."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    try:
        with short_path(str(path)) as address:
            connection.connect(address)
        connection.sendall(data)
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer
    except FileNotFoundError:
        raise ControlError(f"no halang daemon runs here: {path} does not exist (start it with systemctl start "
                           "halang-node@NODE, or say where with --state-dir)") from None
    except PermissionError:
        raise ControlError(f"{path}: permission denied (the control socket is root's)") from None
    except ConnectionRefusedError:
        raise ControlError(f"{path}: nobody answers (its daemon has stopped)") from None
    except socket.timeout:
        raise ControlError(f"the daemon did not answer within {timeout:.0f} s") from None
    except OSError as exc:
        raise ControlError(f"{path}: {exc.strerror or exc}") from None
    finally:
        connection.close()


def status(path: Path, timeout: float = 5.0) -> dict:
    answer = ask(path, {"op": "status"}, timeout)
    if not answer.get("ok") or not isinstance(answer.get("status"), dict):
        raise ControlError(f"status: {answer.get('error', 'no status in the answer')}")
    return answer["status"]


# ------------------------------------------------------------------ requests, and waiting for them to be done


def request(path: Path, message: dict, wait: bool, timeout: float, say: Callable[[str], None],
            warn: Callable[[str], None], clock: Callable[[], float] = time.monotonic, pause: Callable[[float], None] = time.sleep) -> int:
    """Ask, print the answer, and wait until the cluster shows it done."""
    started = clock()
    answer = ask(path, message, timeout)
    if "error" in answer:
        warn(f"halang: {answer['error']}")
        return EXIT_TROUBLE
    if not answer.get("ok"):
        say(f"refused: {answer.get('text', '')}")
        return EXIT_REFUSED
    say(f"accepted: {answer.get('text', '')}")
    if not wait:
        return EXIT_DONE
    done = _done_when(message)
    deadline = started + timeout
    last = ""
    while True:
        try:
            seen = status(path, max(1.0, min(5.0, deadline - clock())))
        except ControlError:
            if message["op"] == "stop":  # the node asked stopped itself: its socket went with it
                say(f"done: the daemon of {message['node']} left ({clock() - started:.1f} s)")
                return EXIT_DONE
            raise
        finished, where = done(seen)
        if finished:
            say(f"done: {where} ({clock() - started:.1f} s)")
            return EXIT_DONE
        if where != last:
            say(f"  {where}")
            last = where
        if clock() >= deadline:
            warn(f"halang: not done within {timeout:.0f} s: {where} (halang status shows more)")
            return EXIT_TROUBLE
        pause(0.2)


def _done_when(message: dict) -> Callable[[dict], tuple]:
    operation = message["op"]
    if operation == "stop":
        node = message["node"]

        def stopped(seen: dict) -> tuple:
            state = next((item["state"] for item in seen["nodes"] if item["name"] == node), "down")
            return state == "down", f"{node} is {state}"
        return stopped
    group = message["group"]

    def placed(seen: dict) -> tuple:
        item = next(entry for entry in seen["groups"] if entry["name"] == group)
        holders = item["holders"]
        where = ", ".join(f"{node} {phase}" for node, phase in holders.items()) or "held nowhere"
        if operation == "offline":
            return not holders and not item["placed"], f"{group} is offline" if not holders else f"{group}: {where}"
        target = message.get("to")
        online = item["state"] == "online" and (not target or item["placed"] == [target])
        return online, f"{group} is online on {', '.join(item['placed'])}" if online else f"{group}: {where}"
    return placed


# ------------------------------------------------------------------ status as text


def status_text(seen: dict) -> str:
    """Like crm_mon or clstat, once: the nodes, the groups (where and why), the paths."""
    lines = [f"Cluster {seen['cluster']}, as {seen['node']} sees it: view {seen['view']}"
             + ("" if seen["agreed"] else " (not agreed yet)") + f", plan {seen['plan'] or '-'}, "
             f"leader {seen['leader']}"]
    if seen.get("stopping"):
        lines.append(f"{seen['node']} is stopping ({seen['stopping']})")
    lines += ["", "Nodes"]
    rows = []
    for node in seen["nodes"]:
        extra = node.get("why", "")
        if node["state"] != "down":
            held = ", ".join(node["holds"]) or "nothing"
            extra = f"holds {held}" + (f"; refuses {', '.join(node['refused'])}" if node["refused"] else "")
        rows.append((node["name"], node["state"], extra))
    lines += _table(rows)
    lines += ["", "Groups"]
    rows = []
    for group in seen["groups"]:
        where = ", ".join(f"{node}" + ("" if phase == "online" else f" ({phase})")
                          for node, phase in group["holders"].items())
        rows.append((group["name"], group["state"], where or "-", group["why"]))
    lines += _table(rows)
    lines += ["", "Heartbeat paths"]
    lines += _table([("heard" if path["heard"] else "NOT HEARD", path["medium"], " - ".join(path["between"]))
                     for path in seen["paths"]])
    failed = [f"{item['node']}/{item['ifname']} ({'no carrier' if not item['carrier'] else 'silent'})"
              for item in seen["adapters"] if item["state"] == "failed"]
    if failed:
        lines += ["", "Adapters failed: " + ", ".join(failed)]
    doubtful = [f"{item['node']}/{item['ifname']}" for item in seen["adapters"] if item["state"] == "in doubt"]
    if doubtful:
        lines += ["", "Adapters in doubt (silent, no evidence of which end failed: they keep what they hold and take "
                      "nothing): " + ", ".join(doubtful)]
    if seen.get("offline"):
        lines += ["", "Held offline by the operator: " + ", ".join(seen["offline"])]
    if seen.get("requests"):
        lines += ["", "Requests waiting for an answer: " + "; ".join(seen["requests"])]
    return "\n".join(lines)


def _table(rows: list) -> list:
    if not rows:
        return ["  (none)"]
    widths = [max(len(str(row[column])) for row in rows) for column in range(len(rows[0]) - 1)]
    return ["  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) + "  " + str(row[-1])
            for row in rows]


def status_json(seen: dict) -> str:
    return json.dumps(seen, indent=2, sort_keys=True)

