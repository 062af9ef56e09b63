"""lint [RELEASE...]: check every patch's commit message (msglint rules).

A release with `backport_of` in releases.toml is a backport branch: its
patches must also name, one line a hop, the commits of the newer
releases' series they were cherry-picked from (checks.py).
"""

from novaseries import checks
from novaseries.config import pick

HELP = "lint the commit messages of every release's series"


def add_arguments(parser):
    parser.add_argument("releases", nargs="*", metavar="RELEASE")


def run(args, ctx):
    checked = problems = 0
    for release in pick(ctx.releases, args.releases):
        count, found = checks.lint_release(ctx, release)
        checked += count
        problems += len(found)
        for problem in found:
            ctx.log.say("%s/%s" % (release.name, problem))
    ctx.log.say("lint: %d patch(es) checked, %d problem(s)" % (checked,
                                                               problems))
    return 1 if problems else 0
