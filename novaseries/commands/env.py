"""env RELEASE: build or reuse the release's virtualenv.

How a venv is built (from a per-release wheelhouse, offline after the
first build), keyed and develop-installed: venvs.py.
"""

from novaseries import trees, venvs

HELP = "build or reuse a release's virtualenv"


def add_arguments(parser):
    parser.add_argument("release")
    parser.add_argument("--python", help="one of the release's interpreters "
                        "(default: all of them)")


def run(args, ctx):
    release = ctx.release(args.release)
    tree = ctx.paths.workspace(release.name)
    trees.existing(ctx, release, tree)
    envs = [release.env(args.python)] if args.python else release.envs
    for env in envs:
        venvs.ensure(ctx, release, env, tree)
    return 0
