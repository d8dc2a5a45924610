"""The daemon's control socket (runtime/node/control.py) and the client the commands use (halang/control.py), on a
socket in the test's folder: what reaches the daemon, what a bad client gets, and who may connect."""

from __future__ import annotations

import json
import os
import selectors
import socket
import stat
import threading

import pytest

from halang.control import ControlError, ask, exchange, request
from runtime.node.control import MAX_LINE, ControlServer


class Served:
    """A ControlServer run by a thread that answers each request with `answer(request)`."""

    def __init__(self, directory, answer):
        self.selector = selectors.DefaultSelector()
        self.server = ControlServer(str(directory), self.selector)
        self.answer = answer
        self.seen: list = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            for key, _ in self.selector.select(0.05):
                for connection, message in self.server.ready(key.data[1]):
                    self.seen.append(message)
                    self.server.answer(connection, self.answer(message))

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=5)
        self.server.close()


@pytest.fixture
def served(tmp_path):
    made = []

    def make(answer, directory=tmp_path):
        made.append(Served(directory, answer))
        return made[-1]

    yield make
    for item in made:
        item.close()


def raw(path, data: bytes) -> dict:
    return json.loads(exchange(path, data, 5))


def test_a_request_reaches_the_daemon_as_json_and_the_socket_is_roots_alone(served, tmp_path):
    item = served(lambda request: {"ok": True, "status": {"echo": request}})
    assert ask(tmp_path / "control.sock", {"op": "status"}, 5) == {"ok": True, "status": {"echo": {"op": "status"}}}
    assert stat.S_IMODE(os.stat(tmp_path / "control.sock").st_mode) == 0o600
    assert item.seen == [{"op": "status"}]


def test_what_is_not_a_json_object_is_answered_with_an_error_and_never_reaches_the_daemon(served, tmp_path):
    item = served(lambda request: {"ok": False, "error": request} if isinstance(request, str) else {"ok": True})
    path = tmp_path / "control.sock"
    assert raw(path, b"\xff\xfe\n") == {"ok": False, "error": "the request is not JSON"}
    assert raw(path, b"[1, 2]\n") == {"ok": False, "error": "the request is not a JSON object"}
    assert raw(path, b"x" * (MAX_LINE + 10)) == {"ok": False,
                                                  "error": f"a request is one line of at most {MAX_LINE} bytes"}
    assert item.seen == ["the request is not JSON", "the request is not a JSON object"]


def test_a_state_directory_deeper_than_a_socket_address_takes_still_works(served, tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    served(lambda request: {"ok": True, "status": {}}, deep)
    assert len(str(deep / "control.sock")) > 108
    assert ask(deep / "control.sock", {"op": "status"}, 5) == {"ok": True, "status": {}}


def test_no_daemon_and_a_dead_daemon_are_told_apart(tmp_path):
    with pytest.raises(ControlError, match="no halang daemon runs here: .* does not exist"):
        ask(tmp_path / "control.sock", {"op": "status"}, 1)
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(tmp_path / "control.sock"))  # bound, never listening: what a killed daemon leaves
    left.close()
    with pytest.raises(ControlError, match="nobody answers"):
        ask(tmp_path / "control.sock", {"op": "status"}, 1)


def statuses(*groups):
    """Status answers, one per poll, for a group `web` held as given."""
    return [{"ok": True, "status": {"groups": [{"name": "web", "state": state, "placed": placed,
                                                "holders": holders}], "nodes": []}}
            for state, placed, holders in groups]


def test_a_request_waits_until_the_cluster_shows_it_done(served, tmp_path):
    polls = statuses(("moving", ["bravo"], {"alpha": "releasing"}), ("moving", ["bravo"], {"bravo": "acquiring"}),
                     ("online", ["bravo"], {"bravo": "online"}))

    def answer(message):
        if message["op"] == "move":
            return {"ok": True, "text": "web moves from alpha to bravo"}
        return polls.pop(0)

    served(answer)
    said, warned = [], []
    code = request(tmp_path / "control.sock", {"op": "move", "group": "web", "to": "bravo"}, True, 30,
                   said.append, warned.append, pause=lambda seconds: None)
    assert code == 0
    assert said[0] == "accepted: web moves from alpha to bravo"
    assert said[1:3] == ["  web: alpha releasing", "  web: bravo acquiring"]
    assert said[3].startswith("done: web is online on bravo (")
    assert warned == []


def test_a_refusal_is_exit_1_and_an_error_exit_2(served, tmp_path):
    answers = [{"ok": False, "text": "bravo cannot host web: bravo is down"}, {"ok": False, "error": "no group named 'x'"}]
    served(lambda message: answers.pop(0))
    said, warned = [], []
    message = {"op": "move", "group": "web", "to": "bravo"}
    assert request(tmp_path / "control.sock", message, True, 30, said.append, warned.append) == 1
    assert request(tmp_path / "control.sock", message, True, 30, said.append, warned.append) == 2
    assert said == ["refused: bravo cannot host web: bravo is down"]
    assert warned == ["halang: no group named 'x'"]


def test_a_request_not_done_in_time_says_how_far_it_got(served, tmp_path):
    stuck = statuses(("moving", ["bravo"], {"bravo": "acquiring"}))[0]
    served(lambda message: {"ok": True, "text": "web moves"} if message["op"] == "move" else stuck)
    times = iter(range(0, 1000, 10))
    said, warned = [], []
    code = request(tmp_path / "control.sock", {"op": "move", "group": "web", "to": "bravo"}, True, 30, said.append,
                   warned.append, clock=lambda: next(times), pause=lambda seconds: None)
    assert code == 2
    assert warned == ["halang: not done within 30 s: web: bravo acquiring (halang status shows more)"]
