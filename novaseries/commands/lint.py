"""lint [RELEASE...]: check every patch's commit message (msglint rules).

A release with `backport_of` in releases.toml is a backport branch: its
patches must say which commit of a newer release's series they were
cherry-picked from, one line a hop along that chain (Queens, a backport
of Rocky, itself of Stein, names the Stein commit, then the Rocky
one). Those series are materialized (deterministic SHAs) in scratch
trees under .work/lint to know the commits and their own lines.
"""

import os

from novaseries import config
from novaseries import git as gitmod
from novaseries import msglint
from novaseries.commands import workspace
from novaseries.config import pick

HELP = "lint the commit messages of every release's series"


def add_arguments(parser):
    parser.add_argument("releases", nargs="*", metavar="RELEASE")


def series_commits(ctx, release):
    """{commit: the commits its cherry-pick lines name} of the release's
    series, materialized once per run."""
    known = ctx.__dict__.setdefault("lint_commits", {})
    if release.name not in known:
        tree = ctx.paths.work / "lint" / release.name
        commits = workspace.prepare(ctx, release, tree, discard=True)
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
    names = workspace.read_series(series_dir)
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


def run(args, ctx):
    checked = problems = 0
    for release in pick(ctx.releases, args.releases):
        count, found = lint_release(ctx, release)
        checked += count
        problems += len(found)
        for problem in found:
            ctx.log.say("%s/%s" % (release.name, problem))
    ctx.log.say("lint: %d patch(es) checked, %d problem(s)" % (checked,
                                                               problems))
    return 1 if problems else 0
