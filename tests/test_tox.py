"""nova-series tox: which interpreter answers an env, and what tox sees."""

import configparser
import pathlib

import pytest

from novaseries import cli, config
from novaseries.commands import tox

TOX_INI = """
[testenv]
basepython = python3.5
[testenv:functional]
basepython = python2.7
[testenv:pep8]
commands = flake8
"""


def tox_config(text=TOX_INI):
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(text)
    return parser


def release(tox_python=None, setuptools=None):
    envs = (config.Env("2.7", ()), config.Env("3.7", (), setuptools))
    return config.Release(
        name="fake", branch="stable/fake", version="1.2.3", sha256="",
        constraints=pathlib.Path("/pins/fake.txt"), extras=(), bindep=(),
        envs=envs, tox_python=tox_python or {})


def test_an_env_of_its_own_basepython_uses_it():
    assert tox.basepython_of(tox_config(), "functional", "python2.7") == \
        ("python2.7", "tox.ini")


def test_an_env_without_one_inherits_testenv():
    assert tox.basepython_of(tox_config(), "pep8", "python2.7") == \
        ("python3.5", "tox.ini")


def test_a_pyNN_env_is_its_factor_whatever_testenv_says():
    assert tox.basepython_of(tox_config(), "py27", "python3.7") == \
        ("python2.7", "factor")
    assert tox.basepython_of(tox_config(), "py37", "python2.7") == \
        ("python3.7", "factor")


def test_no_basepython_anywhere_is_the_default_named_by_nobody():
    assert tox.basepython_of(tox_config("[testenv:pep8]\n"), "pep8",
                             "python2.7") == ("python2.7", None)


def test_releases_toml_names_the_basepython_before_the_tree():
    assert tox.basepython_of(tox_config(), "functional", "python2.7",
                             {"basepython": "python3.7"}) == \
        ("python3.7", "releases.toml")


def test_a_version_of_a_release_env_needs_no_mapping():
    assert tox.version_for(release(), "functional", "python2.7") == \
        ("2.7", False)


def test_a_name_the_release_lacks_is_refused_unless_mapped():
    with pytest.raises(config.UsageError) as exc:
        tox.version_for(release(), "pep8", "python3.5")
    assert "tox_python" in str(exc.value)
    mapped = release(tox_python={"python3.5": "2.7"})
    assert tox.version_for(mapped, "pep8", "python3.5") == ("2.7", True)
    # A bare python3 is not a version: it needs an entry too.
    with pytest.raises(config.UsageError):
        tox.version_for(release(), "docs", "python3")


def test_a_mapping_to_an_interpreter_without_env_is_refused():
    with pytest.raises(config.UsageError):
        tox.version_for(release(tox_python={"python3": "3.6"}), "pep8",
                        "python3")


def test_tox_installs_from_the_pins_and_wheels_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.example/simple")
    monkeypatch.setenv("VIRTUALENV_SETUPTOOLS", "99")
    paths = config.Paths(tmp_path, tmp_path / "work", tmp_path / "cache")
    rel = release()
    environ = tox.tox_environ(paths, rel, rel.envs[0], tmp_path / "bin")
    assert environ["UPPER_CONSTRAINTS_FILE"] == "/pins/fake.txt"
    assert environ["PIP_NO_INDEX"] == "1"
    assert environ["PIP_FIND_LINKS"] == str(
        paths.wheelhouse(rel, rel.envs[0]))
    assert "PIP_INDEX_URL" not in environ
    assert environ["PATH"].startswith(str(tmp_path / "bin") + ":")
    assert environ["PBR_VERSION"] == "1.2.3"
    # The caller's seed choice does not leak into a 2.7 env.
    assert "VIRTUALENV_SETUPTOOLS" not in environ
    assert "LOCPATH" not in environ and "TOX_TESTENV_PASSENV" not in environ


def test_an_env_seeded_with_its_own_setuptools_and_a_compiled_locale(
        tmp_path):
    paths = config.Paths(tmp_path, tmp_path / "work", tmp_path / "cache")
    rel = release(setuptools="50.3.2")
    environ = tox.tox_environ(paths, rel, rel.envs[1], tmp_path / "bin",
                              locpath=tmp_path / "locale")
    assert environ["VIRTUALENV_SETUPTOOLS"] == "50.3.2"
    assert environ["LOCPATH"] == str(tmp_path / "locale")
    assert environ["TOX_TESTENV_PASSENV"] == "LOCPATH"


def test_the_shim_links_the_name_tox_asks_for(tmp_path):
    shims = tox.shim_dir(tmp_path, "python3.5", "/usr/bin/python2.7")
    assert (shims / "python3.5").is_symlink()
    assert str((shims / "python3.5").readlink()) == "/usr/bin/python2.7"
    # Re-pointed when the answer changes.
    tox.shim_dir(tmp_path, "python3.5", "/opt/python2.7")
    assert str((shims / "python3.5").readlink()) == "/opt/python2.7"


def test_offline_runs_tox_in_a_namespace_with_loopback_only():
    argv = tox.offline(["/venv/bin/tox", "-e", "functional"])
    assert argv[:2] == ["unshare", "--net"]
    assert "ip link set lo up" in argv[4]
    assert argv[-3:] == ["/venv/bin/tox", "-e", "functional"]


def test_the_summary_adds_up_every_stestr_run():
    output = (" - Passed: 5\n - Skipped: 1\n - Failed: 0\n"
              "other\n - Passed: 2\n - Skipped: 0\n - Failed: 1\n")
    assert tox.summary(output) == " (7 passed, 1 failed, 1 skipped)"
    assert tox.summary("flake8 ok\n") == ""


def test_words_after_the_double_dash_are_the_envs_posargs(
        tmp_path, monkeypatch):
    args = cli.parser().parse_args(["tox", "stein", "-e", "pep8"])
    assert args.posargs == []
    captured = {}

    def fake_run(args, ctx):
        captured["posargs"] = args.posargs
        return 0

    monkeypatch.setattr(tox, "run", fake_run)
    code = cli.main(["tox", "stein", "-e", "functional", "--",
                     "nova.tests.functional.regressions", "-x"],
                    paths=scratch_paths(tmp_path))
    assert code == 0
    assert captured["posargs"] == ["nova.tests.functional.regressions", "-x"]


def test_a_verb_without_posargs_refuses_them(tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["lint", "--", "x"], paths=scratch_paths(tmp_path))


def scratch_paths(tmp_path):
    return config.Paths(config.ROOT, tmp_path / "work", tmp_path / "cache")


def test_a_mapped_name_is_rewritten_in_a_copy_beside_tox_ini(tmp_path):
    (tmp_path / "tox.ini").write_text(
        "[testenv]\nbasepython = python3.5\n"
        "[testenv:functional]\nbasepython = python2.7\n"
        "[testenv:py35]\nbasepython = python3.55\n")
    path = tox.mapped_ini(tmp_path, "python3.5", "python2.7")
    assert pathlib.Path(path).parent == tmp_path
    text = pathlib.Path(path).read_text()
    assert "basepython = python3.5\n" not in text
    assert text.count("basepython = python2.7") == 2
    assert "python3.55" in text
    # The tree's own file is left as it is.
    assert "python3.5\n" in (tmp_path / "tox.ini").read_text()


TOX4_INI = """\
[tox]
minversion = 4.28.0

[testenv]
constraints =
  {env:TOX_CONSTRAINTS_FILE:https://example.org/constraints}
extras =
  zvm
  vmware

[testenv:functional{,-py311}]
setenv =
  {[testenv]setenv}

[testenv:pep8]
description =
  Run style checks.
deps =
  pre-commit
# a comment of deps
  {[testenv:mypy]deps}
commands =
  pre-commit run --all-files
  {[testenv:mypy]commands}

[testenv:mypy]
commands =
  mypy
"""


def test_the_tree_says_which_tox():
    assert tox.tox_major(tox_config(TOX4_INI)) == 4
    assert tox.tox_major(tox_config("[tox]\nminversion = 3.1.1\n")) == 3
    assert tox.tox_major(tox_config(TOX_INI)) == 3


def test_tox4_answers_an_env_without_basepython_with_its_own():
    parsed = tox_config(TOX4_INI)
    rel = release311()
    given = tox.plan(parsed, rel, "functional", 4)
    assert (given.basepython, given.version, given.source) == \
        ("python3.11", "3.11", None)
    # tox 4 runs on the gate's interpreter: the copy need not name it.
    assert "basepython" not in str(given.sections)
    assert not given.gate_default
    assert tox.plan(parsed, rel, "py311", 4).source == "factor"


TOX3_INI = """\
[tox]
minversion = 3.18.0

[testenv]
usedevelop = True

[testenv:{unit,py3,py311}]
setenv =
  {[testenv]setenv}

[testenv:functional{,-py310,-py311}]
description =
  Run functional tests.

[testenv:pep8]
commands =
  pre-commit run --all-files
"""


def release311(tox_envs=None, tox_python=None):
    return config.Release(
        name="fake", branch="stable/fake", version="1.2.3", sha256="",
        constraints=pathlib.Path("/pins/fake.txt"), extras=(), bindep=(),
        envs=(config.Env("3.11", ()),), tox_python=tox_python or {},
        tox_envs=tox_envs or {})


def test_tox3_builds_an_env_without_basepython_on_the_gate_interpreter(
        tmp_path):
    """tox 3 would take its own interpreter (the tool venv's): the copy
    names the gate env's in the env's section."""
    (tmp_path / "tox.ini").write_text(TOX3_INI)
    parsed = tox_config(TOX3_INI)
    rel = release311(tox_envs={"pep8": {"commands": "flake8 {posargs}"}})
    factor_wins = {"ignore_basepython_conflict": "true"}

    pep8 = tox.plan(parsed, rel, "pep8", 3)
    assert (pep8.basepython, pep8.version, pep8.source) == \
        ("python3.11", "3.11", None)
    assert pep8.gate_default and pep8.replaced == ["commands"]
    assert pep8.sections == {"tox": factor_wins, "testenv:pep8": {
        "commands": "flake8 {posargs}", "basepython": "python3.11"}}

    # A section that stands for several envs: those of a pyNN factor keep
    # its interpreter, as tox 3 is told that the factor wins.
    functional = tox.plan(parsed, rel, "functional", 3)
    section = "testenv:functional{,-py310,-py311}"
    assert functional.sections == {"tox": factor_wins,
                                   section: {"basepython": "python3.11"}}
    path = tox.mapped_ini(tmp_path, functional.rewrite, functional.basepython,
                          functional.sections)
    copied = tox_config(pathlib.Path(path).read_text())
    assert copied.get(section, "basepython").strip() == "python3.11"
    assert copied.get(section, "description").strip() == \
        "Run functional tests."
    assert copied.get("tox", "ignore_basepython_conflict").strip() == "true"
    assert copied.get("tox", "minversion").strip() == "3.18.0"
    assert "basepython" not in (tmp_path / "tox.ini").read_text()

    # Neither an env of its own factor nor one the tree names is touched.
    assert tox.plan(parsed, rel, "py311", 3).sections == {}
    named = tox_config(TOX3_INI + "\n[testenv:docs]\nbasepython = "
                       "python3.11\n")
    assert tox.plan(named, rel, "docs", 3).sections == {}


def test_tox3_reads_basepython_from_releases_toml_mapped():
    parsed = tox_config(TOX3_INI)
    rel = release311(tox_envs={"pep8": {"basepython": "python3"}},
                     tox_python={"python3": "3.11"})
    pep8 = tox.plan(parsed, rel, "pep8", 3)
    assert (pep8.asked, pep8.basepython, pep8.source, pep8.mapped) == \
        ("python3", "python3.11", "releases.toml", True)
    # Written mapped, in the copy's section, not rewritten in the tree's.
    assert pep8.sections["testenv:pep8"] == {"basepython": "python3.11"}
    assert pep8.rewrite is None and not pep8.gate_default


def test_tox3_tries_the_releases_interpreter_before_its_own():
    assert tox.tox3_discover("/opt/py/bin/python3.11") == [
        "--discover", "/opt/py/bin/python3.11"]


def test_tox4_gets_the_pins_and_passes_pbr_its_version(tmp_path):
    paths = config.Paths(tmp_path, tmp_path / "work", tmp_path / "cache")
    rel = release()
    environ = tox.tox_environ(paths, rel, rel.envs[0], tmp_path / "bin")
    assert environ["TOX_CONSTRAINTS_FILE"] == "/pins/fake.txt"
    assert tox.tox4_overrides() == [
        "-x", "testenv.pass_env+=PBR_VERSION,SKIP_GENERATE_AUTHORS,"
        "SKIP_WRITE_GIT_CHANGELOG"]
    assert tox.tox4_overrides(tmp_path)[1].endswith(",LOCPATH")


def test_an_envs_keys_are_replaced_in_the_copy(tmp_path):
    (tmp_path / "tox.ini").write_text(TOX4_INI)
    path = tox.mapped_ini(tmp_path, None, None, {"testenv:pep8": {
        "deps": "-r{toxinidir}/test-requirements.txt", "extras": "",
        "commands": "flake8 {posargs}"}})
    parsed = tox_config(pathlib.Path(path).read_text())
    assert parsed.get("testenv:pep8", "deps").strip() == \
        "-r{toxinidir}/test-requirements.txt"
    assert parsed.get("testenv:pep8", "commands").strip() == \
        "flake8 {posargs}"
    assert parsed.get("testenv:pep8", "extras").strip() == ""
    assert parsed.get("testenv:pep8", "description").strip() == \
        "Run style checks."
    # Other sections, and the tree's own file, stay as they are.
    assert parsed.get("testenv:mypy", "commands").strip() == "mypy"
    assert "pre-commit" in (tmp_path / "tox.ini").read_text()
    assert "pre-commit" not in pathlib.Path(path).read_text()
    # An env of no section of its own gets one.
    text = tox.replace_keys(TOX4_INI, "testenv:docs", {"commands": "true"})
    assert tox_config(text).get("testenv:docs", "commands").strip() == "true"


def test_the_real_master_pep8_runs_flake8_from_the_wheels():
    master = config.load_releases()["master"]
    assert master.tox_envs["pep8"]["commands"].startswith("flake8 ")
    assert "pre-commit" not in master.tox_envs["pep8"]["deps"]


def test_tox4_package_env_gets_pbrs_variables_in_the_copy(tmp_path):
    (tmp_path / "tox.ini").write_text(TOX4_INI)
    path = tox.mapped_ini(tmp_path, None, None, {tox.PKG_SECTION: {
        "pass_env": "\n".join(tox.PASS_ENV)}})
    parsed = tox_config(pathlib.Path(path).read_text())
    assert parsed.get(tox.PKG_SECTION, "pass_env").split() == \
        list(tox.PASS_ENV)
