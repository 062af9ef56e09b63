"""covmap RELEASE...: map which tests execute which functions (see covmap.py).

Makes covmap/RELEASE.json.gz: on the baseline, in .work/covmap/RELEASE,
the tree's whole unit and functional suites (or --selection) run in the
gate's env under coverage.py (5.5 on Python 2.7, its last release there;
7.x on Python 3; installed beside the venv, not in it), measuring the
files the series changes and those releases.toml's `measure` names, with
a context per test (covhook/sitecustomize.py). The tests run in chunks
whose results are kept in covmap/chunks/RELEASE/ (gzipped, committed
with the repo, as a machine's cache may not outlive a session): a run
stopped at any time goes on from its first unfinished chunk when started
again, here or on another machine with the same venv; they are removed
once the map is made. Takes as long as
`verify --full` and a little more; run it again when the series starts
changing a file it does not measure (`verify` says so).

--check: is each release's map made from its baseline and does it
measure every file its series changes? Then, per commit, the changed
functions and how many tests they select.
"""

import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3

from novaseries import covmap, git as gitmod, interpreters, stestr, tools
from novaseries import trees, venvs
from novaseries.config import pick

HELP = "map which tests execute which functions of a release (for verify)"

# coverage.py by the interpreter's major version: 5.5 is the last for
# Python 2.7; 7.x reads 3.11's byte code (same data schema and contexts).
COVERAGE = {"2": "5.5", "3": "7.15.4"}
HOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "covhook")
# Tests a chunk: a killed run loses at most one chunk. A functional test
# takes about ten times a unit test's time.
CHUNK = {"unit": 2000, "functional": 200}
# What a stored chunk result looks like; a change of it throws them away.
CHUNK_FORMAT = 1


def add_arguments(parser):
    parser.add_argument("releases", nargs="*", metavar="RELEASE")
    parser.add_argument("--check", action="store_true",
                        help="check the stored maps and show each commit's "
                             "selection; make nothing")
    parser.add_argument("--selection", action="append",
                        help="run only this selection (a partial map, for "
                             "trying the tool; repeatable)")
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--chunk-size", type=int, metavar="N",
                        help="tests a chunk (default: %(unit)d unit, "
                             "%(functional)d functional)" % CHUNK)
    parser.add_argument("--find", metavar="REGEX",
                        help="with --check: name each commit's selected "
                             "tests that match")


def run(args, ctx):
    ok = True
    for release in pick(ctx.releases, args.releases):
        if args.check:
            ok = check(ctx, release, args.find) and ok
        else:
            ok = make(ctx, release, args) and ok
    return 0 if ok else 1


def scope_of(ctx, release, tree):
    """The files a map measures: Nova's code that the series changes or
    releases.toml's `measure` names, as far as the baseline has it."""
    wanted = covmap.series_files(ctx, release) | set(release.measure)
    return sorted(p for p in wanted
                  if covmap.in_scope(p) and os.path.isfile(tree / p))


def coverage_version(python_version):
    return COVERAGE[python_version.split(".")[0]]


def coverage_dir(ctx, venv):
    """(folder, version) of the coverage.py for the venv's interpreter,
    outside the venv (the release's own pins may have another, or one
    without contexts)."""
    python = interpreters.probe(venv / "bin" / "python").version
    version = coverage_version(python)
    target = ctx.paths.cache / "coverage" / ("%s-py%s" % (version, python))
    if not (target / "coverage").is_dir():
        with ctx.log.step("installing coverage %s for Python %s in %s" % (
                version, python, target)):
            ctx.log.run([str(venv / "bin" / "pip"), "install", "-q",
                         "--no-deps", "--target", str(target),
                         "coverage==" + version],
                        env=tools.pip_environ())
    return target, version


def chunks_of(ids, size=None):
    """The test ids in chunks: sorted, unit and functional apart, at most
    `size` (else CHUNK's size of their kind) a chunk."""
    chunks = []
    for kind, part in zip(("functional", "unit"), stestr.split(sorted(ids))):
        step = size or CHUNK[kind]
        chunks += [part[i:i + step] for i in range(0, len(part), step)]
    return chunks


def digest(*parts):
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()
                          ).hexdigest()


def make(ctx, release, args):
    """Make the release's map, chunk by chunk. A chunk's result is kept
    in the cache under a key of all it depends on (the baseline, what is
    measured, the coverage.py, the venv, the chunk's tests), so that a
    run stopped at any time goes on from the first unfinished chunk."""
    log = ctx.log
    tree = ctx.paths.work / "covmap" / release.name
    with log.step("%s: the baseline in %s" % (release.name, tree)):
        trees.prepare(ctx, release, tree, discard=True, series=False)
    repo = gitmod.Git(tree)
    baseline_tree = repo.out("rev-parse", gitmod.BASELINE_TAG + "^{tree}")
    scope = scope_of(ctx, release, tree)
    files = {p: repo.out("rev-parse", "%s:%s" % (gitmod.BASELINE_TAG, p))
             for p in scope}
    gate = release.envs[0]
    venv = venvs.ensure(ctx, release, gate, tree)
    cov_dir, cov_version = coverage_dir(ctx, venv)
    data = tree / ".covmap-data"
    rcfile = data / "coveragerc"
    environ = {
        # stestr starts its workers as `${PYTHON:-python} -m subunit.run`.
        "PYTHON": "python -m coverage run --rcfile=%s" % rcfile,
        "PYTHONPATH": os.pathsep.join([HOOK, str(cov_dir)]),
    }
    selections = args.selection or [stestr.UNIT, stestr.FUNCTIONAL]
    with log.step("%s: listing the tests of %s" % (release.name,
                                                   " ".join(selections))):
        listed = stestr.list_tests(log, venv, tree, selections)
    broken = sorted(t[len(stestr.NOT_IMPORTED):] for t in listed
                    if t.startswith(stestr.NOT_IMPORTED))
    if broken:
        log.say("%s: %d test module(s) do not import, their tests are not "
                "mapped: %s" % (release.name, len(broken), ", ".join(broken)))
    chunks = chunks_of([t for t in listed
                        if not t.startswith(stestr.NOT_IMPORTED)],
                       args.chunk_size)
    if not chunks:
        log.say("%s: no test matches %s" % (
            release.name, " ".join(selections)))
        return False
    with open(os.path.join(HOOK, "sitecustomize.py"), "rb") as f:
        hook = f.read().decode()
    common = digest(CHUNK_FORMAT, baseline_tree, files, cov_version,
                    venvs.read(venv / venvs.STAMP), hook)
    store = chunk_store(ctx, release)

    def run_one(chunk):
        return run_chunk(ctx, release, tree, venv, data, rcfile, scope,
                         chunk, environ, args.concurrency)

    done = each_chunk(log, "%s: " % release.name, store, common, chunks,
                      run_one, "under coverage (%d files)" % len(scope))
    if done is None:
        return False
    cmap = merge(release, baseline_tree, files, done)
    cmap.made = {"selections": selections,
                 "passed": sum(c["passed"] for c in done),
                 "failed": sum(c["failed"] for c in done),
                 "skipped": sum(c["skipped"] for c in done),
                 "seconds": round(sum(c["seconds"] for c in done)),
                 "coverage": "coverage==" + cov_version, "env": gate.name,
                 "chunks": len(done), "not_imported": broken}
    path = covmap.path_of(ctx, release)
    cmap.save(path)
    # The map holds all they did.
    shutil.rmtree(store)
    made = cmap.made
    log.say("%s: %s: %d tests (%d passed, %d failed, %d skipped) in %ds, "
            "%d functions of %d files executed; %d KiB" % (
                release.name, path, len(cmap.tests), made["passed"],
                made["failed"], made["skipped"], made["seconds"],
                len(cmap.executed), len(scope), path.stat().st_size // 1024))
    failures = [t for c in done for t in c["failures"]]
    if failures:
        log.say("%s: failed under coverage (still mapped): %s" % (
            release.name, ", ".join(failures[:20])))
    return True


def chunk_store(ctx, release):
    """Where a release's chunk results are kept until its map is made."""
    return ctx.paths.root / "covmap" / "chunks" / release.name


def each_chunk(log, prefix, store, common, chunks, run_one, doing=""):
    """Each chunk's result: the one kept in `store` under a key of the
    chunk's tests and `common` (all else it depends on), else what
    run_one(chunk) returns, kept there at once. None if a run broke off
    (what ran before it is kept)."""
    store.mkdir(parents=True, exist_ok=True)
    done = []
    for n, chunk in enumerate(chunks, 1):
        path = store / ("%s.json.gz" % digest(common, chunk)[:32])
        label = "%schunk %d/%d (%d tests from %s)" % (
            prefix, n, len(chunks), len(chunk), chunk[0])
        if path.exists():
            with gzip.open(path, "rt") as f:
                done.append(json.load(f))
            log.say("%s: done in an earlier run" % label)
            continue
        with log.step("%s %s" % (label, doing)):
            found = run_one(chunk)
        if found is None:
            return None
        # Written whole or not at all: a kill leaves no half chunk.
        with gzip.open(str(path) + ".tmp", "wt") as f:
            json.dump(found, f)
        os.replace(str(path) + ".tmp", path)
        done.append(found)
    return done


def run_chunk(ctx, release, tree, venv, data, rcfile, scope, chunk, environ,
              concurrency):
    """One chunk's tests under coverage: {"tests", "executed" (function
    key -> indexes into tests), counts}, or None if the run broke off."""
    if data.exists():
        shutil.rmtree(data)
    data.mkdir()
    rcfile.write_text("[run]\nparallel = True\ndata_file = %s\n"
                      "include =\n%s\n" % (
                          data / ".coverage",
                          "\n".join("    %s" % (tree / p) for p in scope)))
    result = stestr.run(ctx.log, venv, tree, [], concurrency=concurrency,
                        expect_failure=True, environ=environ, ids=chunk,
                        label="%s covmap" % release.name)
    tests = sorted(stestr.test_ids(result.output))
    if not stestr.TOTAL.search(result.output) or not tests:
        ctx.log.say("%s: the chunk's run ended without stestr's totals "
                    "(exit %d); nothing kept, run covmap again" % (
                        release.name, result.returncode))
        return None
    missing = len(set(chunk) - set(tests))
    if missing:
        ctx.log.say("%s: %d listed tests did not report (kept as they ran)"
                    % (release.name, missing))
    executed = read_data(tree, data, scope, tests)
    return {"tests": tests,
            "executed": {k: sorted(v) for k, v in executed.items()},
            "passed": result.passed, "failed": result.failed,
            "skipped": result.skipped, "failures": result.failures,
            "seconds": result.seconds}


def merge(release, baseline_tree, files, chunks):
    """One map of the chunks' results."""
    tests = sorted({t for c in chunks for t in c["tests"]})
    index = {t: i for i, t in enumerate(tests)}
    executed = {}
    for chunk in chunks:
        for key, indexes in chunk["executed"].items():
            executed.setdefault(key, set()).update(
                index[chunk["tests"][i]] for i in indexes)
    return covmap.Map(release=release.name, baseline_tree=baseline_tree,
                      files=files, tests=tests, executed=executed)


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


def check(ctx, release, find=None):
    """Is the map usable for the series on disk? Show each commit's
    selection. Returns False if it is not."""
    log = ctx.log
    tree = ctx.paths.work / "covmap" / release.name
    commits = trees.prepare(ctx, release, tree, discard=True)
    repo = gitmod.Git(tree)
    cmap, why = covmap.usable(ctx, release, repo)
    if why:
        log.say("%s: %s" % (release.name, why))
        return False
    log.say("%s: %s: %d tests, %d functions of %d files (made in %ss)" % (
        release.name, covmap.path_of(ctx, release).name, len(cmap.tests),
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
