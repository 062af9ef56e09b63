"""Where things live, and the release table (releases.toml)."""

import dataclasses
import os
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


class UsageError(Exception):
    """A problem the user can fix; printed without a traceback."""


@dataclasses.dataclass(frozen=True)
class Env:
    python: str          # "2.7"
    wide: tuple          # test selections run at the tip
    setuptools: str = None   # the setuptools virtualenv seeds, if not its own

    @property
    def name(self):
        return "py" + self.python.replace(".", "")


@dataclasses.dataclass(frozen=True)
class BaseFailure:
    """A test that fails on the released code too, and why."""
    test: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Release:
    name: str
    branch: str
    version: str
    sha256: str
    constraints: pathlib.Path
    extras: tuple
    bindep: tuple
    envs: tuple
    base_failures: tuple = ()
    # basepython names of the tree's tox.ini this machine lacks, each
    # answered by the interpreter of one of the release's envs
    tox_python: dict = dataclasses.field(default_factory=dict)
    # the release whose series this one's patches are cherry-picked
    # from, one hop (None: not a backport)
    backport_of: str = None
    # files the coverage map measures beside those the series changes
    # (those a later patch will change: the map need not be made again)
    measure: tuple = ()
    # keys of the tree's tox env sections that `nova-series tox` replaces
    # ({env: {key: value}}), in a copy of tox.ini, for an env that cannot
    # run here as it is written
    tox_envs: dict = dataclasses.field(default_factory=dict)

    @property
    def known_failures(self):
        return frozenset(f.test for f in self.base_failures)

    @property
    def sdist_name(self):
        return "nova-%s.tar.gz" % self.version

    def env(self, python=None):
        if python is None:
            return self.envs[0]
        for env in self.envs:
            if env.python == python or env.name == python:
                return env
        raise UsageError("%s has no Python %s environment (it has: %s)" % (
            self.name, python, ", ".join(e.python for e in self.envs)))


@dataclasses.dataclass(frozen=True)
class Paths:
    """The repo (series, constraints) and the two scratch areas.

    work: git-ignored, per checkout: workspaces, verify trees, run logs.
    cache: shared by checkouts: sdists, wheelhouses, virtualenvs.
    """
    root: pathlib.Path
    work: pathlib.Path
    cache: pathlib.Path

    @classmethod
    def default(cls, root=ROOT):
        root = pathlib.Path(root)
        cache = os.environ.get("NOVA_SERIES_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
            "nova-series")
        return cls(root, root / ".work", pathlib.Path(cache))

    def series(self, release):
        return self.root / "series" / release

    def workspace(self, release):
        return self.work / "workspaces" / release

    def verify_tree(self, release):
        return self.work / "verify" / release

    def sdist(self, release):
        return self.cache / "sdists" / release.sdist_name

    def venv(self, release, env):
        return self.cache / "venvs" / ("%s-%s" % (release.name, env.name))

    def wheelhouse(self, release, env):
        return self.cache / "wheelhouse" / ("%s-%s" % (release.name, env.name))

    def tools(self):
        return self.cache / "tools"

    def runs(self):
        return self.work / "runs"


def load_releases(root=ROOT):
    """Return {name: Release} in the order of releases.toml."""
    with open(pathlib.Path(root) / "releases.toml", "rb") as f:
        data = tomllib.load(f)
    releases = {}
    for name, entry in data.items():
        envs = tuple(Env(e["python"], tuple(e["wide"]), e.get("setuptools"))
                     for e in entry["envs"])
        releases[name] = Release(
            name=name, branch=entry["branch"], version=entry["version"],
            sha256=entry["sha256"],
            constraints=pathlib.Path(root) / entry["constraints"],
            extras=tuple(entry.get("extras", ())),
            bindep=tuple(entry.get("bindep", ())), envs=envs,
            base_failures=tuple(
                BaseFailure(test, group["reason"])
                for group in entry.get("base_failures", ())
                for test in group["tests"]),
            tox_python=dict(entry.get("tox_python", {})),
            backport_of=entry.get("backport_of"),
            measure=tuple(entry.get("measure", ())),
            tox_envs={env: dict(keys) for env, keys in
                      entry.get("tox_envs", {}).items()})
    for release in releases.values():
        newer(releases, release)      # names known, no cycle
    return releases


def newer(releases, release):
    """The releases `release` is a backport of, newest first, the one it
    is picked from (its backport_of) last; [] for a release that is not
    a backport."""
    chain = []
    name = release.backport_of
    while name is not None:
        if name not in releases:
            raise UsageError("%s: backport_of names %s, which releases.toml "
                             "has not" % (release.name, name))
        if name in chain or name == release.name:
            raise UsageError("%s: backport_of makes a cycle" % release.name)
        chain.insert(0, name)
        name = releases[name].backport_of
    return chain


def pick(releases, names):
    """The named releases (all when none is named), checked."""
    if not names:
        return list(releases.values())
    unknown = [n for n in names if n not in releases]
    if unknown:
        raise UsageError("unknown release %s (known: %s)" % (
            ", ".join(unknown), ", ".join(releases)))
    return [releases[n] for n in names]
