"""Passing verify steps, kept under a key of everything they depend on.

A step's key is a digest of: the git tree id of exactly what it tested
(`git write-tree` of the verify tree as the step left it, so a proof's
reverted code counts too), the venv's identity (its build stamp: the
interpreter, the constraints, the requirements, the extras), the step
and its selection, and the tool's version: a digest of the code that
runs the tests, reads their results and judges them (stestr.py), of
how a release's envs are read (config.py) and of the release's own table
in releases.toml, so that a change of any of them runs that release's
steps again. The rest of the tool (its logging, the
verbs' plans) does not change what a step with this key measures, so a
change there keeps what passed. Only a passing step is stored, and a later
verify reuses it only when every part of the key is the same; a failure
is never reused, it runs again.
"""

import hashlib
import json
import os
import pathlib
import tomllib

PACKAGE = pathlib.Path(__file__).resolve().parent


# The tool's modules that decide what a step with a given tree, venv and
# selection measures.
MEASURING = ("stestr.py", "config.py")


def tool_version(root, release):
    """Digest of the measuring code and of the release's own table in
    releases.toml (another release's edit keeps this one's results)."""
    digest = hashlib.sha256()
    # Names relative to the package: where the checkout is does not
    # matter.
    for name in MEASURING:
        digest.update(name.encode() + b"\0" + (PACKAGE / name).read_bytes())
    with open(pathlib.Path(root) / "releases.toml", "rb") as f:
        table = tomllib.load(f).get(release)
    digest.update(json.dumps(table, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def key_of(**parts):
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()
                          ).hexdigest()


class Results:
    """The store: one JSON file a key, under the cache's results/ folder.

    `enabled` False (--no-cache) reads nothing but still stores, so that
    the next verify can reuse what this one measured.
    """

    def __init__(self, directory, run, tool="", enabled=True):
        self.directory = pathlib.Path(directory)
        self.run = run
        self.tool = tool
        self.enabled = enabled

    def key(self, **parts):
        """The key of a step: its parts and the tool's version."""
        return key_of(tool=self.tool, **parts)

    def _path(self, key):
        return self.directory / key[:2] / (key + ".json")

    def get(self, key):
        """The stored fields of a passing step, with `run`, or None."""
        if not self.enabled:
            return None
        try:
            with open(self._path(key)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def put(self, key, fields):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump(dict(fields, run=self.run), f)
        os.replace(tmp, path)
