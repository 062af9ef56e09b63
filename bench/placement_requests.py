#!/usr/bin/env python3
"""Placement requests of the compute services: released code vs the series.

    python3 bench/placement_requests.py [RELEASE]      (from /work/main)

A benchmark, not a test: it reports, it asserts nothing. For RELEASE
(default stein) it prepares two trees,

    series  .work/bench/RELEASE-series, through `./nova-series workspace
            RELEASE --tree` (not the workspace, which may be in use)
    base    .work/bench/RELEASE-base, the tag `baseline` of that tree
            (git archive; kept while the tag does not move)

runs bench/placement_scenario.py in each of them with the venv of the
release's gate env (<cache>/venvs/RELEASE-py27, master-py311; cache =
$NOVA_SERIES_CACHE or ~/.cache/nova-series) and the setenv of the tree's
functional tox env, one scenario at a time, and prints for each failure
scenario (one step of a cross-host resize fails: prep_resize, resize_instance
before the host switch, the cast of finish_resize after it, finish_migration
in finish_resize; or reverting the resize fails: in revert_resize before
or in destroy, finish_revert_migration in finish_revert_resize), the `success` scenario
(the same resize, up to VERIFY_RESIZE) and `success-migrate` (a cold
migration, up to VERIFY_RESIZE)
a table of the requests the compute services sent to placement, base next to
series, then whether the series makes at most one placement write in each
failure path and whether each success path makes exactly the requests of the
base. RELEASE is any of releases.toml: the compute services' report clients
are found as each release builds them (placement_scenario.report_clients).

Exits 1 if a scenario could not be run on a tree (the table still shows the
others) or a failure scenario counted no request on either tree while the
compute services' clients made none in the whole test either (the bench
did not see the report clients: a fault of the bench, not a result), 2 if
the trees or the venv could not be prepared, else 0.
"""

import argparse
import collections
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from novaseries import config, stestr  # noqa: E402
SCENARIO_SCRIPT = ROOT / "bench" / "placement_scenario.py"
SCENARIOS = {
    "fail-prep-resize": "prep_resize raises on the destination",
    "fail-resize-instance": "migrate_disk_and_power_off raises on the "
                            "source, before the host switch",
    "fail-cast-finish": "casting finish_resize raises on the source, after "
                        "the host switch",
    "fail-finish-resize": "finish_migration raises on the destination",
    "fail-revert-before-destroy": "reverting the resize, revert_resize "
                                  "raises on the destination before it "
                                  "destroys the guest",
    "fail-revert-resize": "reverting the resize, destroy raises on the "
                          "destination",
    "fail-finish-revert": "reverting the resize, finish_revert_migration "
                          "raises on the source, after the host switch",
    "success": "the same resize succeeds; counted from the resize request "
               "to VERIFY_RESIZE",
    "success-migrate": "a cold migration of the server succeeds; counted "
                       "from the migrate request to VERIFY_RESIZE",
}
FAILURES = [name for name in SCENARIOS if name.startswith("fail-")]
SUCCESSES = [name for name in SCENARIOS if name.startswith("success")]
COUNTED = "; counted from the raise to the end of its error path"
TREES = ("base", "series")
WRITES = ("PUT", "POST", "DELETE")
SCENARIO_TIMEOUT = 600


class BenchError(Exception):
    pass


def say(message):
    print(message, file=sys.stderr, flush=True)


def tail(text, lines=40):
    return "\n".join(text.rstrip().splitlines()[-lines:])


def cache_dir():
    return pathlib.Path(os.environ.get("NOVA_SERIES_CACHE")
                        or os.path.expanduser("~/.cache/nova-series"))


def run(argv, **kwargs):
    return subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kwargs)


def prepare_series_tree(release):
    # A tree of the bench's own: the workspace may be under test or edit
    # while the bench runs, and `workspace` rewrites the tree it makes.
    tree = ROOT / ".work" / "bench" / ("%s-series" % release)
    say("%s: ./nova-series workspace %s --tree %s ..."
        % (release, release, os.path.relpath(tree, ROOT)))
    done = run([str(ROOT / "nova-series"), "workspace", release,
                "--tree", str(tree), "--discard"], cwd=ROOT)
    if done.returncode != 0:
        raise BenchError("./nova-series workspace %s failed (exit %d):\n%s"
                         % (release, done.returncode, tail(done.stdout)))
    if not (tree / "nova").is_dir():
        raise BenchError("no nova tree in %s" % tree)
    return tree


def prepare_base_tree(release, series_tree):
    done = run(["git", "-C", str(series_tree), "rev-parse",
                "baseline^{commit}"])
    if done.returncode != 0:
        raise BenchError("no tag baseline in %s:\n%s"
                         % (series_tree, tail(done.stdout)))
    baseline = done.stdout.strip()
    tree = ROOT / ".work" / "bench" / ("%s-base" % release)
    marker = tree / ".bench-baseline"
    if marker.is_file() and marker.read_text().strip() == baseline:
        say("%s: reusing %s (baseline %s)" % (release, tree, baseline[:7]))
        return tree
    say("%s: extracting baseline %s into %s ..."
        % (release, baseline[:7], tree))
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "-C", str(series_tree), "archive", "--format=tar", baseline],
        stdout=subprocess.PIPE)
    with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tree, filter="data")
        else:
            tar.extractall(tree)
    if archive.wait() != 0:
        raise BenchError("git archive %s failed in %s"
                         % (baseline, series_tree))
    marker.write_text(baseline + "\n")
    return tree


def scenario_env(venv, tree):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # As the tree's `tox -e functional` runs its tests (34.0.0 says there
    # whether eventlet patches).
    env.update(stestr.setenv(tree, venv, stestr.FUNCTIONAL_ENV))
    env["LC_ALL"] = "C.UTF-8"
    env["OS_TEST_TIMEOUT"] = "160"
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = str(venv / "bin") + os.pathsep + env.get("PATH", "")
    return env


def run_scenario(venv, tree, scenario):
    """The scenario's JSON object, run with cwd = tree (its nova first)."""
    try:
        done = subprocess.run(
            [str(venv / "bin" / "python"), str(SCENARIO_SCRIPT), scenario],
            cwd=tree, env=scenario_env(venv, tree), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=SCENARIO_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BenchError("timed out after %ds" % SCENARIO_TIMEOUT)
    result = None
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except ValueError:
                continue
            break
    if done.returncode != 0 or result is None:
        raise BenchError("exit %d, no result:\n%s" % (
            done.returncode, tail(done.stderr + done.stdout)))
    nova_dir = str(pathlib.Path(tree).resolve() / "nova")
    if not result["nova_file"].startswith(nova_dir + os.sep) \
            or result["modules_from_other_trees"]:
        raise BenchError("nova was not imported from %s only: %s %s" % (
            nova_dir, result["nova_file"],
            " ".join(result["modules_from_other_trees"])))
    return result


def requests_in_order(results):
    """method+path keys, in the order they were first made (base first)."""
    keys = []
    for result in results:
        for entry in result["sequence"]:
            key = entry.split(" ", 1)[1]
            if key not in keys:
                keys.append(key)
    return keys


def table(scenario, results):
    """Lines of the scenario's table; results maps tree -> result or None."""
    found = [results[name] for name in TREES if results[name]]
    rows = [(key, [str(results[name]["requests"].get(key, 0))
                   if results[name] else "error" for name in TREES])
            for key in requests_in_order(found)]
    if not rows:
        rows.append(("(no placement request)",
                     ["0" if results[name] else "error" for name in TREES]))
    for label, field in (("total", "total"),
                         ("writes (PUT/POST/DELETE)", "writes")):
        rows.append((label, [str(results[name][field]) if results[name]
                             else "error" for name in TREES]))
    width = max([len(key) for key, _ in rows] + [len("method path")])
    lines = ["%s: %s%s" % (scenario, SCENARIOS[scenario],
                           COUNTED if scenario in FAILURES else ""),
             "  %-*s  %6s  %6s" % (width, "method path", "base", "series"),
             "  %s  %s  %s" % ("-" * width, "-" * 6, "-" * 6)]
    for index, (key, counts) in enumerate(rows):
        if index == len(rows) - 2:
            lines.append("  %s  %s  %s" % ("-" * width, "-" * 6, "-" * 6))
        lines.append("  %-*s  %6s  %6s" % (width, key, counts[0], counts[1]))
    return lines


def writes(result):
    return [entry for entry in result["sequence"]
            if entry.split(" ")[1] in WRITES]


def conclusions(results):
    lines = []
    for scenario in FAILURES:
        series = results[scenario]["series"]
        if series is None:
            lines.append("%s: unknown, it did not run on the series tree"
                         % scenario)
            continue
        made = writes(series)
        lines.append(
            "%s: the series makes %d placement write(s): at most one: %s%s"
            % (scenario, len(made), "yes" if len(made) <= 1 else "NO",
               "" if not made else " (%s)" % ", ".join(made)))
    for scenario in SUCCESSES:
        base, series = results[scenario]["base"], results[scenario]["series"]
        if base is None or series is None:
            lines.append("%s: unknown, it did not run on both trees"
                         % scenario)
            continue
        same = collections.Counter(base["requests"]) == \
            collections.Counter(series["requests"])
        ordered = [e.split(" ", 1)[1] for e in base["sequence"]] == \
            [e.split(" ", 1)[1] for e in series["sequence"]]
        if same:
            detail = "%d request(s)%s" % (
                series["total"], "" if ordered else ", in another order")
        else:
            diff = collections.Counter(series["requests"])
            diff.subtract(collections.Counter(base["requests"]))
            detail = ", ".join("%+d %s" % (count, key)
                               for key, count in sorted(diff.items()) if count)
        lines.append("%s: the series makes exactly the requests of the "
                     "base: %s (%s)" % (scenario, "yes" if same else "NO",
                                        detail))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Placement requests of the compute services during a "
                    "failed and a successful cross-host resize: released "
                    "code vs the series.")
    parser.add_argument("release", nargs="?", default="stein")
    parser.add_argument("--sequence", action="store_true",
                        help="also print each tree's requests in order, with "
                             "the host that made them")
    args = parser.parse_args(argv)

    releases = config.load_releases(ROOT)
    if args.release not in releases:
        say("unknown release %s (known: %s)" % (args.release,
                                                ", ".join(releases)))
        return 2
    gate = releases[args.release].envs[0]
    venv = cache_dir() / "venvs" / ("%s-%s" % (args.release, gate.name))
    if not (venv / "bin" / "python").exists():
        say("no venv %s: build it with ./nova-series env %s"
            % (venv, args.release))
        return 2
    try:
        series_tree = prepare_series_tree(args.release)
        trees = {"series": series_tree,
                 "base": prepare_base_tree(args.release, series_tree)}
    except BenchError as error:
        say("%s: %s" % (args.release, error))
        return 2

    results = {scenario: {} for scenario in SCENARIOS}
    failed = False
    for scenario in SCENARIOS:
        for name in TREES:
            label = "%s %s %s" % (args.release, name, scenario)
            say("%s ..." % label)
            start = time.monotonic()
            try:
                results[scenario][name] = run_scenario(venv, trees[name],
                                                       scenario)
            except BenchError as error:
                say("%s: failed: %s" % (label, error))
                results[scenario][name] = None
                failed = True
            else:
                say("%s: done in %.1fs" % (label, time.monotonic() - start))

    print("%s: placement requests made by the compute services "
          "(base = %s, series = %s)" % (
              args.release, os.path.relpath(trees["base"], ROOT),
              os.path.relpath(trees["series"], ROOT)))
    for scenario in SCENARIOS:
        print()
        print("\n".join(table(scenario, results[scenario])))
        if args.sequence:
            for name in TREES:
                result = results[scenario][name]
                if result:
                    print("  %s, in order: %s" % (
                        name, "; ".join(result["sequence"]) or "-"))
    print()
    print("\n".join(conclusions(results)))
    # A failure path may make no request on either tree (master's revert
    # of a resize, until its series settles it), but the compute services'
    # clients call placement in every test (boot, periodic tasks): nothing
    # counted on both trees, in the window and in the whole test, means
    # the bench did not see the clients, not a result.
    blind = [scenario for scenario in FAILURES
             if all(results[scenario][name] and
                    results[scenario][name]["total"] == 0 and
                    not results[scenario][name].get(
                        "compute_requests_in_test")
                    for name in TREES)]
    for scenario in blind:
        print("%s: NO request counted on either tree: the benchmark did not "
              "see the compute services' report clients" % scenario)
    return 1 if failed or blind else 0


if __name__ == "__main__":
    sys.exit(main())
