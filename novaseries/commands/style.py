"""style RELEASE...: the release's own flake8 and hacking on the series.

Runs the flake8 that the release's test-requirements install (with
Nova's hacking plugin, configured in the tree's tox.ini, as its
`tox -e pep8` does) over every Python file the series touches, and
`reno lint` over the tree, keeping what it says about the series' notes
(checks.py). --tool: flake8 over the tool's own code instead.
"""

from novaseries import checks, tools, trees, venvs
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
    wanted = [getattr(checks, name) for name in (args.check or CHECKS)]
    failed = 0
    for release in pick(ctx.releases, args.releases):
        # A scratch tree of its own: a verify may be running in its tree.
        tree = ctx.paths.work / "style" / release.name
        trees.prepare(ctx, release, tree, discard=True)
        # Only flake8 runs in the release's venv (hacking imports nova).
        venv = venvs.ensure(ctx, release, release.envs[0], tree) \
            if checks.flake8 in wanted else None
        for check in wanted:
            ok, note = check(ctx, release, tree, venv)
            ctx.log.say("%s: %s: %s" % (release.name, check.__name__,
                                        note if ok else "FAILED: " + note))
            failed += not ok
    return 1 if failed else 0
