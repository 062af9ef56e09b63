"""style RELEASE...: the release's own flake8 and hacking on the series.

Runs the flake8 that the release's test-requirements install (with
Nova's hacking plugin, configured in the tree's tox.ini, as its
`tox -e pep8` does) over every Python file the series touches, and
`reno lint` over the tree, keeping what it says about the series' notes
(the trees' older notes carry warnings of their own).
"""

import os
import re
import shutil

from novaseries import git as gitmod
from novaseries import tools
from novaseries.commands import env as envcmd
from novaseries.commands import workspace
from novaseries.config import pick

HELP = "the release's flake8/hacking and reno lint over what the series touches"


CHECKS = ("flake8", "reno_lint")


def add_arguments(parser):
    parser.add_argument("releases", nargs="*", metavar="RELEASE")
    parser.add_argument("--check", choices=CHECKS, action="append",
                        help="run only this check (repeatable)")
    parser.add_argument("--tool", action="store_true",
                        help="flake8 over the tool's own code instead")


def run(args, ctx):
    if args.tool:
        flake8_bin = tools.ensure(ctx.paths, ctx.log) / "flake8"
        code, output = ctx.log.run([flake8_bin, "novaseries", "tests"],
                                   cwd=ctx.paths.root, check=False)
        ctx.log.say("tool: flake8: %s" % ("clean" if code == 0 else
                                          "FAILED:\n" + output.strip()))
        return code
    checks = [globals()[name] for name in (args.check or CHECKS)]
    failed = 0
    for release in pick(ctx.releases, args.releases):
        # A scratch tree of its own: a verify may be running in its tree.
        tree = ctx.paths.work / "style" / release.name
        workspace.prepare(ctx, release, tree, discard=True)
        # Only flake8 runs in the release's venv (hacking imports nova).
        venv = envcmd.ensure(ctx, release, release.envs[0], tree) \
            if flake8 in checks else None
        for check in checks:
            ok, note = check(ctx, release, tree, venv)
            ctx.log.say("%s: %s: %s" % (release.name, check.__name__,
                                        note if ok else "FAILED: " + note))
            failed += not ok
    return 1 if failed else 0


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
