"""Reading stestr's output, picking a commit's tests, pin checks."""

import textwrap

from novaseries import selection, stestr, venvs

TRACE = """\
{0} nova.tests.unit.test_a.TestA.test_one [0.1s] ... ok
{1} nova.tests.unit.test_a.TestA.test_two [0.2s] ... FAILED
{1} nova.tests.unit.test_a.TestA.test_three ... SKIPPED: not here

======
Totals
======
Ran: 3 tests in 1.0000 sec.
 - Passed: 1
 - Skipped: 1
 - Expected Fail: 0
 - Unexpected Success: 0
 - Failed: 1
Sum of execute time for each test: 0.3000 sec.
"""


def test_parse_totals_and_failures():
    result = stestr.parse(TRACE)
    assert (result.passed, result.failed, result.skipped) == (1, 1, 1)
    assert result.failures == ["nova.tests.unit.test_a.TestA.test_two"]
    assert not result.ok


def test_a_stopped_run_is_counted_from_its_test_lines():
    stopped = TRACE.split("\n\n")[0] + "\n"
    assert "Totals" not in stopped
    result = stestr.parse(stopped)
    assert (result.passed, result.failed, result.skipped) == (1, 1, 1)
    assert result.failures == ["nova.tests.unit.test_a.TestA.test_two"]
    lines = TRACE.splitlines(True)
    assert [stestr.is_failure_line(line) for line in lines[:3]] == \
        [False, True, False]


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_run_stops_the_whole_process_group_at_the_first_match(tmp_path):
    import time
    from novaseries.runlog import STOPPED, RunLog
    log = RunLog(tmp_path / "runs", "test")
    pidfile = tmp_path / "child.pid"
    # A child in the background, as stestr's workers are, and a parent
    # that would go on for a minute.
    script = ("sleep 60 & echo $! > %s; echo one; echo 'x ... FAILED'; "
              "sleep 60; echo never" % pidfile)
    began = time.monotonic()
    code, output = log.run(["sh", "-c", script], check=False,
                           stop_when=lambda line: "FAILED" in line)
    assert time.monotonic() - began < 30
    assert code != 0
    assert output.splitlines() == ["one", "x ... FAILED", STOPPED]
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def test_no_test_run_is_not_ok():
    result = stestr.parse("No tests found\n")
    assert result.ran == 0 and not result.ok
    result = stestr.parse(TRACE.replace("Failed: 1", "Failed: 0")
                          .replace("Passed: 1", "Passed: 2"))
    assert result.ok
    result.returncode = 1
    assert not result.ok


def test_split_functional_and_unit():
    assert stestr.split(["nova.tests.functional.test_servers",
                         "nova.tests.unit.compute.test_compute_mgr"]) == (
        ["nova.tests.functional.test_servers"],
        ["nova.tests.unit.compute.test_compute_mgr"])


def test_setenv_and_functional_command_from_tox_ini(tmp_path):
    (tmp_path / "tox.ini").write_text(textwrap.dedent("""\
        [testenv]
        setenv =
          VIRTUAL_ENV={envdir}
          LC_ALL=en_US.utf-8
          OS_TEST_TIMEOUT=160
        # a comment
          PYTHONWARNINGS = ignore::UserWarning:psycopg2

        [testenv:functional]
        commands =
          stestr --test-path=./nova/tests/functional --group_regex=nova\\.tests\\.functional\\.api(?:\\.|_)([^_]+) run {posargs}
          stestr slowest
        """))
    values = stestr.setenv(tmp_path, "/venv")
    assert values["VIRTUAL_ENV"] == "/venv"
    assert values["OS_TEST_TIMEOUT"] == "160"
    assert values["PYTHONWARNINGS"] == "ignore::UserWarning:psycopg2"
    assert values["LC_ALL"] in ("en_US.utf-8", "C.UTF-8")
    path, regex, spelling = stestr.functional_command(tmp_path)
    assert path == "./nova/tests/functional"
    assert regex == "nova\\.tests\\.functional\\.api(?:\\.|_)([^_]+)"
    assert spelling == "--group_regex"


TOX4_INI = """\
[testenv]
setenv =
  LC_ALL=en_US.utf-8
  OS_TEST_TIMEOUT=160

[testenv:{unit,py3,py311}]
setenv =
  {[testenv]setenv}
# unit tests fail on greenlet leaks
  NOVA_RAISE_ON_GREENLET_LEAK=True

[testenv:functional{,-py311}]
setenv =
  {[testenv]setenv}
  OS_NOVA_DISABLE_EVENTLET_PATCHING=False
  OS_TEST_TIMEOUT=300
commands =
  stestr --test-path=./nova/tests/functional run {posargs}
  stestr slowest

[testenv:pep8]
commands = flake8
"""


def test_setenv_of_tox4_env_sections(tmp_path):
    (tmp_path / "tox.ini").write_text(TOX4_INI)
    unit = stestr.setenv(tmp_path, "/venv", "py311")
    assert unit["NOVA_RAISE_ON_GREENLET_LEAK"] == "True"
    assert unit["OS_TEST_TIMEOUT"] == "160"
    assert "OS_NOVA_DISABLE_EVENTLET_PATCHING" not in unit
    functional = stestr.setenv(tmp_path, "/venv", "functional")
    assert functional["OS_NOVA_DISABLE_EVENTLET_PATCHING"] == "False"
    # The env's own line comes after [testenv]'s, and wins.
    assert functional["OS_TEST_TIMEOUT"] == "300"
    # An env without a setenv of its own has [testenv]'s.
    assert stestr.setenv(tmp_path, "/venv", "pep8") == \
        stestr.setenv(tmp_path, "/venv")
    assert stestr.setenv(tmp_path, "/venv", "py27") == \
        stestr.setenv(tmp_path, "/venv")
    assert stestr.expand("functional{,-py311}") == ["functional",
                                                    "functional-py311"]


def test_functional_command_without_group_regex(tmp_path):
    (tmp_path / "tox.ini").write_text(TOX4_INI)
    assert stestr.functional_command(tmp_path) == (
        "./nova/tests/functional", None, None)


def test_unit_env_from_the_venv(tmp_path):
    assert stestr.unit_env(tmp_path) == "testenv"
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\n"
                                         "version_info = 3.11.7.final.0\n")
    assert stestr.unit_env(tmp_path) == "py311"
    (tmp_path / "pyvenv.cfg").write_text("version = 2.7.18\n")
    assert stestr.unit_env(tmp_path) == "py27"


def test_each_run_has_its_envs_setenv(tmp_path):
    (tmp_path / "tox.ini").write_text(TOX4_INI)
    (tmp_path / "pyvenv.cfg").write_text("version_info = 3.11.7.final.0\n")
    ran = []

    class Log:
        dir = str(tmp_path)

        def run(self, argv, env=None, **kwargs):
            ran.append((argv[1:], env))
            return 0, " - Passed: 1\n"

    stestr.run(Log(), tmp_path, tmp_path, ["nova.tests.functional.test_a",
                                           "nova.tests.unit.test_b"])
    (functional, fenv), (unit, uenv) = ran
    assert functional[:2] == ["--test-path=./nova/tests/functional", "run"]
    assert fenv["OS_NOVA_DISABLE_EVENTLET_PATCHING"] == "False"
    assert "OS_NOVA_DISABLE_EVENTLET_PATCHING" not in uenv
    assert uenv["NOVA_RAISE_ON_GREENLET_LEAK"] == "True"
    assert unit[0] == "run"


def test_listed_ids_run_apart_from_the_regexes(tmp_path):
    """stestr runs only the listed ids its regexes also match: ids go in
    runs of their own, without the ones a regex runs anyway."""
    (tmp_path / "tox.ini").write_text(
        "[testenv:functional]\ncommands =\n  stestr --test-path=./f "
        "--group_regex=x run\n")
    stestr_bin = tmp_path / "bin" / "stestr"
    stestr_bin.parent.mkdir()
    stestr_bin.write_text("#!/bin/sh\necho --group_regex\n")
    stestr_bin.chmod(0o755)
    ran = []

    class Log:
        dir = str(tmp_path)

        def run(self, argv, **kwargs):
            listing = argv[argv.index("--load-list") + 1] \
                if "--load-list" in argv else None
            ran.append((argv[1:], open(listing).read().split()
                        if listing else None))
            return 0, " - Passed: 1\n"

    result = stestr.run(
        Log(), tmp_path, tmp_path, ["nova.tests.unit.test_a"],
        ids=["nova.tests.unit.test_a.T.test_1", "nova.tests.unit.test_b.T.t",
             "nova.tests.functional.test_c.T.t"], concurrency=2)
    assert result.passed == 3
    assert [listed for _, listed in ran] == [
        ["nova.tests.functional.test_c.T.t"], None,
        ["nova.tests.unit.test_b.T.t"]]
    assert ran[1][0][-1] == "nova.tests.unit.test_a"
    assert ran[0][0][0] == "--test-path=./f"
    assert "--test-path=./f" not in ran[2][0]


MODULE = textwrap.dedent("""\
    import os


    class TestResize(object):
        def _fail_resize(self, where):
            return where

        def test_prep_fails(self):
            self._fail_resize('prep')

        def test_finish_fails(self):
            self._fail_resize('finish')

        def test_other(self):
            pass


    class TestHelperless(object):
        def _unused(self):
            return 1

        def test_x(self):
            pass
    """)


def lines_of(text):
    return {n for n, line in enumerate(MODULE.splitlines(), 1) if text in line}


def test_changed_test_method_selects_it():
    assert selection.tests_for("m", MODULE, lines_of("def test_other")) == \
        ["m.TestResize.test_other"]


def test_changed_helper_selects_its_callers():
    assert selection.tests_for("m", MODULE, lines_of("return where")) == \
        ["m.TestResize.test_finish_fails", "m.TestResize.test_prep_fails"]


def test_changed_helper_without_callers_selects_its_class():
    assert selection.tests_for("m", MODULE, lines_of("return 1")) == \
        ["m.TestHelperless"]


def test_module_level_change_selects_the_module():
    assert selection.tests_for("m", MODULE, lines_of("import os")) == ["m"]


def test_python2_names_that_python3_reserves():
    source = textwrap.dedent("""\
        class TestMove(object):
            def test_resize(self):
                self.call(force=True, async=False)

            def test_other(self):
                pass
        """)
    changed = {n for n, line in enumerate(source.splitlines(), 1)
               if "async=False" in line}
    assert selection.tests_for("m", source, changed) == \
        ["m.TestMove.test_resize"]
    # What Python 3 cannot parse at all selects the whole module.
    assert selection.tests_for("m", "print 'x'\n", {1}) == ["m"]


def test_hunks_and_module_names():
    diff = "@@ -3,0 +4,2 @@\n+a\n+b\n@@ -10,2 +12,0 @@\n-c\n-d\n@@ -20 +20 @@\n"
    assert selection.changed_lines(diff) == {4, 5, 12, 20}
    assert selection.module_name("nova/tests/functional/regressions/"
                                 "test_bug_1.py") == \
        "nova.tests.functional.regressions.test_bug_1"
    assert selection.module_name("nova/tests/functional/integrated_helpers.py") is None
    assert selection.module_name("nova/virt/fake.py") is None
    assert selection._drop_covered(["m", "m.A.test_b", "mx.A"]) == ["m", "mx.A"]


def test_pinned_names_normalize(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("# header\noslo.config===6.8.1\nPyYAML===3.13\n"
                    "tornado===4.5.3;python_version=='2.7'\nsuds_jurko==0.6\n")
    assert venvs.pinned_names(path) == {"oslo-config", "pyyaml", "tornado",
                                        "suds-jurko"}


def test_test_ids_whatever_the_outcome():
    assert stestr.test_ids(TRACE) == {
        "nova.tests.unit.test_a.TestA.test_one",
        "nova.tests.unit.test_a.TestA.test_two",
        "nova.tests.unit.test_a.TestA.test_three"}


def test_listing_inits_the_repository_and_keeps_test_ids_only(tmp_path):
    (tmp_path / "tox.ini").write_text(TOX4_INI)
    ran = []

    class Log:
        def run(self, argv, **kwargs):
            ran.append(argv[1:])
            if argv[-1] == "init":
                (tmp_path / ".stestr").mkdir()
            return 0, ("warning: something\nnova.tests.functional.test_a.T."
                       "test_x\nnova.tests.functional.test_a.T.test_y\n"
                       "unittest.loader.ModuleSkipped.nova.tests.unit.virt\n"
                       "unittest.loader._FailedTest.nova.tests.functional."
                       "test_b\n")

    ids = stestr.list_tests(Log(), tmp_path, tmp_path,
                            ["nova.tests.functional.test_a"])
    assert ids == ["nova.tests.functional.test_a.T.test_x",
                   "nova.tests.functional.test_a.T.test_y",
                   "unittest.loader._FailedTest.nova.tests.functional.test_b"]
    assert ran == [["--test-path=./nova/tests/functional", "init"],
                   ["--test-path=./nova/tests/functional", "list",
                    "nova.tests.functional.test_a"]]
