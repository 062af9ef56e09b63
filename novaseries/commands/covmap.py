"""covmap RELEASE...: map which tests execute which functions (see covmap.py).

Makes covmap/RELEASE.json.gz: on the baseline, in .work/covmap/RELEASE,
the tree's whole unit and functional suites (or --selection) run in the
gate's env under coverage.py 5.5 (the last release for Python 2.7,
installed beside the venv, not in it), measuring the files the series
changes, with a context per test (covhook/sitecustomize.py). Takes as
long as `verify --full` and a little more; run it again when the series
starts changing another file (`verify` says so).

--check: is each release's map made from its baseline and does it
measure every file its series changes? Then, per commit, the changed
functions and how many tests they select.
"""

import glob
import os
import re
import sqlite3
import time

from novaseries import covmap, git as gitmod, interpreters, stestr
from novaseries.commands import env as envcmd
from novaseries.commands import workspace
from novaseries.config import pick

HELP = "map which tests execute which functions of a release (for verify)"

COVERAGE = "coverage==5.5"
HOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "covhook")
PATCHED = re.compile(r"^diff --git a/(\S+) b/", re.M)


def add_arguments(parser):
    parser.add_argument("releases", nargs="*", metavar="RELEASE")
    parser.add_argument("--check", action="store_true",
                        help="check the stored maps and show each commit's "
                             "selection; make nothing")
    parser.add_argument("--selection", action="append",
                        help="run only this selection (a partial map, for "
                             "trying the tool; repeatable)")
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--find", metavar="REGEX",
                        help="with --check: name each commit's selected "
                             "tests that match")


def run(args, ctx):
    ok = True
    for release in pick(ctx.releases, args.releases):
        if args.check:
            ok = check(ctx, release, args.find) and ok
        else:
            make(ctx, release, args)
    return 0 if ok else 1


def path_of(ctx, release):
    return ctx.paths.root / "covmap" / (release.name + ".json.gz")


def series_files(ctx, release):
    """Every file a patch of the release's series touches."""
    found = set()
    for patch in sorted(ctx.paths.series(release.name).glob("*.patch")):
        found.update(PATCHED.findall(patch.read_text(errors="replace")))
    return found


def coverage_dir(ctx, venv):
    """coverage.py 5.5 for the venv's interpreter, outside the venv (its
    own constraints pin an older one, which has no contexts)."""
    version = interpreters.probe(venv / "bin" / "python").version
    target = ctx.paths.cache / "coverage" / ("5.5-py" + version)
    if not (target / "coverage").is_dir():
        with ctx.log.step("installing %s for Python %s in %s" % (
                COVERAGE, version, target)):
            ctx.log.run([str(venv / "bin" / "pip"), "install", "-q",
                         "--no-deps", "--target", str(target), COVERAGE])
    return target


def make(ctx, release, args):
    log = ctx.log
    tree = ctx.paths.work / "covmap" / release.name
    with log.step("%s: the baseline in %s" % (release.name, tree)):
        workspace.prepare(ctx, release, tree, discard=True, series=False)
    repo = gitmod.Git(tree)
    scope = sorted(p for p in series_files(ctx, release)
                   if covmap.in_scope(p) and os.path.isfile(tree / p))
    gate = release.envs[0]
    venv = envcmd.ensure(ctx, release, gate, tree)
    data = tree / ".covmap-data"
    if data.exists():
        for old in data.iterdir():
            old.unlink()
    data.mkdir(exist_ok=True)
    rcfile = data / "coveragerc"
    rcfile.write_text("[run]\nparallel = True\ndata_file = %s\n"
                      "include =\n%s\n" % (
                          data / ".coverage",
                          "\n".join("    %s" % (tree / p) for p in scope)))
    environ = {
        # stestr starts its workers as `${PYTHON:-python} -m subunit.run`.
        "PYTHON": "python -m coverage run --rcfile=%s" % rcfile,
        "PYTHONPATH": os.pathsep.join([HOOK, str(coverage_dir(ctx, venv))]),
    }
    selections = args.selection or [stestr.UNIT, stestr.FUNCTIONAL]
    began = time.monotonic()
    result = stestr.Result()
    for sel in selections:
        with log.step("%s: %s under coverage (%d files)" % (
                release.name, sel, len(scope))):
            result.add(stestr.run(log, venv, tree, [sel],
                                  concurrency=args.concurrency,
                                  expect_failure=True, environ=environ,
                                  label="%s covmap" % release.name))
    seconds = time.monotonic() - began
    tests = sorted(stestr.test_ids(result.output))
    with log.step("%s: reading %d coverage files" % (
            release.name, len(glob.glob(str(data / ".coverage.*"))))):
        executed = read_data(tree, data, scope, tests)
    cmap = covmap.Map(
        release=release.name,
        baseline_tree=repo.out("rev-parse", gitmod.BASELINE_TAG + "^{tree}"),
        files={p: repo.out("rev-parse", "%s:%s" % (gitmod.BASELINE_TAG, p))
               for p in scope},
        tests=tests, executed=executed,
        made={"selections": selections, "passed": result.passed,
              "failed": result.failed, "skipped": result.skipped,
              "seconds": round(seconds), "coverage": COVERAGE,
              "env": gate.name})
    path = path_of(ctx, release)
    cmap.save(path)
    log.say("%s: %s: %d tests (%d passed, %d failed, %d skipped) in %.0fs, "
            "%d functions of %d files executed; %d KiB" % (
                release.name, path, len(tests), result.passed, result.failed,
                result.skipped, seconds, len(executed), len(scope),
                path.stat().st_size // 1024))
    if result.failures:
        log.say("%s: failed under coverage (still mapped): %s" % (
            release.name, ", ".join(result.failures[:20])))


def numbits_lines(blob):
    """The line numbers of coverage.py's numbits (a bitmap) blob."""
    return [i * 8 + bit for i, byte in enumerate(blob)
            for bit in range(8) if byte & (1 << bit)]


def read_data(tree, data, scope, tests):
    """{"path:qualname": set of test indexes} from the workers' data."""
    index = {t: i for i, t in enumerate(tests)}
    line_owner = {}
    for path in scope:
        funcs = covmap.functions((tree / path).read_text()) or []
        owners = {}
        for func in sorted(funcs, key=lambda f: f.first):
            # Inner functions come later and take their lines over.
            for line in range(func.body, func.last + 1):
                owners[line] = "%s:%s" % (path, func.qualname)
        line_owner[str(tree / path)] = owners
    executed = {}
    for name in glob.glob(str(data / ".coverage.*")):
        db = sqlite3.connect(name)
        try:
            files = dict(db.execute("select id, path from file"))
            contexts = dict(db.execute("select id, context from context"))
            rows = db.execute(
                "select file_id, context_id, numbits from line_bits")
            for file_id, context_id, blob in rows:
                test = index.get(contexts.get(context_id))
                owners = line_owner.get(files.get(file_id))
                if test is None or owners is None:
                    continue        # the listing, between tests, elsewhere
                for line in numbits_lines(blob):
                    key = owners.get(line)
                    if key is not None:
                        executed.setdefault(key, set()).add(test)
        finally:
            db.close()
    return executed


def usable(ctx, release, repo):
    """(the stored map, "") if it serves the series on disk applied in
    `repo`, else (None, why not)."""
    path = path_of(ctx, release)
    if not path.exists():
        return None, "no map %s: run `nova-series covmap %s`" % (
            path.relative_to(ctx.paths.root), release.name)
    cmap = covmap.Map.load(path)
    why = covmap.stale(cmap, repo, gitmod.BASELINE_TAG,
                       series_files(ctx, release))
    if why:
        return None, "the map is stale: %s; run `nova-series covmap %s`" % (
            why, release.name)
    return cmap, ""


def check(ctx, release, find=None):
    """Is the map usable for the series on disk? Show each commit's
    selection. Returns False if it is not."""
    log = ctx.log
    tree = ctx.paths.work / "covmap" / release.name
    commits = workspace.prepare(ctx, release, tree, discard=True)
    repo = gitmod.Git(tree)
    cmap, why = usable(ctx, release, repo)
    if why:
        log.say("%s: %s" % (release.name, why))
        return False
    log.say("%s: %s: %d tests, %d functions of %d files (made in %ss)" % (
        release.name, path_of(ctx, release).name, len(cmap.tests),
        len(cmap.executed), len(cmap.files), cmap.made.get("seconds", "?")))
    for n, commit in enumerate(commits, 1):
        tests, keys, note = covmap.select(cmap, repo, commit)
        functional, unit = stestr.split(tests)
        log.say("%s: commit %d/%d %s: %d functions changed, %d tests "
                "(%d unit, %d functional)%s" % (
                    release.name, n, len(commits),
                    repo.out("log", "-1", "--format=%s", commit)[:50],
                    len(keys), len(tests), len(unit), len(functional),
                    "; " + note if note else ""))
        for key in keys:
            log.write("    %s\n" % key)
        if find:
            found = sorted(t for t in tests if re.search(find, t))
            log.write("    selected tests matching %s: %s\n" % (
                find, ", ".join(found) or "none"))
    return True
