"""A tiny fake release: an sdist of a few files, a repo root around it."""

import gzip
import hashlib
import io
import os
import pathlib
import subprocess
import tarfile

import pytest

from novaseries import config, git

FILES = {
    "setup.cfg": "[metadata]\nname = nova\n",
    "nova/__init__.py": "",
    "nova/compute/manager.py": "def finish_resize():\n    return 'revert'\n",
    "nova/tests/test_manager.py": "def test_it():\n    pass\n",
    "tools/run.sh": "#!/bin/sh\necho hi\n",
    # Packaging metadata that the baseline leaves out.
    "PKG-INFO": "Name: nova\n",
    "AUTHORS": "someone\n",
    "nova.egg-info/SOURCES.txt": "setup.cfg\n",
}


def make_sdist(path, version):
    # The same bytes every time, as a published sdist is.
    with gzip.GzipFile(path, "wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w") as tar:
        for name, text in sorted(FILES.items()):
            data = text.encode()
            info = tarfile.TarInfo("nova-%s/%s" % (version, name))
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            info.mtime = 1234567890
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


class Project:
    """A repo root with releases.toml naming one release, `fake`."""

    def __init__(self, root, cache):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.paths = config.Paths(root, root / ".work", cache)
        sdists = cache / "sdists"
        sdists.mkdir(parents=True)
        sha = make_sdist(sdists / "nova-1.0.0.tar.gz", "1.0.0")
        (root / "constraints").mkdir()
        (root / "constraints" / "fake.txt").write_text("pbr===5.1.3\n")
        (root / "releases.toml").write_text(
            '[fake]\nbranch = "stable/fake"\nversion = "1.0.0"\n'
            'sha256 = "%s"\nconstraints = "constraints/fake.txt"\n'
            '[[fake.envs]]\npython = "2.7"\nwide = ["nova.tests"]\n' % sha)
        self.series = root / "series" / "fake"
        self.series.mkdir(parents=True)
        (self.series / "series").write_text("")

    def add_sdist(self, version):
        """Another release of the fake sdist in the cache; its sha256."""
        return make_sdist(self.paths.cache / "sdists" /
                          ("nova-%s.tar.gz" % version), version)

    @property
    def workspace(self):
        return self.paths.workspace("fake")

    def cli(self, *argv):
        from novaseries import cli
        return cli.main(list(argv), paths=self.paths)

    def git(self, *args, tree=None):
        return git.Git(tree or self.workspace).out(*args)

    def commit(self, path, text, message, tree=None):
        """A commit as a developer makes it: their identity, now."""
        tree = tree or self.workspace
        target = pathlib.Path(tree) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull,
                   GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Dev",
                   GIT_AUTHOR_EMAIL="dev@example.org",
                   GIT_AUTHOR_DATE="2019-05-01T10:00:00+0200",
                   GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@example.org")
        subprocess.run(["git", "-C", str(tree), "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", str(tree), "commit", "-q", "-m", message],
                       check=True, env=env)


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "repo"
    return Project(root, tmp_path / "cache")
