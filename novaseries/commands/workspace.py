"""workspace RELEASE: the release's tree as a git repo, series applied.

Edit there (commit, rebase, amend), then `export`. How the tree is made
(a baseline of the same SHA on every machine, the series applied with
`git am`) and what stops a rebuild: trees.py.
"""

from novaseries import git as gitmod
from novaseries import trees

HELP = "materialize a release's tree with its series applied"


def add_arguments(parser):
    parser.add_argument("release")
    parser.add_argument("--discard", action="store_true",
                        help="throw away uncommitted or unexported work "
                             "in the workspace")
    parser.add_argument("--tree", help="materialize this tree instead of "
                        "the release's workspace (the benches use one of "
                        "their own)")


def run(args, ctx):
    release = ctx.release(args.release)
    tree = args.tree or ctx.paths.workspace(release.name)
    commits = trees.prepare(ctx, release, tree, discard=args.discard)
    ctx.log.say("%s: workspace %s at %s (%d series commit%s)" % (
        release.name, tree, gitmod.Git(tree).out("rev-parse", "--short", "HEAD"),
        len(commits), "" if len(commits) == 1 else "s"))
    return 0
