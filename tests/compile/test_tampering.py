"""A bundle that does not match its manifest is refused, in a sentence, by read_bundle and by itself."""

import json
import zipfile

import pytest

from halang.compile import BundleError, read_bundle

from .conftest import rewrite_zip, run_bundle


def flip_a_byte(name):
    def change(members):
        data = bytearray(members[name])
        data[len(data) // 2] ^= 0x01
        members[name] = bytes(data)
    return change


def add_member(members):
    members["runtime/backdoor.py"] = b"print('hello')\n"


def drop_member(members):
    del members["plans/bravo.json"]


def drop_manifest(members):
    del members["manifest.json"]


def break_manifest(members):
    members["manifest.json"] = b"{ not json"


def rename_cluster_in_manifest(members):
    manifest = json.loads(members["manifest.json"])
    manifest["cluster"] = "other"
    members["manifest.json"] = json.dumps(manifest).encode()


def reseal_a_changed_member(members):
    """Change a member and fix its sha256 in the manifest, but not the content hash."""
    import hashlib
    members["plans/alpha.json"] = members["plans/alpha.json"].replace(b'"port": 7400', b'"port": 7401')
    manifest = json.loads(members["manifest.json"])
    manifest["members"]["plans/alpha.json"] = hashlib.sha256(members["plans/alpha.json"]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()


def escape_the_directory(members):
    manifest = json.loads(members["manifest.json"])
    manifest["members"]["../../etc/cron.d/x"] = "0" * 64
    members["manifest.json"] = json.dumps(manifest).encode()


CASES = [
    (flip_a_byte("snapshot.json"), "member snapshot.json does not match the manifest"),
    (flip_a_byte("events/node_down.sh"), "member events/node_down.sh does not match the manifest"),
    (add_member, "member runtime/backdoor.py is in the archive but not in the manifest"),
    (drop_member, "member plans/bravo.json is listed in the manifest but missing from the archive"),
    (drop_manifest, "not a halang bundle: it has no manifest.json"),
    (break_manifest, "manifest.json is not valid JSON"),
    (rename_cluster_in_manifest, "content hash"),
    (reseal_a_changed_member, "the manifest's content hash"),
    (escape_the_directory, "unsafe or invalid name: '../../etc/cron.d/x'"),
]


@pytest.mark.parametrize("change, message", CASES, ids=lambda case: getattr(case, "__name__", None))
def test_a_tampered_bundle_is_refused_by_read_bundle(two_node_bundle, tmp_path, change, message):
    tampered = rewrite_zip(two_node_bundle, tmp_path / two_node_bundle.name, change)
    with pytest.raises(BundleError) as caught:
        read_bundle(tampered)
    assert message in str(caught.value)
    assert str(tampered) in str(caught.value)


@pytest.mark.parametrize("change, message", CASES, ids=lambda case: getattr(case, "__name__", None))
def test_a_tampered_bundle_refuses_to_run(two_node_bundle, tmp_path, change, message):
    tampered = rewrite_zip(two_node_bundle, tmp_path / two_node_bundle.name, change)
    for command in (["verify"], ["info", "--node", "alpha"], ["run", "--node", "alpha"]):
        done = run_bundle(tampered, *command)
        assert done.returncode == 1, (command, done.stderr)
        assert message in done.stderr
        assert "Traceback" not in done.stderr
        assert done.stdout == ""


def test_a_tampered_engine_that_does_not_import_is_refused_in_a_sentence(two_node_bundle, tmp_path):
    def break_the_engine(members):
        members["runtime/__init__.py"] = b"def broken(:\n"
    tampered = rewrite_zip(two_node_bundle, tmp_path / "broken.pyz", break_the_engine)
    done = run_bundle(tampered, "info")
    assert done.returncode == 1
    assert "the runtime in this bundle does not load (SyntaxError" in done.stderr
    assert "member runtime/__init__.py does not match the manifest" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_damaged_zip_is_refused(two_node_bundle, tmp_path):
    data = bytearray(two_node_bundle.read_bytes())
    with zipfile.ZipFile(two_node_bundle) as archive:
        info = archive.getinfo("snapshot.json")
    data[info.header_offset + 30 + len(info.filename) + 5] ^= 0x01  # a byte inside the stored snapshot
    damaged = tmp_path / "damaged.pyz"
    damaged.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="member snapshot.json is damaged"):
        read_bundle(damaged)


@pytest.mark.parametrize("content, message", [
    (b"cluster c { node a { } }\n", "not a halang bundle: not a readable zip archive"),
    (b"", "not a halang bundle: not a readable zip archive"),
])
def test_a_file_that_is_not_a_zip_is_refused(tmp_path, content, message):
    path = tmp_path / "cluster.pyz"
    path.write_bytes(content)
    with pytest.raises(BundleError, match=message):
        read_bundle(path)


def test_a_missing_file_or_a_directory_is_refused(tmp_path):
    with pytest.raises(BundleError, match="no such file"):
        read_bundle(tmp_path / "nowhere.pyz")
    with pytest.raises(BundleError, match="is a directory"):
        read_bundle(tmp_path)
