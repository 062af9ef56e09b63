"""Fetch a release's sdist (checked against its sha256) and unpack it."""

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile

from novaseries import tools
from novaseries.config import UsageError

# Packaging metadata that pbr writes into the sdist and regenerates on
# every develop install; the git tag does not carry it, nor do we.
METADATA = ("PKG-INFO", "AUTHORS", "ChangeLog")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(paths, release, log):
    """Path of the release's sdist in the cache, downloading it once.

    The download uses this (Python 3) interpreter's pip: Python 2.7's
    pip 20.3.4 fails on `pip download` of these sdists.
    """
    target = paths.sdist(release)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with log.step("%s: downloading %s" % (release.name, release.sdist_name)):
            with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
                log.run([sys.executable, "-m", "pip", "download", "--no-deps",
                         "--no-binary", ":all:", "-d", tmp,
                         "nova==%s" % release.version],
                        env=tools.pip_environ())
                shutil.move(os.path.join(tmp, release.sdist_name), target)
    actual = sha256(target)
    if actual != release.sha256:
        raise UsageError("%s: sha256 %s does not match releases.toml (%s); "
                         "delete it to download again" % (target, actual,
                                                          release.sha256))
    return target


def is_metadata(relpath):
    top = relpath.split("/", 1)[0]
    return top in METADATA or top.endswith(".egg-info")


def unpack(sdist, dest):
    """Unpack the sdist into dest, dropping its top folder and metadata."""
    os.makedirs(dest)
    with tarfile.open(sdist) as tar:
        members = []
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) < 2 or not parts[1] or is_metadata(parts[1]):
                continue
            member.name = parts[1]
            members.append(member)
        tar.extractall(dest, members=members, filter="data")
