"""What a reviewer checks of a series besides its tests.

The commit messages of a release's series, by msglint's rules: a
release with `backport_of` in releases.toml is a backport branch, whose
patches must say which commit of a newer release's series they were
cherry-picked from, one line a hop along that chain (Queens, a backport
of Rocky, itself of Stein, names the Stein commit, then the Rocky one);
those series are materialized (deterministic SHAs) in scratch trees
under .work/lint to know the commits and their own lines.

The release's own flake8 (with Nova's hacking plugin, configured in the
tree's tox.ini, as its `tox -e pep8` does) over every Python file the
series touches, and `reno lint` over the tree, keeping what it says
about the series' notes (the trees' older notes carry warnings of their
own). Each check answers (ok, note).

Used by the lint and style verbs and by verify.
"""

import os
import re
import shutil

from novaseries import config
from novaseries import git as gitmod
from novaseries import msglint, tools, trees


def series_commits(ctx, release):
    """{commit: the commits its cherry-pick lines name} of the release's
    series, materialized once per run."""
    known = ctx.__dict__.setdefault("lint_commits", {})
    if release.name not in known:
        tree = ctx.paths.work / "lint" / release.name
        commits = trees.prepare(ctx, release, tree, discard=True)
        repo = gitmod.Git(tree)
        known[release.name] = {
            commit: msglint.cherry_shas(
                repo.out("log", "-1", "--format=%B", commit))
            for commit in commits}
    return known[release.name]


def lint_release(ctx, release):
    """(patches checked, ["patch: problem", ...]) for one release."""
    newer = config.newer(ctx.releases, release)
    sources = {}
    for name in newer:
        for commit, chain in series_commits(ctx, ctx.releases[name]).items():
            sources[commit] = (name, chain)
    known = set(sources)
    series_dir = ctx.paths.series(release.name)
    names = trees.read_series(series_dir)
    problems = []
    for name in names:
        with open(os.path.join(str(series_dir), name), encoding="utf-8") as f:
            message = msglint.message_of_patch(f.read())
        found = msglint.lint(message, backport=bool(newer),
                             known_commits=known if newer else None)
        if newer:
            found += msglint.chain_problems(message, sources, newer)
        problems += ["%s: %s" % (name, p) for p in found]
    return len(names), problems


def touched(tree):
    """Files the series touches that exist at its tip."""
    repo = gitmod.Git(tree)
    files = repo.changed_files(gitmod.BASELINE_TAG, "HEAD")
    return [f for f in files if os.path.exists(os.path.join(str(tree), f))]


def flake8(ctx, release, tree, venv):
    files = [f for f in touched(tree) if f.endswith(".py")]
    if not files:
        return True, "no Python file touched"
    code, output = ctx.log.run([venv / "bin" / "flake8", *files], cwd=tree,
                               env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
                               check=False)
    problems = [line for line in output.splitlines() if line.strip()]
    if code:
        for line in problems[:20]:
            ctx.log.say("  " + line)
        return False, "%d problem(s) in %d file(s)" % (
            len(problems), len(files))
    return True, "%d file(s) clean" % len(files)


def reno_lint(ctx, release, tree, venv=None):
    notes = [f for f in touched(tree) if f.startswith("releasenotes/notes/")]
    if not notes:
        return True, "the series adds no release note"
    reno = tools.ensure(ctx.paths, ctx.log) / "reno"
    code, output = ctx.log.run([reno, "lint"], cwd=tree, check=False)
    crashed = code != 0 and "Traceback" in output
    if crashed and not objections(notes, output):
        # reno stops at the first problem of the tree's own notes (34.0.0
        # has two notes of one UID): the series' notes go alone.
        why = output.strip().splitlines()[-1][:200]
        ctx.log.say("%s: reno lint fails on the tree's own notes (%s); "
                    "linting the series' notes alone" % (release.name, why))
        ok, note = reno_lint_alone(ctx, reno, tree, notes)
        return ok, note + " (alone: the tree's own notes fail reno lint)"
    return reno_verdict(ctx, notes, code, output)


def reno_verdict(ctx, notes, code, output):
    """(ok, note) of a `reno lint` run over a repo holding `notes`."""
    ours = objections(notes, output)
    if not any(": adding %s from" % n in output for n in notes):
        ours.append("reno did not find the notes")
    crashed = code != 0 and "Traceback" in output
    if ours or crashed:
        for line in (ours or output.splitlines())[-20:]:
            ctx.log.say("  " + line)
        return False, "reno lint objects to %s" % ", ".join(notes)
    return True, "%s clean" % ", ".join(os.path.basename(n) for n in notes)


def objections(notes, output):
    """The lines of reno's output about `notes`."""
    # reno names every note it scans ("<id>: adding <file> from <ref>");
    # what it objects to comes on lines of its own.
    return [line for line in output.splitlines()
            if any(os.path.basename(n) in line for n in notes)
            and not re.search(r": adding \S+ from \S+$", line)]


def reno_lint_alone(ctx, reno, tree, notes):
    """reno lint of a scratch repo holding only `notes` (and the tree's
    reno configuration, if it has one)."""
    scratch = ctx.paths.work / "style" / "reno-alone"
    shutil.rmtree(scratch, ignore_errors=True)
    keep = list(notes) + [f for f in ("releasenotes/config.yaml", "reno.yaml")
                          if os.path.exists(os.path.join(str(tree), f))]
    for path in keep:
        target = scratch / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(os.path.join(str(tree), path), target)
    repo = gitmod.Git(scratch)
    repo.run("init", "-q")
    repo.run("add", "-A")
    repo.run("commit", "-q", "-m", "the series' release notes")
    code, output = ctx.log.run([reno, "lint"], cwd=scratch, check=False)
    return reno_verdict(ctx, notes, code, output)
