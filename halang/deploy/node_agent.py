"""The node side of `halang deploy`: sent as text and run as `python3 -c AGENT OP ROOT ARGS...` on each node.

Not imported by halang: it runs on the node, so it is Python 3.9 and the standard library only. Each
operation prints one JSON object on standard output and exits 0, or prints {"error": SENTENCE} and exits 1.
Paths are under ROOT (`/` on a real node):

    ROOT/var/lib/halang/bundles/HASH.pyz   every staged bundle, named by its content hash (HASH.sig beside it)
    ROOT/var/lib/halang/current.pyz        a symbolic link to the bundle the node runs, switched by rename
    ROOT/var/lib/halang/previous.pyz       a symbolic link to the bundle it ran before (rollback)
    ROOT/var/lib/halang/daemon.json        written by the running daemon: its pid and bundle

    status ROOT                                  what the node runs, ran before, and its daemon
    preflight ROOT SYSFS NODE       < bundle     the bundle's own probe, from a temporary file
    stage ROOT HASH SHA256 SIGNATURE  < bundle   write bundles/HASH.pyz, check it there, have the node accept it
    accept ROOT HASH SIGNATURE                   have the node accept a bundle it already has (rollback)
    activate ROOT HASH TIMEOUT RELEASE           switch current to it and have the daemon load it, releasing first
                                                 the groups RELEASE names (comma-separated, "-": none)
    restore ROOT CURRENT PREVIOUS TIMEOUT        put both links back as they were ("-": none)
    start ROOT NODE TIMEOUT                      start the node's daemon (`halang start`): its systemd unit where
                                                 systemd runs the machine, else the current bundle in the background
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile


class Refused(Exception):
    pass


def home(root):
    return os.path.join(root, "var/lib/halang")


def link_target(root, name):
    """The content hash a link (current.pyz, previous.pyz) points at, or None."""
    try:
        target = os.readlink(os.path.join(home(root), name))
    except OSError:
        return None
    base = os.path.basename(target)
    return base[:-4] if base.endswith(".pyz") else None


def describe(path):
    """The manifest's content hash and the snapshot of a bundle file, the snapshot checked against its hash."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json").decode("utf-8"))
            snapshot = archive.read("snapshot.json")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        return {"damaged": "%s cannot be read as a bundle (%s)" % (path, exc)}
    if hashlib.sha256(snapshot).hexdigest() != manifest.get("members", {}).get("snapshot.json"):
        return {"damaged": "%s: its snapshot does not match its manifest" % path}
    return {"hash": manifest.get("content_hash"), "snapshot": json.loads(snapshot.decode("utf-8"))}


def daemon(root):
    """The running daemon (pid, bundle, incarnation) as it wrote itself down, or None when none runs."""
    try:
        with open(os.path.join(home(root), "daemon.json")) as handle:
            data = json.load(handle)
        os.kill(int(data["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data


def status(root):
    found = {"current": None, "previous": None, "daemon": daemon(root)}
    for name in ("current", "previous"):
        if link_target(root, name + ".pyz") is not None:
            found[name] = describe(os.path.join(home(root), name + ".pyz"))
    return found


def bundle_path(root, content_hash):
    return os.path.join(home(root), "bundles", content_hash + ".pyz")


def run_bundle(path, *args):
    done = subprocess.run([sys.executable, path] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def preflight(root, sysfs, node):
    with tempfile.NamedTemporaryFile(prefix="halang-preflight-", suffix=".pyz") as handle:
        handle.write(sys.stdin.buffer.read())
        handle.flush()
        code, out, err = run_bundle(handle.name, "preflight", "--node", node, "--root", root, "--sysfs", sysfs)
    if code != 0:
        raise Refused("the pre-flight probe failed: %s" % (err.strip() or "exit %d" % code))
    return json.loads(out)


def check_accepted(root, content_hash, path, claimed):
    """The node's check, by the code it runs now; a node that runs nothing takes its first bundle unchecked."""
    current = os.path.join(home(root), "current.pyz")
    if link_target(root, "current.pyz") is None:
        return "first deploy to this node: nothing runs here, so there is no key to check the signature with"
    if "damaged" in describe(current):
        raise Refused("the bundle this node runs is damaged, so it cannot check the signature; to deploy here as "
                      "a first deploy, remove %s on the node" % current)
    code, out, err = run_bundle(current, "--bundle", path, "accept", "--signature", claimed, "--root", root)
    if code != 0:
        raise Refused(err.strip().replace("halang bundle: ", "") or "the running bundle refused it (exit %d)" % code)
    return out.strip()


def stage(root, content_hash, sha256, claimed):
    data = sys.stdin.buffer.read()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise Refused("the bundle arrived damaged: sha256 %s, sent %s" % (actual[:16], sha256[:16]))
    final = bundle_path(root, content_hash)
    os.makedirs(os.path.dirname(final), exist_ok=True)
    partial = final + ".partial"
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        code, out, err = run_bundle(partial, "verify")
        if code != 0:
            raise Refused("the staged bundle does not verify: %s" % err.strip())
        if ("content sha256 %s" % content_hash) not in out:
            raise Refused("the staged bundle's content hash is not %s" % content_hash[:12])
        said = check_accepted(root, content_hash, partial, claimed)
        os.replace(partial, final)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    with open(final[:-4] + ".sig", "w") as handle:
        handle.write(claimed + "\n")
    return {"staged": final, "accepted": said}


def accept(root, content_hash, claimed):
    path = bundle_path(root, content_hash)
    if not os.path.isfile(path):
        raise Refused("bundle %s is not on this node any more" % content_hash[:12])
    code, out, err = run_bundle(path, "verify")
    if code != 0:
        raise Refused("bundle %s is damaged on this node: %s" % (content_hash[:12], err.strip()))
    return {"staged": path, "accepted": check_accepted(root, content_hash, path, claimed)}


def point(root, name, content_hash):
    """Point link `name` at a bundle (None: remove it), atomically: a new link renamed over the old."""
    path = os.path.join(home(root), name)
    if content_hash is None:
        if os.path.lexists(path):
            os.unlink(path)
        return
    fresh = path + ".new"
    if os.path.islink(fresh):
        os.unlink(fresh)
    os.symlink(os.path.join("bundles", content_hash + ".pyz"), fresh)
    os.replace(fresh, path)


def reload(root, content_hash, timeout, release=()):
    """SIGHUP to the running daemon, then wait until the process says it runs the bundle it was sent to."""
    before = daemon(root)
    if before is None:
        return "no daemon runs: it starts from current.pyz when started"
    if release:
        path = os.path.join(home(root), "release.json")
        with open(path + ".new", "w") as handle:
            json.dump({"groups": list(release)}, handle)
        os.replace(path + ".new", path)
    os.kill(int(before["pid"]), signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = daemon(root)
        if now is not None and now.get("incarnation") != before.get("incarnation"):
            if content_hash is None or content_hash.startswith(str(now.get("bundle"))):
                return "daemon %s reloaded" % now["pid"]
            raise Refused("daemon %s reloaded another bundle (%s)" % (now["pid"], now.get("bundle")))
        time.sleep(0.2)
    raise Refused("daemon %s did not report the new bundle within %ss" % (before["pid"], timeout))


def activate(root, content_hash, timeout, release="-"):
    if not os.path.isfile(bundle_path(root, content_hash)):
        raise Refused("bundle %s is not staged on this node" % content_hash[:12])
    old = link_target(root, "current.pyz")
    try:
        point(root, "current.pyz", content_hash)
    except OSError as exc:
        raise Refused("cannot switch current.pyz: %s" % exc)
    if old is not None and old != content_hash:
        point(root, "previous.pyz", old)
    groups = [] if release == "-" else release.split(",")
    return {"from": old, "to": content_hash, "daemon": reload(root, content_hash, float(timeout), groups)}


def restore(root, current, previous, timeout):
    current = None if current == "-" else current
    was = link_target(root, "current.pyz")
    point(root, "current.pyz", current)
    point(root, "previous.pyz", None if previous == "-" else previous)
    if was == current:
        said = "current.pyz had not changed"
    elif current is None:
        said = "no bundle to go back to: the daemon was left as it is"
    else:
        said = reload(root, current, float(timeout))
    return {"current": current, "daemon": said}


def start(root, node, timeout):
    running = daemon(root)
    if running is not None:
        return {"started": False, "pid": running["pid"]}
    current = os.path.join(home(root), "current.pyz")
    if not os.path.exists(current):
        raise Refused("no bundle is deployed here (%s): halang deploy first" % current)
    if root == "/" and os.path.isdir("/run/systemd/system"):
        how = "systemctl start halang-node@" + node
        done = subprocess.run(how.split(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if done.returncode:
            raise Refused("%s failed: %s" % (how, done.stderr.decode("utf-8", "replace").strip()))
    else:
        how = "%s run --node %s, in the background" % (current, node)
        with open(os.path.join(home(root), "daemon.out"), "ab") as output:
            subprocess.Popen([sys.executable, current, "run", "--node", node, "--state-dir", home(root)],
                             stdin=subprocess.DEVNULL, stdout=output, stderr=output, start_new_session=True)
    deadline = time.time() + float(timeout)
    while time.time() < deadline:
        running = daemon(root)
        if running is not None:
            return {"started": True, "pid": running["pid"], "how": how}
        time.sleep(0.2)
    raise Refused("started with %s, but no daemon wrote %s within %s s: see its log (journalctl -u "
                  "halang-node@%s, or %s)" % (how, os.path.join(home(root), "daemon.json"), timeout, node,
                                              os.path.join(home(root), "daemon.out")))


OPERATIONS = {"status": status, "preflight": preflight, "stage": stage, "accept": accept, "activate": activate,
              "restore": restore, "start": start}


def main(argv):
    operation = OPERATIONS.get(argv[0]) if argv else None
    if operation is None:
        print(json.dumps({"error": "unknown operation %r" % (argv[:1],)}))
        return 1
    try:
        result = operation(*argv[1:])
    except (Refused, OSError) as exc:
        print(json.dumps({"error": str(exc)}))
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
