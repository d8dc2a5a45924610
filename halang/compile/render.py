"""The bundle's text files, rendered with jinja2 from the templates kept beside this module.

`render_files(cluster, version)` is pure: member path -> text, for the systemd
unit, one wrapper per declared event kind and the README. Templates are read
from `halang/compile/templates/`; nothing in them depends on time or on the
machine that compiles.
"""

from __future__ import annotations

import json
import math
import shlex
from functools import cache
from pathlib import Path

import jinja2

from halang.compile.plans import EVENT_ARGUMENTS, event_member
from halang.model.cluster import Cluster, Event

TEMPLATES = Path(__file__).parent / "templates"
BUNDLE_PATH = "/var/lib/halang/current.pyz"
PYTHON = "/usr/bin/python3"
UNIT_MEMBER = "systemd/halang-node@.service"
README_MEMBER = "README.txt"
STOP_MARGIN_S = 30


def shq(value: str | None) -> str:
    """A shell word for the value (`''` for none)."""
    return shlex.quote(value or "")


def shown(value: str | None) -> str:
    """The value for a comment: as written if printable, else JSON-escaped; `(none)` if unset."""
    if value is None:
        return "(none)"
    return value if value.isprintable() else json.dumps(value, ensure_ascii=False)


def template_environment(directory: Path) -> jinja2.Environment:
    """Templates of plain text (no HTML escaping), strict about undefined names, with the `shq` and `shown`
    filters; what the bundle's and the export's templates are rendered with."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(directory)), autoescape=False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["shq"] = shq
    env.filters["shown"] = shown
    return env


@cache
def environment() -> jinja2.Environment:
    return template_environment(TEMPLATES)


def render_files(cluster: Cluster, version: str) -> dict[str, str]:
    files = {UNIT_MEMBER: render_unit(cluster, version), README_MEMBER: render_readme(cluster, version)}
    for event in cluster.events:
        files[event_member(event.kind)] = render_event(cluster, event, version)
    return files


def render_unit(cluster: Cluster, version: str) -> str:
    stop_ms = sum(app.timeout_ms for group in cluster.groups for app in group.applications)
    stop_s = math.ceil(stop_ms / 1000)
    return environment().get_template("halang-node@.service.j2").render(
        cluster=cluster.name, version=version, python=PYTHON, bundle_path=BUNDLE_PATH,
        stop_scripts_s=stop_s, stop_timeout_s=stop_s + STOP_MARGIN_S)


def render_event(cluster: Cluster, event: Event, version: str) -> str:
    arguments = EVENT_ARGUMENTS[event.kind]
    if arguments[-1].endswith("..."):  # one argument per node: the variable holds them all, space-separated
        env = ["HALANG_" + arguments[-1].rstrip(".")]
        assignments = [f'{env[0]}="$*"']
    else:
        env = ["HALANG_" + name for name in arguments]
        assignments = [f"{name}=${index}" for index, name in enumerate(env, start=1)]
    return environment().get_template("event.sh.j2").render(
        kind=event.kind, cluster=cluster.name, version=version, args=arguments, required=len(arguments),
        env=env, assignments=assignments, pre=event.pre, notify=event.notify, recovery=event.recovery,
        post=event.post)


def render_readme(cluster: Cluster, version: str) -> str:
    return environment().get_template("README.txt.j2").render(
        cluster=cluster.name, version=version, python=PYTHON, bundle_path=BUNDLE_PATH,
        nodes=[node.name for node in cluster.nodes], events=[event.kind for event in cluster.events])
