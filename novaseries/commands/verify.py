"""verify [RELEASE...]: the main job. Is the series on disk good?

For each release (all by default), in a scratch tree of its own under
.work/verify (a developer's workspace is never touched):
  1. materialize the baseline and apply series/RELEASE;
  2. build or reuse the gate env's venv (--each-commit: every env's);
  3. at the tip, in the gate's env, run the tests the commits add or
     change, once (what CI runs); with --each-commit, each commit's own
     tests and every test of the release's coverage map (covmap/, made
     by `nova-series covmap`) that executes a function it changes, at
     that commit (the gate tests each commit on its own); a stale map
     fails the step there; with no map (never made) or --no-covmap,
     none is used; the covmap row says which;
  4. with --each-commit (or --wide SELECTION), at the tip, each env's
     wide selection (or the --wide ones; --gate-env: the gate's env
     alone; --no-wide: none);
  5. regression proof: for every commit that changes code (not tests,
     notes or docs), put that code back as it was before the commit and
     run the commit's tests again: they must fail (the run stops at the
     first failure);
  6. the commit messages (lint), the release's flake8 with hacking over
     the files the series touches and reno lint of its notes (style).
With --full, the tree's whole unit and functional suites run at the tip
in the gate's env (instead of its wide selection), as `tox -e py27` and
`tox -e functional` do. --base verifies the released code alone: the
wide selection of every env. A test that fails on the released code too
is listed in releases.toml (base_failures): every verify runs the listed
tests on the baseline and fails if one of them passes there, and a
listed test that fails in a step does not fail the step.
Prints a table (release x step), writes it as summary.json and
summary.md in the run's folder, and exits 1 when any step failed.
"""

import dataclasses
import hashlib
import json
import os
import pathlib
import re
import time

from novaseries import checks, covmap, git as gitmod
from novaseries import results as resultsmod
from novaseries import selection, stestr, trees, venvs
from novaseries.config import UsageError, newer, pick
from novaseries.runlog import CommandFailed

HELP = "apply, build and test the series of every release (the main job)"

# Not code: what the regression proof leaves as it is at the fix. Nova's
# fake virt driver exists for tests only; recreate tests add to it. The
# tree's tox.ini says how its tests are run (Stein's [stable-only] patch
# of it), which no test of the tree can prove.
NOT_CODE = ("nova/tests/", "nova/virt/fake.py", "releasenotes/", "doc/",
            "api-guide/", "api-ref/", "tox.ini")


def add_arguments(parser):
    parser.add_argument("releases", nargs="*", metavar="RELEASE")
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--each-commit", action="store_true",
                        help="the gate's profile: every commit on its own, "
                             "every env, the wide selections at the tip "
                             "(default: the tests of all commits once, at "
                             "the tip, in the gate's env, no wide selection: "
                             "what CI runs)")
    parser.add_argument("--no-wide", action="store_true",
                        help="skip the wide selection at the tip (with "
                             "--each-commit or --base)")
    parser.add_argument("--tip-only", action="store_true",
                        help="run the tests all commits add or change once, "
                             "at the tip (the default; not with "
                             "--each-commit)")
    parser.add_argument("--wide", action="append", metavar="SELECTION",
                        help="run this selection at the tip instead of the "
                             "envs' wide ones (repeatable; in the gate's env "
                             "but for --each-commit and --base)")
    parser.add_argument("--gate-env", action="store_true",
                        help="only the gate's env of each release (the "
                             "first in releases.toml; the default but for "
                             "--each-commit and --base)")
    parser.add_argument("--full", action="store_true",
                        help="at the tip, the whole unit and functional "
                             "suites in the gate's env instead of its wide "
                             "selection")
    parser.add_argument("--no-covmap", action="store_true",
                        help="with --each-commit, select no test by the "
                             "coverage maps (each commit's own tests only; "
                             "the row says so; the default profile uses "
                             "none)")
    parser.add_argument("--no-cache", action="store_true",
                        help="reuse no stored result: run every step (CI)")
    parser.add_argument("--base", action="store_true",
                        help="verify the released code as it is: an empty "
                             "series (in .work/verify/RELEASE-base), the "
                             "wide selection of every env")


@dataclasses.dataclass(frozen=True)
class Profile:
    """What a verify runs, as its options select it."""
    each_commit: bool       # every commit on its own, else once at the tip
    every_env: bool         # every env of the release, else the gate's
    wide: bool              # the wide step at the tip
    selections: tuple = ()  # --wide: instead of the envs' own
    full: bool = False      # the whole suites in the gate's env
    base: bool = False      # the released code alone
    covmap: bool = False    # each commit's map selection too

    def describe(self):
        """What runs, in one line (verify's first progress line)."""
        if self.base:
            what = "the released code alone"
        elif self.each_commit:
            what = "each commit on its own"
        else:
            what = "the commits' tests once, at the tip"
        wide = "no wide selection"
        if self.wide:
            wide = " ".join(("the wide selection",) + self.selections)
        parts = [what, "every env" if self.every_env else "the gate's env",
                 wide] + (["the whole suites"] if self.full else [])
        return "; ".join(parts)


def profile(args):
    """The Profile the options select; UsageError if they contradict.

    The default is what CI runs: what the commits add or change, once,
    at the tip, in the gate's env, no wide selection, no map selection
    (at master's tip the map selects thousands of tests: more than CI's
    time). --each-commit is the gate's profile: each commit on its own
    with its map selection, every env, the wide selections. --base: the
    released code, the wide selection of every env. --tip-only,
    --gate-env and --no-wide, which CI passed before, still say what
    they said.
    """
    if args.each_commit and args.tip_only:
        raise UsageError("--each-commit tests every commit on its own, "
                         "--tip-only only the tip: pass one of them")
    if args.base and (args.each_commit or args.tip_only):
        raise UsageError("--base verifies the released code alone: it has "
                         "no commits for %s" % (
                             "--each-commit" if args.each_commit
                             else "--tip-only"))
    if args.wide and args.no_wide:
        raise UsageError("--wide runs a selection at the tip, --no-wide "
                         "none: pass one of them")
    every_env = (args.each_commit or args.base) and not args.gate_env
    if args.wide and args.full and not every_env:
        raise UsageError("--full replaces the gate env's wide selection and "
                         "only the gate's env runs: --wide would run nowhere "
                         "(with --each-commit or --base it runs in the "
                         "other envs)")
    return Profile(
        each_commit=args.each_commit, every_env=bool(every_env),
        wide=not args.no_wide and bool(args.each_commit or args.base or
                                       args.wide),
        selections=tuple(args.wide or ()), full=args.full, base=args.base,
        covmap=bool(args.each_commit and not args.no_covmap))


class Table:
    def __init__(self):
        self.rows = []

    def add(self, release, env, step, result=None, ok=None, note="",
            reused_from=""):
        row = {"release": release, "env": env, "step": step,
               "passed": result.passed if result else 0,
               "failed": result.failed if result else 0,
               "skipped": result.skipped if result else 0,
               "seconds": round(result.seconds, 1) if result else 0.0,
               "ok": bool(result.ok if ok is None else ok), "note": note,
               "from": reused_from or (result.reused_from if result else "")}
        self.rows.append(row)
        return row

    @property
    def ok(self):
        return all(row["ok"] for row in self.rows)

    def markdown(self):
        lines = ["| release | env | step | passed | failed | skipped | "
                 "seconds | result | from | note |",
                 "|---|---|---|---:|---:|---:|---:|---|---|---|"]
        for r in self.rows:
            lines.append("| %s | %s | %s | %d | %d | %d | %.1f | %s | %s | "
                         "%s |" % (
                             r["release"], r["env"], r["step"], r["passed"],
                             r["failed"], r["skipped"], r["seconds"],
                             "ok" if r["ok"] else "FAIL",
                             r.get("from") or "this run", r["note"]))
        return "\n".join(lines) + "\n"

    def totals(self):
        """Tests counted once: the expected failures (the proof's, the
        listed base failures on the baseline) are not."""
        rows = [r for r in self.rows
                if not r["step"].startswith(("proof", "base failures"))]
        return (sum(r["passed"] for r in rows), sum(r["failed"] for r in rows),
                sum(r["skipped"] for r in rows))


def run(args, ctx):
    plan = profile(args)
    releases = pick(ctx.releases, args.releases)
    ctx.log.say("verify %s: %s" % (" ".join(r.name for r in releases),
                                   plan.describe()))
    table = Table()
    began = time.monotonic()
    for release in releases:
        store = resultsmod.Results(
            ctx.paths.cache / "results", os.path.basename(ctx.log.dir),
            resultsmod.tool_version(ctx.paths.root, release.name),
            enabled=not args.no_cache)
        try:
            verify_release(ctx, release, table, args, plan, store)
        except (UsageError, CommandFailed) as exc:
            ctx.log.say("%s: error: %s" % (release.name, exc))
            if isinstance(exc, CommandFailed):
                ctx.log.tail(exc.output)
            table.add(release.name, "-", "setup", ok=False,
                      note=str(exc).splitlines()[0][:120])
    report(ctx, table, time.monotonic() - began)
    return 0 if table.ok else 1


def passes(result):
    return result.ok


def verify_release(ctx, release, table, args, plan, store):
    """One release's steps, in order; each adds its rows to the table."""
    run = ReleaseRun(ctx, release, table, args, plan, store)
    commits = run.materialize()
    run.build_envs()
    run.check_base_failures()
    run.load_map(commits)
    if plan.each_commit:
        run.each_commit(commits)
    else:
        run.tip(commits)
    run.full_and_wide()
    if plan.base:
        return
    run.proofs(commits)
    run.messages_and_style()


class ReleaseRun:
    """What verify knows of one release as its steps go: the verify tree
    and its tip, the envs and their venvs, the coverage map."""

    def __init__(self, ctx, release, table, args, plan, store):
        self.ctx, self.log = ctx, ctx.log
        self.release, self.table, self.store = release, table, store
        self.args, self.plan = args, plan
        self.tree = ctx.paths.verify_tree(
            release.name + ("-base" if plan.base else ""))
        self.repo = gitmod.Git(self.tree)
        self.gate = release.envs[0]
        self.envs = list(release.envs) if plan.every_env else [self.gate]
        self.venvs = {}
        self.cmap = None
        self.tip_commit = None

    def add(self, env, step, result=None, **kwargs):
        return self.table.add(self.release.name, env.name if env else "-",
                              step, result, **kwargs)

    def materialize(self):
        """The baseline and series/RELEASE (or the baseline alone, --base)
        in the verify tree, rebuilt from disk; the series' commits."""
        name = self.release.name
        what = "the baseline alone" if self.plan.base else "series/" + name
        with self.log.step("%s: materializing %s in %s" % (name, what,
                                                           self.tree)):
            # The verify tree belongs to verify: always rebuilt from disk.
            commits = trees.prepare(self.ctx, self.release, self.tree,
                                    discard=True, series=not self.plan.base)
        self.tip_commit = self.repo.rev("HEAD")
        return commits

    def build_envs(self):
        for env in self.envs:
            began = time.monotonic()
            self.venvs[env.name] = venvs.ensure(self.ctx, self.release, env,
                                                self.tree)
            self.add(env, "env", ok=True,
                     note="%.0fs" % (time.monotonic() - began))

    def test(self, env, selections, label, expect_failure=False,
             first_failure=False, passed=passes, ids=()):
        """Run a step, or reuse its stored result if it passed before on
        exactly this tree (as the step has it: a proof's too), venv,
        selection (regexes and ids) and tool version. `passed` tells a
        passing result."""
        release, venv = self.release, self.venvs[env.name]
        key = self.store.key(
            release=release.name, env=env.name,
            venv=venvs.read(venv / venvs.STAMP),
            tree=self.repo.out("write-tree"), selections=selections,
            ids=hashlib.sha256("\n".join(sorted(ids)).encode()
                               ).hexdigest() if ids else "",
            expect_failure=expect_failure, first_failure=first_failure)
        stored = self.store.get(key)
        if stored is not None:
            result = stestr.Result.from_fields(stored)
            self.log.say("%s/%s: %s: reused the passing result of run %s "
                         "(%d passed, %d failed)" % (
                             release.name, env.name, label,
                             result.reused_from, result.passed,
                             result.failed))
            return result
        with self.log.step("%s/%s: %s" % (release.name, env.name, label)):
            result = stestr.run(self.log, venv, self.tree, selections,
                                concurrency=self.args.concurrency,
                                expect_failure=True,
                                first_failure=first_failure, ids=ids,
                                label="%s/%s %s" % (
                                    release.name, env.name, label))
        if not expect_failure:
            tolerate_base_failures(self.log, release, result)
        # The step's line says how long; this one says how it ended.
        self.log.say("%s/%s: %s: %s" % (release.name, env.name, label,
                                        result.summary()))
        if passed(result):
            self.store.put(key, result.fields())
        return result

    def check_base_failures(self):
        """The listed base failures must fail on the baseline, every time.

        That is what allows a step to tolerate them: a listed test that
        passes on the released code could hide a failure the series
        causes.
        """
        release, repo = self.release, self.repo
        if not release.base_failures:
            return
        repo.run("checkout", "-q", gitmod.BASELINE_TAG)

        def all_fail(result):
            return (set(result.failures) == release.known_failures and
                    result.failed == len(release.known_failures))

        try:
            result = self.test(
                self.gate, ["^%s$" % re.escape(t)
                            for t in sorted(release.known_failures)],
                "base failures on the baseline", expect_failure=True,
                passed=all_fail)
        finally:
            repo.run("checkout", "-q", self.tip_commit)
        passing = sorted(release.known_failures - set(result.failures))
        self.add(self.gate, "base failures", result, ok=all_fail(result),
                 note=("%d listed, all fail on the baseline" % result.failed
                       if not passing else
                       "listed but not failing on the baseline: " +
                       ", ".join(passing)))

    def load_map(self, commits):
        """The release's coverage map, if it serves this series; the
        covmap row says which, or why not."""
        if not commits:
            return
        if not self.plan.covmap:
            self.add(self.gate, "covmap", ok=True,
                     note="not used (%s): only the tests the commits add "
                          "or change" % ("--no-covmap" if self.args.no_covmap
                                         else "--each-commit uses it"))
            return
        path = covmap.path_of(self.ctx, self.release)
        if not path.exists():
            # A release whose map was never made (a new base) is verified
            # as with --no-covmap; a map that no longer serves the series
            # still fails: it must be made again.
            self.add(self.gate, "covmap", ok=True,
                     note="no map yet (`nova-series covmap %s` makes one): "
                          "only the tests each commit adds or changes"
                          % self.release.name)
            return
        cmap, why = covmap.usable(self.ctx, self.release, self.repo)
        self.cmap = cmap
        self.add(self.gate, "covmap", ok=cmap is not None,
                 note=why or "%s: %d tests, %d functions of %d files" % (
                     covmap.path_of(self.ctx, self.release).name,
                     len(cmap.tests), len(cmap.executed), len(cmap.files)))

    def mapped(self, commit):
        """The map's tests of the functions the commit changes, and a
        note of how many."""
        if self.cmap is None:
            return [], ""
        ids, keys, _ = covmap.select(self.cmap, self.repo, commit)
        functional, unit = stestr.split(ids)
        return sorted(ids), "; covmap: %d changed functions, %d unit + %d " \
            "functional tests" % (len(keys), len(unit), len(functional))

    def tip(self, commits):
        """What all the commits add or change, once, at the tip; what the
        gate env's wide step runs anyway is left to it."""
        if not commits:
            return
        plan, gate = self.plan, self.gate
        selections = selection.for_commits(self.repo, commits)
        wide = list(plan.selections or gate.wide) \
            if plan.wide and not plan.full else []
        selections = [sel for sel in selections
                      if not selection.covered_by(sel, wide)]
        result = self.test(gate, selections, "tip")
        self.add(gate, "tip", result,
                 note="what the %d commits add or change%s: %s" % (
                     len(commits),
                     ", but for the wide selection" if wide else "",
                     " ".join(selections)[:200]))

    def each_commit(self, commits):
        """Each commit on its own: the tests it adds or changes and its
        map selection, at that commit."""
        repo, gate = self.repo, self.gate
        for n, commit in enumerate(commits, 1):
            subject = repo.out("log", "-1", "--format=%s", commit)
            step = "commit %d/%d" % (n, len(commits))
            repo.run("checkout", "-q", commit)
            selections = selection.for_commit(repo, commit)
            ids, note = self.mapped(commit)
            if not selections and not ids:
                self.add(gate, step, ok=True,
                         note="%s (changes no test and no mapped code)" %
                              subject[:60])
                continue
            result = self.test(gate, selections, step, ids=ids)
            self.add(gate, step, result,
                     note="%s: %s%s" % (subject[:60],
                                        " ".join(selections)[:200], note))
        repo.run("checkout", "-q", self.tip_commit)

    def full_and_wide(self):
        """At the tip: the whole suites in the gate env (--full), each
        env's wide selection (or the --wide ones)."""
        plan, gate = self.plan, self.gate
        if plan.full:
            for sel in (stestr.UNIT, stestr.FUNCTIONAL):
                result = self.test(gate, [sel], "full " + sel)
                self.add(gate, "full", result, note=sel + known_note(result))
        if not plan.wide:
            return
        for env in self.envs:
            if plan.full and env is gate:
                continue
            for sel in plan.selections or env.wide:
                result = self.test(env, [sel], "wide " + sel)
                self.add(env, "wide", result, note=sel + known_note(result))

    def proofs(self, commits):
        """The regression proof of every commit that changes code."""
        fixes = [c for c in commits if code_changed(self.repo, c)]
        if not commits:
            self.add(self.gate, "proof", ok=True,
                     note="empty series: nothing to prove")
        elif not fixes:
            self.add(self.gate, "proof", ok=False,
                     note="no commit of the series changes code")
        for commit in fixes:
            self.prove(commit)
        self.repo.run("checkout", "-q", "-f", self.tip_commit)

    def prove(self, commit):
        """The fix's tests, with its code put back as before it: must
        fail."""
        repo = self.repo
        subject = repo.out("log", "-1", "--format=%s", commit)
        code = code_changed(repo, commit)
        selections = selection.for_commit(repo, commit)
        if not code or not selections:
            self.add(self.gate, "proof", ok=False,
                     note="%s: a fix must change code and tests" %
                          subject[:60])
            return
        repo.run("checkout", "-q", "-f", commit)
        for path in code:
            if repo.run("cat-file", "-e", "%s^:%s" % (commit, path),
                        check=False).returncode == 0:
                repo.run("checkout", commit + "^", "--", path)
            else:
                repo.run("rm", "-q", "-f", "--", path)
        # One failure proves it; the rest would only be waited for (a
        # failing functional test waits for a state that never comes).
        result = self.test(self.gate, selections,
                           "proof without " + " ".join(code),
                           expect_failure=True, first_failure=True,
                           passed=proves)
        repo.run("reset", "-q", "--hard", commit)
        self.add(self.gate, "proof", result, ok=proves(result),
                 note="%s: %d failed without %s%s" % (
                     subject[:50], result.failed, ", ".join(code),
                     " (stopped at the first failure)" if result.stopped
                     else ""))

    def messages_and_style(self):
        """What a reviewer checks before reading the code: the commit
        messages, the release's flake8 with hacking, reno lint. Each is
        stored, when it passes, under what it depends on: the messages
        on this series and those it is a backport of (their commits are
        named), flake8 and reno lint on the tree and the gate's venv."""
        ctx, release, tree = self.ctx, self.release, self.tree
        series = [ctx.paths.series(name)
                  for name in newer(ctx.releases, release) + [release.name]]

        def messages():
            count, problems = checks.lint_release(ctx, release)
            return not problems, "%d patch(es); %s" % (
                count, "; ".join(problems)[:300] or "clean")

        steps = [(None, "messages", messages,
                  {"series": [digest_of(path) for path in series]})]
        venv = self.venvs[self.gate.name]
        for check in (checks.flake8, checks.reno_lint):
            steps.append((self.gate, check.__name__,
                          lambda check=check: check(ctx, release, tree, venv),
                          {"tree": self.repo.out("write-tree"),
                           "venv": venvs.read(venv / venvs.STAMP)}))
        for env, step, check, depends in steps:
            key = self.store.key(release=release.name, step=step, **depends)
            stored = self.store.get(key)
            if stored is None:
                ok, note = check()
                stored = {"ok": ok, "note": note}
                if ok:
                    self.store.put(key, stored)
            self.add(env, step, ok=stored["ok"], note=stored["note"],
                     reused_from=stored.get("run", ""))


def digest_of(folder):
    """Digest of the files of a folder (a series), names and contents."""
    digest = hashlib.sha256()
    for path in sorted(pathlib.Path(folder).iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def tolerate_base_failures(log, release, result):
    """Counts a result with only listed base failures as passing."""
    if result.tolerate(release.known_failures):
        log.say("%s: %d listed base failure(s) tolerated: %s" % (
            release.name, len(result.tolerated),
            ", ".join(result.tolerated)))
    elif not result.ok:
        log.tail(result.output, 25)


def known_note(result):
    return (" (%d listed base failures)" % len(result.tolerated)
            if result.tolerated else "")


def code_changed(repo, commit):
    """Files the commit changes that are code (not tests, notes, docs)."""
    return [p for p in repo.changed_files(commit + "^", commit)
            if not p.startswith(NOT_CODE)]


def proves(result):
    """A proof proves something only if tests ran and some failed."""
    return result.failed > 0 or (result.returncode != 0 and result.ran > 0)


def report(ctx, table, seconds):
    md = table.markdown()
    with open(os.path.join(ctx.log.dir, "summary.md"), "w") as f:
        f.write(md)
    with open(os.path.join(ctx.log.dir, "summary.json"), "w") as f:
        json.dump({"ok": table.ok, "seconds": round(seconds, 1),
                   "rows": table.rows}, f, indent=2)
    print()
    print(md)
    passed, failed, skipped = table.totals()
    ctx.log.say("verify %s in %.0fs; summary in %s" % (
        "passed" if table.ok else "FAILED", seconds, ctx.log.dir))
    # A plain closing line that CI reads.
    print("verify: %d passed, %d failed, %d skipped" % (passed, failed,
                                                        skipped))
