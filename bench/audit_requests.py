#!/usr/bin/env python3
"""What a dry run of `nova-manage placement audit` reads, as the cloud and
its history grow: the base (the released audit) next to the series.

    python3 bench/audit_requests.py [RELEASE] [--servers N] [--providers P]
        [--history H,H...] [--deleted D,D...]

For each (H, D) pair, runs bench/audit_scenario.py in the series' tree and
in the released tree (prepared as bench/placement_requests.py prepares
them, with the venv of the release's gate env): a cloud of P compute nodes
and N servers booted on them, H finished migrations of those servers and
D deleted servers in the cell database, then one audit without --delete.
Prints a table of the audit's placement requests, the SQL statements it
sent to Nova's databases, its return code and wall time. The reads must
not grow with H or D: exits 1 if, on a tree, they differ between pairs
(or a run failed), else 0. Not a test: the times are this machine's.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import time

BENCH = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import placement_requests as common  # noqa: E402

SCENARIO_SCRIPT = BENCH / "audit_scenario.py"
TIMEOUT = 1800


def run_scenario(venv, tree, sizes):
    argv = [str(venv / "bin" / "python"), str(SCENARIO_SCRIPT)] + [
        str(n) for n in sizes]
    env = common.scenario_env(venv, tree)
    # Booting hundreds of servers takes longer than a test may.
    env["OS_TEST_TIMEOUT"] = str(TIMEOUT)
    try:
        done = subprocess.run(argv, cwd=tree, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise common.BenchError("timed out after %ds" % TIMEOUT)
    lines = [line for line in done.stdout.splitlines()
             if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise common.BenchError("exit %d, no result:\n%s" % (
            done.returncode, common.tail(done.stderr + done.stdout)))
    result = json.loads(lines[-1])
    nova_dir = str(pathlib.Path(tree).resolve() / "nova")
    if not result["nova_file"].startswith(nova_dir):
        raise common.BenchError("nova was not imported from %s: %s" % (
            nova_dir, result["nova_file"]))
    return result


def has_audit(tree):
    """Whether the tree's nova-manage has `placement audit`."""
    manage = pathlib.Path(tree) / "nova" / "cmd" / "manage.py"
    return "    def audit(self," in manage.read_text()


def pairs(text):
    return [int(n) for n in text.split(",")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("release", nargs="?", default="master")
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--providers", type=int, default=4)
    parser.add_argument("--history", type=pairs, default=[0, 2000])
    parser.add_argument("--deleted", type=pairs, default=[0, 2000])
    args = parser.parse_args(argv)

    releases = common.config.load_releases(common.ROOT)
    if args.release not in releases:
        common.say("unknown release %s" % args.release)
        return 2
    gate = releases[args.release].envs[0]
    venv = common.cache_dir() / "venvs" / ("%s-%s" % (args.release,
                                                      gate.name))
    try:
        series_tree = common.prepare_series_tree(args.release)
        trees = {"series": series_tree,
                 "base": common.prepare_base_tree(args.release, series_tree)}
    except common.BenchError as error:
        common.say("%s: %s" % (args.release, error))
        return 2
    # The end-of-life releases have no `placement audit` of their own: the
    # series backports it, so only its tree is measured.
    names = [name for name in common.TREES if has_audit(trees[name])]
    for name in sorted(set(common.TREES) - set(names)):
        common.say("%s %s: no placement audit in this tree, not measured"
                   % (args.release, name))

    rows = []
    failed = False
    for history in args.history:
        for deleted in args.deleted:
            sizes = (args.servers, args.providers, history, deleted)
            for name in names:
                label = "%s %s N=%d P=%d H=%d D=%d" % (
                    (args.release, name) + sizes)
                common.say("%s ..." % label)
                start = time.monotonic()
                try:
                    result = run_scenario(venv, trees[name], sizes)
                except common.BenchError as error:
                    common.say("%s: failed: %s" % (label, error))
                    failed = True
                    continue
                common.say("%s: done in %.1fs: %s" % (
                    label, time.monotonic() - start,
                    json.dumps(result, sort_keys=True)))
                rows.append((name, result))

    print("%s: one `placement audit` dry run; N servers on P compute "
          "nodes, H finished migrations, D deleted servers" % args.release)
    print()
    print("| tree | N | P | H | D | placement requests | of them GET "
          "/allocations/{uuid} | SQL statements (Nova) | exit | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %.2f |" % (
            name, r["servers"], r["providers"], r["migrations"],
            r["deleted"], r["placement_requests"],
            r["requests"].get("GET /allocations/{uuid}", 0),
            r["sql_statements"], r["return_code"], r["seconds"]))
    print()
    for name in names:
        reads = {(r["placement_requests"], r["sql_statements"])
                 for tree, r in rows if tree == name}
        steady = len(reads) == 1
        failed = failed or not steady
        print("%s: reads independent of H and D: %s" % (
            name, "yes" if steady else "NO (%s)" % sorted(reads)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
