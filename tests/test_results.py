"""Incremental verify: passing steps are reused by key, failures never."""

import json

import pytest

from novaseries import checks, covmap, git as gitmod, results, stestr, venvs

FIX = "Fix the thing\n\nLonger story.\n\nCloses-Bug: #1825537\n"
TEST = "Add a recreate test\n\nRelated-Bug: #1825537\n"


class FakeRuns:
    """stands in for stestr.run: records what ran, answers as told."""

    def __init__(self):
        self.ran = []
        self.ids = {}
        self.selections = {}
        self.fail = set()

    def __call__(self, log, venv, tree, selections, **kwargs):
        label = kwargs.get("label", "")
        self.ran.append(label)
        self.ids[label] = list(kwargs.get("ids", ()))
        self.selections[label] = list(selections)
        if any(word in label for word in self.fail) or "proof" in label \
                or "base failures" in label:
            return stestr.Result(passed=0, failed=1, returncode=1,
                                 failures=["nova.tests.test_bug.T.test_x"])
        return stestr.Result(passed=2, returncode=0)


@pytest.fixture
def fake_verify(project, monkeypatch, tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / venvs.STAMP).write_text("venv-1")
    monkeypatch.setattr(venvs, "ensure", lambda *a, **k: venv)
    runs = FakeRuns()
    monkeypatch.setattr(stestr, "run", runs)
    monkeypatch.setattr(checks, "lint_release", lambda ctx, release: (2, []))

    def flake8(*args):
        return True, "clean"

    def reno_lint(*args):
        return True, "clean"

    monkeypatch.setattr(checks, "flake8", flake8)
    monkeypatch.setattr(checks, "reno_lint", reno_lint)
    project.cli("workspace", "fake")
    project.commit("nova/tests/test_bug.py",
                   "class T(object):\n    def test_x(self):\n        pass\n",
                   TEST)
    # The fix: code and the test it changes.
    (project.workspace / "nova/compute/manager.py").write_text(
        "def finish_resize():\n    return 'keep dest'\n")
    project.commit("nova/tests/test_bug.py",
                   "class T(object):\n    def test_x(self):\n        pass\n"
                   "\n    def test_y(self):\n        pass\n", FIX)
    project.commit("nova/tests/test_bug.py",
                   "class T(object):\n    def test_x(self):\n        pass\n"
                   "\n    def test_y(self):\n        pass\n"
                   "\n    def test_z(self):\n        pass\n", TEST)
    project.cli("export", "fake")
    # The fix changes finish_resize, which the map says one test runs.
    baseline = gitmod.Git(project.workspace)
    covmap.Map("fake", baseline.out("rev-parse", "baseline^{tree}"),
               {"nova/compute/manager.py": baseline.out(
                   "rev-parse", "baseline:nova/compute/manager.py")},
               ["nova.tests.test_manager.test_it"],
               {"nova/compute/manager.py:finish_resize": {0}}).save(
        project.root / "covmap" / "fake.json.gz")
    return project, runs, venv


def summary(project):
    runs = sorted(project.paths.runs().glob("*-verify*"))
    with open(runs[-1] / "summary.json") as f:
        return json.load(f)


def test_a_second_verify_reuses_every_passing_step(fake_verify):
    project, runs, venv = fake_verify
    assert project.cli("verify", "--each-commit") == 0
    first = list(runs.ran)
    assert any("commit 1/3" in label for label in first)
    assert any("proof" in label for label in first)
    runs.ran.clear()
    assert project.cli("verify", "--each-commit") == 0
    assert runs.ran == []
    rows = summary(project)["rows"]
    tested = [r for r in rows if r["step"] not in ("env", "covmap")]
    assert tested and all(r["from"] for r in tested)
    # --no-cache runs everything again.
    assert project.cli("verify", "--each-commit", "--no-cache") == 0
    assert runs.ran == first


def add_env(project, python, wide):
    """A second env of the fake release (the same fake venv answers)."""
    table = project.root / "releases.toml"
    table.write_text(table.read_text() + '[[fake.envs]]\npython = "%s"\n'
                     'wide = ["%s"]\n' % (python, wide))


def test_a_plain_verify_runs_what_ci_runs(fake_verify):
    project, runs, venv = fake_verify
    add_env(project, "3.7", "nova.tests.functional")
    assert project.cli("verify") == 0
    # Once at the tip, in the gate's env, no wide selection; the proof.
    assert runs.ran == ["fake/py27 tip",
                        "fake/py27 proof without nova/compute/manager.py"]
    # The commits' own tests: the map's selection is the gate's.
    assert runs.ids["fake/py27 tip"] == []
    rows = summary(project)["rows"]
    assert [r["note"] for r in rows if r["step"] == "covmap"] == [
        "not used (--each-commit uses it): only the tests the commits add "
        "or change"]
    assert [r["env"] for r in rows if r["step"] == "env"] == ["py27"]
    assert [r["step"] for r in rows] == [
        "env", "covmap", "tip", "proof", "messages", "flake8", "reno_lint"]
    # Nothing changed: the re-verify is served from the cache.
    runs.ran.clear()
    assert project.cli("verify") == 0
    assert runs.ran == []
    tested = [r for r in summary(project)["rows"]
              if r["step"] not in ("env", "covmap")]
    assert tested and all(r["from"] for r in tested)
    # CI's spelling before this default selects the same, from the cache.
    assert project.cli("verify", "--tip-only", "--gate-env", "--no-wide") == 0
    assert runs.ran == []


def test_each_commit_is_the_gates_profile(fake_verify):
    project, runs, venv = fake_verify
    add_env(project, "3.7", "nova.tests.functional")
    assert project.cli("verify", "--each-commit") == 0
    assert runs.ran == [
        "fake/py27 commit 1/3", "fake/py27 commit 2/3",
        "fake/py27 commit 3/3", "fake/py27 wide nova.tests",
        "fake/py37 wide nova.tests.functional",
        "fake/py27 proof without nova/compute/manager.py"]
    rows = summary(project)["rows"]
    assert [r["env"] for r in rows if r["step"] == "env"] == ["py27", "py37"]
    runs.ran.clear()
    assert project.cli("verify", "--each-commit", "--gate-env",
                       "--no-wide") == 0
    assert runs.ran == []
    assert "tip" not in [r["step"] for r in summary(project)["rows"]]


def test_wide_without_each_commit_runs_in_the_gates_env(fake_verify):
    project, runs, venv = fake_verify
    add_env(project, "3.7", "nova.tests.functional")
    assert project.cli("verify", "--wide", "nova.tests.test_bug") == 0
    assert runs.ran == ["fake/py27 tip", "fake/py27 wide nova.tests.test_bug",
                        "fake/py27 proof without nova/compute/manager.py"]
    # What the wide selection runs is left to it.
    assert runs.selections["fake/py27 tip"] == []
    assert project.cli("verify", "--no-cache") == 0
    assert runs.selections["fake/py27 tip"] != []


def test_a_failure_is_never_reused(fake_verify):
    project, runs, venv = fake_verify
    runs.fail = {"wide"}
    assert project.cli("verify", "--each-commit") == 1
    runs.ran.clear()
    assert project.cli("verify", "--each-commit") == 1
    assert [label for label in runs.ran] == ["fake/py27 wide nova.tests"]
    runs.fail = set()
    runs.ran.clear()
    assert project.cli("verify", "--each-commit") == 0
    assert runs.ran == ["fake/py27 wide nova.tests"]


def test_editing_one_patch_reruns_from_that_commit_on(fake_verify):
    project, runs, venv = fake_verify
    assert project.cli("verify", "--each-commit") == 0
    # Amend the last commit only: the first two keep their trees.
    project.git("reset", "-q", "--soft", "HEAD~1")
    project.commit("nova/tests/test_bug.py",
                   "class T(object):\n    def test_x(self):\n        pass\n"
                   "\n    def test_y(self):\n        pass\n"
                   "\n    def test_z(self):\n        return 1\n", TEST)
    project.cli("export", "fake")
    runs.ran.clear()
    assert project.cli("verify", "--each-commit") == 0
    assert runs.ran == ["fake/py27 commit 3/3", "fake/py27 wide nova.tests"]


def test_another_venv_runs_again(fake_verify):
    project, runs, venv = fake_verify
    assert project.cli("verify", "--each-commit") == 0
    (venv / venvs.STAMP).write_text("venv-2")
    runs.ran.clear()
    assert project.cli("verify", "--each-commit") == 0
    assert "fake/py27 commit 1/3" in runs.ran


def test_store_and_tool_version(tmp_path):
    store = results.Results(tmp_path, "run-1")
    key = results.key_of(tree="abc", selections=["x"])
    assert store.get(key) is None
    store.put(key, {"passed": 3})
    assert store.get(key) == {"passed": 3, "run": "run-1"}
    assert results.Results(tmp_path, "run-2", enabled=False).get(key) is None
    assert key != results.key_of(tree="abd", selections=["x"])
    (tmp_path / "releases.toml").write_text('[a]\nv = "1"\n[b]\nv = "1"\n')
    version = results.tool_version(tmp_path, "a")
    (tmp_path / "releases.toml").write_text('[a]\nv = "1"\n[b]\nv = "2"\n')
    assert results.tool_version(tmp_path, "a") == version
    (tmp_path / "releases.toml").write_text('[a]\nv = "2"\n[b]\nv = "2"\n')
    assert results.tool_version(tmp_path, "a") != version


def test_tool_version_follows_the_measuring_code_only(tmp_path, monkeypatch):
    (tmp_path / "releases.toml").write_text('[a]\nv = "1"\n')
    package = tmp_path / "package"
    package.mkdir()
    for name in results.MEASURING + ("cli.py",):
        (package / name).write_text(name)
    monkeypatch.setattr(results, "PACKAGE", package)
    version = results.tool_version(tmp_path, "a")
    (package / "cli.py").write_text("a log line more")
    assert results.tool_version(tmp_path, "a") == version
    (package / "stestr.py").write_text("another way to read results")
    assert results.tool_version(tmp_path, "a") != version


def test_each_commit_runs_the_maps_tests_of_what_it_changes(fake_verify):
    project, runs, venv = fake_verify
    assert project.cli("verify", "--each-commit") == 0
    ids = {label.split(" ", 1)[1]: found for label, found in runs.ids.items()
           if " commit " in label}
    assert ids == {"commit 1/3": [],
                   "commit 2/3": ["nova.tests.test_manager.test_it"],
                   "commit 3/3": []}


def test_a_missing_map_runs_each_commits_tests_and_says_so(fake_verify):
    project, runs, venv = fake_verify
    (project.root / "covmap" / "fake.json.gz").unlink()
    assert project.cli("verify", "--each-commit") == 0
    rows = [r for r in summary(project)["rows"] if r["step"] == "covmap"]
    assert [r["ok"] for r in rows] == [True]
    assert "nova-series covmap fake" in rows[0]["note"]
    assert not any(runs.ids.values())


def test_a_stale_map_fails_verify(fake_verify):
    project, runs, venv = fake_verify
    path = project.root / "covmap" / "fake.json.gz"
    cmap = covmap.Map.load(path)
    cmap.baseline_tree = "0" * 40
    cmap.save(path)
    assert project.cli("verify", "--each-commit") == 1
    rows = [r for r in summary(project)["rows"] if r["step"] == "covmap"]
    assert [r["ok"] for r in rows] == [False]
    assert "stale" in rows[0]["note"]
    # The default profile does not read the map.
    assert project.cli("verify") == 0


def test_no_covmap_runs_without_the_map_and_says_so(fake_verify):
    project, runs, venv = fake_verify
    assert project.cli("verify", "--each-commit", "--no-covmap") == 0
    rows = [r for r in summary(project)["rows"] if r["step"] == "covmap"]
    assert [r["ok"] for r in rows] == [True]
    assert "not used" in rows[0]["note"]
    assert not any(runs.ids.values())
