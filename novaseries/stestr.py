"""Run Nova's tests the way the tree's tox.ini does, and read the result."""

import configparser
import dataclasses
import itertools
import os
import re
import shutil
import subprocess
import time

from novaseries import runlog

FUNCTIONAL = "nova.tests.functional"
UNIT = "nova.tests.unit"
# The tree's tox env of the functional tests (unit ones: pyNN, unit_env).
FUNCTIONAL_ENV = "functional"
# How `stestr list` names a test module that does not import.
NOT_IMPORTED = "unittest.loader._FailedTest."


@dataclasses.dataclass
class Result:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    returncode: int = 0
    failures: list = dataclasses.field(default_factory=list)
    # Listed base failures the caller chose not to count (see verify).
    tolerated: list = dataclasses.field(default_factory=list)
    output: str = dataclasses.field(default="", repr=False)
    # The run was stopped at its first failure (first_failure=True).
    stopped: bool = False
    # The verify run whose stored result this is ("" for a fresh one).
    reused_from: str = ""

    STORED = ("passed", "failed", "skipped", "seconds", "returncode",
              "failures", "tolerated", "stopped")

    def fields(self):
        """What a result store keeps (not the output)."""
        return {name: getattr(self, name) for name in self.STORED}

    @classmethod
    def from_fields(cls, fields):
        result = cls(**{name: fields[name] for name in cls.STORED
                        if name in fields})
        result.reused_from = fields.get("run", "")
        return result

    @property
    def ran(self):
        return self.passed + self.failed

    @property
    def ok(self):
        return self.returncode == 0 and self.failed == 0 and self.ran > 0

    def tolerate(self, known):
        """Count the run as passing when its only failures are tests in
        `known` (a release's listed base failures), each named by stestr
        (a failure it did not name, e.g. an import error, is never
        tolerated). Returns whether it did."""
        failures = set(self.failures)
        if not (self.failed and len(failures) == self.failed
                and failures <= set(known)):
            return False
        self.tolerated = sorted(failures)
        self.returncode = 0
        self.failed = 0
        return True

    def summary(self, failures=10):
        """"N passed, N failed, N skipped", then up to `failures` failed
        tests, one a line."""
        return "%d passed, %d failed, %d skipped%s" % (
            self.passed, self.failed, self.skipped,
            "".join("\n  failed: %s" % t
                    for t in sorted(self.failures)[:failures]))

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.seconds += other.seconds
        self.returncode = self.returncode or other.returncode
        self.failures += other.failures
        self.output += other.output
        self.stopped = self.stopped or other.stopped


def tox_config(tree):
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(os.path.join(str(tree), "tox.ini"))
    return parser


def env_section(config, name):
    """The section of the tox env `name`: its own, one whose name expands
    to it (tox 4's `testenv:{unit,py3,py311}`, `testenv:functional{,-py311}`),
    else [testenv]."""
    if config.has_section("testenv:" + name):
        return "testenv:" + name
    for section in config.sections():
        if section.startswith("testenv:") and \
                name in expand(section[len("testenv:"):]):
            return section
    return "testenv"


def expand(spec):
    """The env names a tox section name stands for: each `{a,b}` is one
    of its choices (`functional{,-py311}`: functional, functional-py311)."""
    match = re.search(r"\{([^{}]*)\}", spec)
    if not match:
        return [spec.strip()]
    names = []
    for choice in match.group(1).split(","):
        names += expand(spec[:match.start()] + choice.strip() +
                        spec[match.end():])
    return names


def setenv_lines(config, section, seen=()):
    """The setenv lines of a section, with `{[other]setenv}` replaced by
    that section's lines; a section without setenv has [testenv]'s."""
    if not config.has_option(section, "setenv"):
        section = "testenv"
    if section in seen or not config.has_option(section, "setenv"):
        return []
    lines = []
    for line in config.get(section, "setenv").splitlines():
        line = line.split("#", 1)[0].strip()
        ref = re.match(r"^\{\[([^\]]+)\]setenv\}$", line)
        if ref:
            lines += setenv_lines(config, ref.group(1), seen + (section,))
        elif line:
            lines.append(line)
    return lines


def setenv(tree, venv, env_name="testenv"):
    """The setenv of the tree's tox env `env_name` (its own lines after
    those it takes from [testenv]), for this venv."""
    values = {}
    config = tox_config(tree)
    for line in setenv_lines(config, env_section(config, env_name)):
        if "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().replace(
                "{envdir}", str(venv)).replace("{toxinidir}", str(tree))
    if values.get("LC_ALL", "").lower().replace("-", "") == "en_us.utf8" \
            and not locale_available("en_US.utf8"):
        values["LC_ALL"] = "C.UTF-8"
    return values


def unit_env(venv):
    """The tree's unit tox env for the venv's Python: py27, py311."""
    try:
        with open(os.path.join(str(venv), "pyvenv.cfg")) as f:
            text = f.read()
    except FileNotFoundError:
        return "testenv"
    match = re.search(r"^version(?:_info)?\s*=\s*(\d+)\.(\d+)", text, re.M)
    return "py%s%s" % match.groups() if match else "testenv"


def locale_available(name):
    try:
        out = subprocess.run(["locale", "-a"], stdout=subprocess.PIPE,
                             text=True).stdout
    except OSError:
        return False
    wanted = name.lower().replace("-", "")
    return any(line.lower().replace("-", "") == wanted
               for line in out.splitlines())


def functional_command(tree):
    """(test path, group regex or None, option spelling) from the tree's
    `tox -e functional`; a tree whose stestr groups nothing has no regex."""
    config = tox_config(tree)
    commands = config.get(env_section(config, FUNCTIONAL_ENV), "commands")
    match = re.search(r"stestr\s+--test-path[= ](\S+)"
                      r"(?:\s+(--group[-_]regex)[= ](\S+))?", commands)
    return match.group(1), match.group(3), match.group(2)


def group_option(stestr, spelling):
    """The tree's spelling when the installed stestr knows it, else the other.

    Some releases' tox.ini say --group_regex, others --group-regex; which
    one works depends on the stestr version the constraints install.
    """
    help_text = subprocess.run([str(stestr), "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True).stdout
    other = spelling.replace("_", "-") if "_" in spelling else \
        spelling.replace("-", "_")
    return spelling if spelling in help_text or other not in help_text \
        else other


TOTAL = re.compile(r"^ - (Passed|Failed|Skipped): (\d+)$", re.M)
FAILED_TEST = re.compile(r"^\{\d+\} (\S+) \[[^\]]*\] \.\.\. FAILED$", re.M)


TEST_LINE = re.compile(r"^\{\d+\} (\S+) (?:\[[^\]]*\] )?\.\.\. "
                       r"(ok|FAILED|SKIPPED)", re.M)


def parse(output):
    result = Result()
    totals = TOTAL.findall(output)
    for kind, count in totals:
        setattr(result, kind.lower(), getattr(result, kind.lower()) + int(count))
    if not totals:
        # A run stopped early prints no totals: count its test lines.
        for _, outcome in TEST_LINE.findall(output):
            if outcome == "ok":
                result.passed += 1
            elif outcome == "FAILED":
                result.failed += 1
            else:
                result.skipped += 1
    result.failures = FAILED_TEST.findall(output)
    return result


def test_ids(output):
    """Every test id the run reported, whatever its outcome."""
    return {test for test, _ in TEST_LINE.findall(output)}


def is_failure_line(line):
    return FAILED_TEST.match(line.rstrip("\n")) is not None


def split(selections):
    """Functional and unit selections: they run under different test paths."""
    functional = [s for s in selections if s.startswith(FUNCTIONAL)]
    unit = [s for s in selections if not s.startswith(FUNCTIONAL)]
    return functional, unit


def environment(tree, venv, env_name, environ=None):
    """What tox gives the env's commands: its setenv, the venv first on
    PATH (stestr starts its workers with plain `python`); `environ` last."""
    env = dict(os.environ)
    env.update(setenv(tree, venv, env_name))
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.path.join(str(venv), "bin") + os.pathsep + env["PATH"]
    env.pop("PYTHONPATH", None)
    env.update(environ or {})
    return env


def command(tree, venv, functional, environ=None):
    """(stestr's argv before its subcommand, environment) of the tree's
    functional env, or of its unit env for the venv's Python."""
    stestr = os.path.join(str(venv), "bin", "stestr")
    if not functional:
        return [stestr], environment(tree, venv, unit_env(venv), environ)
    path, regex, spelling = functional_command(tree)
    argv = [stestr, "--test-path=" + path]
    if regex:
        argv.append("%s=%s" % (group_option(stestr, spelling), regex))
    return argv, environment(tree, venv, FUNCTIONAL_ENV, environ)


def list_tests(log, venv, tree, selections, environ=None):
    """The test ids the selections match, as `stestr list` finds them."""
    ids = []
    for functional, regexes in zip((True, False), split(selections)):
        if not regexes:
            continue
        argv, env = command(tree, venv, functional, environ)
        if not os.path.isdir(os.path.join(str(tree), ".stestr")):
            # `list` reads the repository `run` makes (for its timings).
            log.run(argv + ["init"], cwd=tree, env=env, label="stestr init")
        code, output = log.run(argv + ["list", *regexes], cwd=tree, env=env,
                               check=False, label="stestr list")
        if code != 0:
            raise runlog.CommandFailed(argv + ["list"], code, output)
        # A module that does not import is listed as a _FailedTest: kept,
        # for the caller to name.
        ids += [line.strip() for line in output.splitlines()
                if re.match(r"^(nova\.tests|unittest\.loader\._FailedTest)"
                            r"\.\S+$", line.strip())]
    return ids


def run(log, venv, tree, selections, concurrency=None, label=None,
        expect_failure=False, first_failure=False, environ=None, ids=()):
    """Run the selections (regexes, as stestr takes them) and the test
    `ids` (a list stestr loads: a coverage map's selection may be
    thousands of tests); return a Result.

    With first_failure, the run stops at the first test that fails (what
    a regression proof needs to know) and Result.stopped says so.
    `environ` is set last (covmap's PYTHON and PYTHONPATH).
    """
    jobs = ["--concurrency", str(concurrency or os.cpu_count() or 1)]
    total = Result()
    runs = []
    # stestr runs the listed ids that the regexes also match: the
    # regexes and the list are two runs.
    for functional, regexes, listed in zip(
            (True, False), split(selections),
            split(not_matched(ids, selections))):
        if regexes or listed:
            argv, env = command(tree, venv, functional, environ)
            argv += ["run", *jobs]
            runs += [(argv, env, regexes, None), (argv, env, [], listed)]
    for argv, env, regexes, listed in runs:
        if not (regexes or listed) or (first_failure and total.failed):
            continue
        if listed:
            listing = os.path.join(log.dir, "ids-%d.txt" % next(_LISTS))
            with open(listing, "w") as f:
                f.write("".join(t + "\n" for t in listed))
            argv = argv + ["--load-list", listing]
        total.add(_run(log, argv + regexes, tree, env, label,
                       expect_failure, first_failure))
    return total


_LISTS = itertools.count(1)


def not_matched(ids, selections):
    """The ids that no selection matches (stestr searches each regex)."""
    patterns = [re.compile(s) for s in selections]
    return sorted(t for t in ids if not any(p.search(t) for p in patterns))


def _run(log, argv, tree, env, label, expect_failure, first_failure=False):
    began = time.monotonic()
    returncode, output = log.run(
        argv, cwd=tree, env=env, check=False, label=label or "stestr",
        stop_when=is_failure_line if first_failure else None)
    result = parse(output)
    result.returncode = returncode
    result.output = output
    result.seconds = time.monotonic() - began
    if runlog.STOPPED in output:
        result.stopped = True
        # The stopped run's record in the tree's .stestr may be cut short;
        # a later run must not read it (it only loses test timings).
        shutil.rmtree(os.path.join(str(tree), ".stestr"), ignore_errors=True)
    if not result.ok and not expect_failure:
        log.tail(output, 25)
    return result
