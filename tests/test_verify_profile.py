"""What `verify`'s options select: the CI profile by default, the gate's
with --each-commit, contradictions refused."""

import pathlib
import re
import shlex

import pytest

from novaseries import cli
from novaseries.commands import verify
from novaseries.config import UsageError


def plan(*words):
    args = cli.parser().parse_args(["verify", *words])
    return verify.profile(args)


def shape(p):
    return (p.each_commit, p.every_env, p.wide)


CI = (False, False, False)          # once at the tip, gate env, no wide
GATE = (True, True, True)           # each commit, every env, wide


@pytest.mark.parametrize("words,expected", [
    ((), CI),
    (("stein", "rocky"), CI),
    # What .ci/run passed before the default was CI's: the same profile.
    (("--tip-only", "--gate-env", "--no-wide"), CI),
    (("--tip-only",), CI),
    (("--gate-env",), CI),
    (("--no-wide",), CI),
    (("--no-cache", "--no-covmap"), CI),
    (("--each-commit",), GATE),
    (("--each-commit", "--gate-env"), (True, False, True)),
    (("--each-commit", "--no-wide"), (True, True, False)),
    (("--each-commit", "--gate-env", "--no-wide"), (True, False, False)),
    # --wide turns the wide step on, in the gate's env unless every env runs.
    (("--wide", "nova.tests.functional.test_servers"), (False, False, True)),
    (("--each-commit", "--wide", "x"), GATE),
    (("--base",), (False, True, True)),
    (("--base", "--gate-env"), (False, False, True)),
    (("--base", "--no-wide"), (False, True, False)),
])
def test_which_profile_the_options_select(words, expected):
    assert shape(plan(*words)) == expected


def test_the_default_is_cis_and_each_commit_the_gates():
    default = plan()
    assert not (default.full or default.base or default.selections)
    assert default.describe() == ("the commits' tests once, at the tip; the "
                                  "gate's env; no wide selection")
    assert plan("--each-commit").describe() == (
        "each commit on its own; every env; the wide selection")


def test_only_the_gates_profile_selects_by_the_maps():
    assert not plan().covmap and not plan("--full").covmap
    assert plan("--each-commit").covmap
    assert not plan("--each-commit", "--no-covmap").covmap
    assert not plan("--base").covmap


def test_wide_and_full_keep_their_meaning():
    assert plan("--wide", "a", "--wide", "b").selections == ("a", "b")
    full = plan("--full")
    assert full.full and shape(full) == CI
    assert "the whole suites" in full.describe()
    full = plan("--each-commit", "--full")
    assert full.full and shape(full) == GATE
    # Other envs than the gate's run --wide beside --full.
    assert plan("--each-commit", "--full", "--wide", "x").selections == ("x",)
    assert plan("--base", "--full").base


@pytest.mark.parametrize("words,says", [
    (("--each-commit", "--tip-only"), "pass one of them"),
    (("--base", "--each-commit"), "no commits for --each-commit"),
    (("--base", "--tip-only"), "no commits for --tip-only"),
    (("--wide", "x", "--no-wide"), "pass one of them"),
    (("--each-commit", "--wide", "x", "--no-wide"), "pass one of them"),
    (("--full", "--wide", "x"), "--wide would run nowhere"),
    (("--each-commit", "--gate-env", "--full", "--wide", "x"),
     "--wide would run nowhere"),
])
def test_contradictions_are_usage_errors(words, says):
    with pytest.raises(UsageError, match=re.escape(says)):
        plan(*words)


def test_a_contradiction_stops_verify_before_it_starts(project, capsys):
    assert project.cli("verify", "--each-commit", "--tip-only") == 2
    out = capsys.readouterr().out
    assert "error: --each-commit tests every commit on its own" in out
    assert not project.paths.verify_tree("fake").exists()


ROOT = pathlib.Path(__file__).resolve().parent.parent


def verify_words(text):
    """The options of every `nova-series verify` command line of a file."""
    found = []
    for line in text.splitlines():
        match = re.search(r"nova-series verify\s(.*?)(?:\|\||$)", line)
        if match and not line.lstrip().startswith(("#", "echo")):
            found.append([w for w in shlex.split(match.group(1))
                          if w.startswith("-")])
    return found


def test_ci_runs_the_default_and_zuul_the_gates_profile():
    ci = verify_words((ROOT / ".ci" / "run").read_text())
    assert ci and all(shape(plan(*words)) == CI for words in ci)
    # Every run uncached, and otherwise the README's main command.
    assert all(words == ["--no-cache"] for words in ci)
    gate = verify_words((ROOT / "playbooks" / "verify.yaml").read_text())
    assert [shape(plan(*words)) for words in gate] == [GATE]
    full = verify_words((ROOT / "playbooks" / "verify-full.yaml").read_text())
    assert [shape(plan(*words)) for words in full] == [GATE]
    assert plan(*full[0]).full
