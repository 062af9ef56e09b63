"""test RELEASE [SELECTION...]: run Nova's tests in the release's venv.

Functional selections run as the tree's `tox -e functional` (its test
path and group regex), the others as its unit envs (.stestr.conf); both
with the tox setenv values. Without a selection, the env's wide one.
"""

from novaseries import stestr, trees, venvs

HELP = "run a release's tests (stestr, as its tox.ini does)"


def add_arguments(parser):
    parser.add_argument("release")
    parser.add_argument("selection", nargs="*",
                        help="test id regexes (default: releases.toml's wide "
                             "selection)")
    parser.add_argument("--python", help="interpreter (default: the gate's)")
    parser.add_argument("--tree", help="the tree to test (default: the "
                        "release's workspace)")
    parser.add_argument("--concurrency", type=int)


def run(args, ctx):
    release = ctx.release(args.release)
    env = release.env(args.python)
    tree = args.tree or ctx.paths.workspace(release.name)
    trees.existing(ctx, release, tree)
    venv = venvs.ensure(ctx, release, env, tree)
    selections = args.selection or list(env.wide)
    label = "%s/%s" % (release.name, env.name)
    with ctx.log.step("%s: testing %s" % (label, " ".join(selections))):
        result = stestr.run(ctx.log, venv, tree, selections,
                            concurrency=args.concurrency, label=label)
    ctx.log.say("%s: %s (%.0fs)" % (
        label, result.summary(failures=len(result.failures)),
        result.seconds))
    if result.ran == 0:
        ctx.log.say("%s: no test ran" % label)
    elif result.returncode != 0 and not result.failed:
        # An import error of a selected module fails discovery, not a test.
        ctx.log.say("%s: stestr exited %d with no failed test: see the "
                    "output above (an import error?)" % (
                        label, result.returncode))
    return 0 if result.ok else 1
