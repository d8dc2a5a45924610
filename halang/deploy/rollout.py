"""Talking to the nodes: every operation of the node agent, on every node, N at a time.

`Nodes.call(node, operation, ...)` runs the agent (halang/deploy/node_agent.py) on each node through the transport
and gives back what it answered or the sentence that says why it could not.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from halang.deploy.plan import Target
from halang.deploy.transport import Transport, Unreachable

AGENT = (Path(__file__).parent / "node_agent.py").read_text()


@dataclass(frozen=True)
class Answer:
    node: str
    ok: bool
    value: dict  # the agent's answer when ok
    error: str = ""


Progress = Callable[[str, str], None]  # (node, what happens now)


class Nodes:
    def __init__(self, transport: Transport, targets: dict[str, Target], parallel: int = 4,
                 progress: Progress | None = None, reload_timeout: int = 60):
        self.transport = transport
        self.targets = targets
        self.parallel = max(1, parallel)
        self.progress = progress or (lambda node, text: None)
        self.reload_timeout = reload_timeout

    def call(self, node: str, operation: str, *args: str, data: bytes = b"") -> Answer:
        transport = self.transport
        argv = [transport.python, "-c", AGENT, operation, transport.root(node), *args]
        try:
            done = transport.run(self.targets[node], argv, data, operation)
        except Unreachable as exc:
            return Answer(node, False, {}, f"unreachable: {exc}")
        try:
            answer = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            said = (done.stderr.strip() or done.stdout.strip() or f"exit {done.code}").splitlines()[-1]
            return Answer(node, False, {}, f"{operation} failed: {said}")
        if "error" in answer or done.code != 0:
            return Answer(node, False, {}, str(answer.get("error", f"exit {done.code}")))
        return Answer(node, True, answer)

    def map(self, nodes: list[str], work: Callable[[str], Answer], at_once: bool = False) -> dict[str, Answer]:
        """`work` on every node, N at a time (`at_once`: all together); the answers in the nodes' order."""
        with ThreadPoolExecutor(max_workers=len(nodes) if at_once and nodes else self.parallel) as pool:
            answers = list(pool.map(work, nodes))
        return {answer.node: answer for answer in answers}

    # ------------------------------------------------------------ the operations

    def status(self, node: str) -> Answer:
        return self.call(node, "status")

    def probe(self, node: str, bundle: bytes) -> Answer:
        return self.call(node, "preflight", self.transport.sysfs(node), node, data=bundle)

    def stage(self, node: str, content_hash: str, sha256: str, signature: str, bundle: bytes) -> Answer:
        self.progress(node, "staging")
        return self.call(node, "stage", content_hash, sha256, signature, data=bundle)

    def accept(self, node: str, content_hash: str, signature: str) -> Answer:
        self.progress(node, "checking")
        return self.call(node, "accept", content_hash, signature)

    def activate(self, node: str, content_hash: str, release: list[str]) -> Answer:
        self.progress(node, "activating" + (f", releasing first {', '.join(release)}" if release else ""))
        return self.call(node, "activate", content_hash, str(self.reload_timeout), ",".join(release) or "-")

    def restore(self, node: str, current: str | None, previous: str | None) -> Answer:
        self.progress(node, "going back")
        return self.call(node, "restore", current or "-", previous or "-", str(self.reload_timeout))
