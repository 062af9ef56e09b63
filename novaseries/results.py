"""Passing verify steps, kept under a key of everything they depend on.

A step's key is a digest of: the git tree id of exactly what it tested
(`git write-tree` of the verify tree as the step left it, so a proof's
reverted code counts too), the venv's identity (its build stamp: the
interpreter, the constraints, the requirements, the extras), the step
and its selection, and the tool's version: a digest of the code that
runs the tests and reads their results (stestr.py), of how a release's
envs are read (config.py) and of releases.toml, so that a change of any
of them runs everything again. The rest of the tool (its logging, the
verbs' plans) does not change what a step with this key measures, so a
change there keeps what passed. Only a passing step is stored, and a later
verify reuses it only when every part of the key is the same; a failure
is never reused, it runs again.
"""

import hashlib
import json
import os
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent


# The tool's modules that decide what a step with a given tree, venv and
# selection measures.
MEASURING = ("stestr.py", "config.py")


def tool_version(root):
    """Digest of the measuring code and the release table."""
    digest = hashlib.sha256()
    # Names relative to the package and the root: where the checkout is
    # does not matter.
    files = [(name, PACKAGE / name) for name in MEASURING]
    files.append(("releases.toml", pathlib.Path(root) / "releases.toml"))
    for name, path in files:
        digest.update(name.encode() + b"\0" + path.read_bytes())
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
