"""Materialized trees: a release's sdist as a git repo, its series applied.

The baseline commit is the sdist (less its packaging metadata) committed
with a fixed identity and date: the same SHA on every machine. The
series is applied on top with `git am`, one commit a patch, also with a
fixed committer, so the series' commits have stable SHAs too. Every verb
that needs a tree (a workspace, verify's, lint's, style's, covmap's)
makes it here.
"""

import os
import re
import shutil

from novaseries import git as gitmod
from novaseries import sdist
from novaseries.config import UsageError

# Never part of the tree: test runs (some functional tests leave an
# instances/ folder behind), byte code, develop installs.
EXCLUDES = [".stestr/", "*.pyc", "__pycache__/", "*.egg-info/", ".eggs/",
            "PKG-INFO", "AUTHORS", "ChangeLog", ".tox/", "/instances/"]
STATE = "nova-series-applied"    # in .git: HEAD as the tool last left it


def read_series(series_dir):
    """Patch file names in order, from series_dir/series (quilt style)."""
    path = os.path.join(str(series_dir), "series")
    if not os.path.exists(path):
        return []
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line)
    return names


def prepare(ctx, release, tree, discard=False, series=True):
    """Make `tree` the baseline plus the series on disk; return the commits.

    An existing tree of the same sdist is reused for its baseline (one of
    another sdist is rebuilt, only with `discard`). Work in it that is not
    in series/ (uncommitted changes, an unfinished `git am`, commits made
    since the tool last applied or exported) stops us unless `discard`.
    """
    tree = str(tree)
    repo = gitmod.Git(tree)
    made = made_here(repo, tree)
    if made and not baseline_is(repo, release):
        # releases.toml moved the release to another sdist since the
        # tree was made: its baseline, and any work on it, is of the old
        # one. Patches that happen to apply there would be tested on the
        # wrong code.
        if not discard:
            raise another_sdist(repo, release, tree)
        made = False
    if made:
        write_excludes(tree)
        if not discard:
            check_no_local_work(repo, release, tree)
        if repo.am_in_progress():
            repo.run("am", "--abort")
        repo.run("reset", "-q", "--hard", gitmod.BASELINE_TAG)
        repo.run("clean", "-q", "-fd")
    else:
        if os.path.exists(tree):
            if not discard and os.listdir(tree):
                raise UsageError(
                    "%s exists but is not a workspace made by this tool; "
                    "move it away or pass --discard to replace it" % tree)
            shutil.rmtree(tree)
        materialize(ctx, release, tree)
    if not series:
        record_state(repo)
        return []
    return apply_series(ctx, release, tree)


def existing(ctx, release, tree):
    """`tree` for a verb that works in it as it stands (test, env, tox):
    made if missing, refused if made from another sdist than the
    release's (as prepare refuses it without discard)."""
    tree = str(tree)
    if not os.path.isdir(tree):
        prepare(ctx, release, tree)
        return
    repo = gitmod.Git(tree)
    if made_here(repo, tree) and not baseline_is(repo, release):
        raise another_sdist(repo, release, tree)


def made_here(repo, tree):
    """Whether `tree` is a tree this tool made (a git repo with the
    baseline tag)."""
    return (os.path.isdir(os.path.join(tree, ".git"))
            and bool(repo.rev(gitmod.BASELINE_TAG)))


def another_sdist(repo, release, tree):
    return UsageError(
        "%s: %s was made from %s, not from %s %s as releases.toml says "
        "now; export what you want to keep, then pass --discard "
        "(`workspace %s --discard`) to rebuild it" % (
            release.name, tree, baseline_subject(repo), release.sdist_name,
            release.sha256[:12], release.name))


def baseline_is(repo, release):
    """Whether the tree's baseline commit is this release's sdist (its
    message names the sdist's sha256)."""
    message = repo.out("log", "-1", "--format=%B", gitmod.BASELINE_TAG)
    return release.sha256 in message


def baseline_subject(repo):
    return repo.out("log", "-1", "--format=%s", gitmod.BASELINE_TAG)


def check_no_local_work(repo, release, tree):
    if repo.am_in_progress():
        raise UsageError(
            "%s: a `git am` is in progress in %s; finish it (then run "
            "`export %s`) or pass --discard to throw it away" % (
                release.name, tree, release.name))
    dirty = repo.dirty()
    if dirty:
        raise UsageError(
            "%s: workspace %s has %d uncommitted change(s), e.g. %s; commit "
            "them and run `export %s`, or pass --discard to throw them away"
            % (release.name, tree, len(dirty), dirty[0].strip(), release.name))
    recorded = read_state(repo)
    if recorded != repo.rev("HEAD"):
        raise UsageError(
            "%s: workspace %s has commits that are not exported to series/ "
            "(HEAD moved since the series was last applied or exported); run "
            "`export %s`, or pass --discard to throw them away" % (
                release.name, tree, release.name))


def state_path(repo):
    gitdir = repo.out("rev-parse", "--absolute-git-dir")
    return os.path.join(gitdir, STATE)


def read_state(repo):
    try:
        with open(state_path(repo)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def record_state(repo):
    with open(state_path(repo), "w") as f:
        f.write(repo.rev("HEAD") + "\n")


def materialize(ctx, release, tree):
    """Unpack the sdist into tree and commit it as the baseline."""
    tarball = sdist.fetch(ctx.paths, release, ctx.log)
    with ctx.log.step("%s: unpacking %s into %s" % (
            release.name, release.sdist_name, tree)):
        sdist.unpack(tarball, tree)
        repo = gitmod.Git(tree)
        repo.run("init", "-q", "-b", "main")
        write_excludes(tree)
        repo.run("add", "-A")
        date = {"GIT_AUTHOR_DATE": gitmod.BASELINE_DATE,
                "GIT_COMMITTER_DATE": gitmod.BASELINE_DATE}
        repo.run("commit", "-q", "--no-verify", "-m",
                 "Nova %s (%s) from the PyPI sdist\n\nsha256 of %s: %s\n" % (
                     release.version, release.branch, release.sdist_name,
                     release.sha256), env=date)
        repo.run("tag", gitmod.BASELINE_TAG)


def write_excludes(tree):
    with open(os.path.join(tree, ".git", "info", "exclude"), "w") as f:
        f.write("\n".join(EXCLUDES) + "\n")


def apply_series(ctx, release, tree):
    """git am every patch of series/RELEASE; name the one that fails."""
    repo = gitmod.Git(tree)
    series_dir = ctx.paths.series(release.name)
    for name in read_series(series_dir):
        patch = os.path.join(str(series_dir), name)
        if not os.path.exists(patch):
            raise UsageError("%s: series names %s, which is not in %s" % (
                release.name, name, series_dir))
        # --keep-non-patch: a subject tag such as "[stable-only] " is part
        # of the summary; only format-patch's own "[PATCH] " is dropped.
        proc = repo.run("am", "-q", "--committer-date-is-author-date",
                        "--keep-non-patch", "--no-3way", patch, check=False)
        if proc.returncode != 0:
            raise UsageError("%s: patch %s does not apply: %s\nThe workspace "
                             "%s is left as `git am` stopped (git am --show-"
                             "current-patch, or workspace --discard)." % (
                                 release.name, name, failure_detail(proc.stdout),
                                 tree))
    record_state(repo)
    return repo.commits(gitmod.BASELINE_TAG)


def failure_detail(output):
    """The file and hunk `git am` choked on, from its output."""
    found = re.findall(r"^error: (patch failed: \S+|.*: does not exist in "
                       r"index|.*: already exists in index|corrupt patch at "
                       r"line \d+|.*)$", output, re.M)
    return "; ".join(found[:3]) if found else output.strip().splitlines()[-1]
