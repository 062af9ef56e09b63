"""lint [RELEASE...]: check every patch's commit message (msglint rules).

A release after the first in releases.toml is a backport branch: its
patches must say which commit of a newer release's series they were
cherry-picked from. Those series are materialized (deterministic SHAs)
in scratch trees under .work/lint to know the commits.
"""

import os

from novaseries import msglint
from novaseries.commands import workspace
from novaseries.config import pick

HELP = "lint the commit messages of every release's series"


def add_arguments(parser):
    parser.add_argument("releases", nargs="*", metavar="RELEASE")


def series_commits(ctx, release):
    tree = ctx.paths.work / "lint" / release.name
    return workspace.prepare(ctx, release, tree, discard=True)


def run(args, ctx):
    order = list(ctx.releases)
    problems = 0
    checked = 0
    for release in pick(ctx.releases, args.releases):
        newer = order[:order.index(release.name)]
        known = set()
        for name in newer:
            known.update(series_commits(ctx, ctx.releases[name]))
        series_dir = ctx.paths.series(release.name)
        for name in workspace.read_series(series_dir):
            with open(os.path.join(str(series_dir), name),
                      encoding="utf-8") as f:
                message = msglint.message_of_patch(f.read())
            found = msglint.lint(message, backport=bool(newer),
                                 known_commits=known if newer else None)
            checked += 1
            for problem in found:
                ctx.log.say("%s/%s: %s" % (release.name, name, problem))
            problems += len(found)
    ctx.log.say("lint: %d patch(es) checked, %d problem(s)" % (checked,
                                                               problems))
    return 1 if problems else 0
