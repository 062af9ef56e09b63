"""Listed base failures: tolerated only alone, never counted as passes."""

import dataclasses

from novaseries import config, stestr
from novaseries.commands import verify


class FakeLog:
    def __init__(self):
        self.said, self.tails = [], []

    def say(self, message):
        self.said.append(message)

    def tail(self, output, lines=30):
        self.tails.append(output)


RELEASE = config.Release(
    name="fake", branch="stable/fake", version="0", sha256="", constraints=None,
    extras=(), bindep=(), envs=(),
    base_failures=(config.BaseFailure("t.A.test_ssl", "expired CA"),))


def result(failures, passed=5):
    return stestr.Result(passed=passed, failed=len(failures), returncode=1,
                         failures=list(failures))


def test_only_listed_failures_are_tolerated():
    res = result(["t.A.test_ssl"])
    verify.tolerate_base_failures(FakeLog(), RELEASE, res)
    assert res.ok and res.failed == 0 and res.tolerated == ["t.A.test_ssl"]
    assert verify.known_note(res) == " (1 listed base failures)"


def test_an_unlisted_failure_beside_a_listed_one_fails_the_step():
    log = FakeLog()
    res = result(["t.A.test_ssl", "t.B.test_mine"])
    verify.tolerate_base_failures(log, RELEASE, res)
    assert not res.ok and res.failed == 2 and not res.tolerated
    assert log.tails


def test_a_failure_stestr_did_not_name_is_not_tolerated():
    # e.g. an import error: one more failure than named tests
    res = dataclasses.replace(result(["t.A.test_ssl"]), failed=2)
    verify.tolerate_base_failures(FakeLog(), RELEASE, res)
    assert not res.ok


def test_base_failure_rows_are_not_in_the_totals():
    table = verify.Table()
    table.add("fake", "py27", "base failures", result(["t.A.test_ssl"], 0),
              ok=True)
    table.add("fake", "py27", "wide", stestr.Result(passed=7))
    assert table.totals() == (7, 0, 0)


def test_releases_toml_lists_reasons():
    for release in config.load_releases().values():
        for failure in release.base_failures:
            assert failure.reason and failure.test.startswith("nova.tests.")


def test_a_summary_names_the_failed_tests_up_to_its_bound():
    res = result(["t.B.test_2", "t.A.test_1", "t.C.test_3"])
    assert res.summary(failures=2) == (
        "5 passed, 3 failed, 0 skipped\n  failed: t.A.test_1"
        "\n  failed: t.B.test_2")
    assert stestr.Result(passed=4, skipped=1).summary() == \
        "4 passed, 0 failed, 1 skipped"
