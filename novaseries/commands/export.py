"""export RELEASE: write the workspace's commits back to series/RELEASE.

The patch files are `git format-patch` output made stable: no version
footer, no commit SHA in the From line, full blob ids, no numbering in
the subject, so the same commits always give the same bytes.
"""

import os
import tempfile

from novaseries import git as gitmod
from novaseries import trees
from novaseries.config import UsageError

HELP = "write the workspace's commits to series/RELEASE as patch files"

FORMAT_PATCH = ["format-patch", "--no-signature", "--zero-commit",
                "--no-numbered", "--full-index", "--no-renames",
                "--start-number", "1"]


def add_arguments(parser):
    parser.add_argument("release")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when series/RELEASE differs from the "
                             "workspace; write nothing")


def run(args, ctx):
    release = ctx.release(args.release)
    tree = ctx.paths.workspace(release.name)
    repo = gitmod.Git(tree)
    if not (os.path.isdir(os.path.join(tree, ".git"))
            and repo.rev(gitmod.BASELINE_TAG)):
        raise UsageError("%s: no workspace at %s; run `workspace %s` first" % (
            release.name, tree, release.name))
    if repo.am_in_progress():
        raise UsageError("%s: a `git am` is in progress in %s" % (
            release.name, tree))
    wanted = render(repo)
    series_dir = ctx.paths.series(release.name)
    drift = compare(series_dir, wanted)
    if args.check:
        if drift:
            for line in drift:
                ctx.log.say("%s: %s" % (release.name, line))
            ctx.log.say("%s: series/%s differs from the workspace; run "
                        "`export %s`" % (release.name, release.name,
                                         release.name))
            return 1
        ctx.log.say("%s: series/%s matches the workspace (%d patches)" % (
            release.name, release.name, len(wanted) - 1))
        return 0
    write(series_dir, wanted)
    trees.record_state(repo)
    ctx.log.say("%s: wrote %d patch(es) to %s%s" % (
        release.name, len(wanted) - 1, series_dir,
        "" if drift else " (unchanged)"))
    return 0


def render(repo):
    """{file name: bytes} of the series: the patches and `series`."""
    commits = repo.commits(gitmod.BASELINE_TAG)
    files = {}
    if commits:
        with tempfile.TemporaryDirectory() as tmp:
            repo.run(*FORMAT_PATCH, "-o", tmp,
                     "%s..HEAD" % gitmod.BASELINE_TAG)
            for name in sorted(os.listdir(tmp)):
                with open(os.path.join(tmp, name), "rb") as f:
                    files[name] = f.read()
    files["series"] = "".join(
        name + "\n" for name in sorted(files)).encode()
    return files


def on_disk(series_dir):
    files = {}
    if os.path.isdir(series_dir):
        for name in os.listdir(series_dir):
            if name == "series" or name.endswith(".patch"):
                with open(os.path.join(series_dir, name), "rb") as f:
                    files[name] = f.read()
    return files


def compare(series_dir, wanted):
    """Lines naming every difference between disk and `wanted`."""
    have = on_disk(series_dir)
    drift = []
    for name in sorted(set(have) | set(wanted)):
        if name not in have:
            drift.append("missing on disk: %s" % name)
        elif name not in wanted:
            drift.append("not in the workspace: %s" % name)
        elif have[name] != wanted[name]:
            drift.append("differs: %s" % name)
    return drift


def write(series_dir, wanted):
    os.makedirs(series_dir, exist_ok=True)
    for name in on_disk(series_dir):
        if name not in wanted:
            os.remove(os.path.join(series_dir, name))
    for name, data in wanted.items():
        with open(os.path.join(series_dir, name), "wb") as f:
            f.write(data)
