"""workspace and export: materialize, apply, round trip, refuse."""

import os
import shutil

import pytest

from novaseries import config

FIX = "Fix the thing\n\nLonger story.\n\nCloses-Bug: #1825537\n"
TEST = "Add a recreate test\n\nRelated-Bug: #1825537\n"


def test_baseline_is_deterministic_and_drops_metadata(project, tmp_path):
    assert project.cli("workspace", "fake") == 0
    first = project.git("rev-parse", "baseline")
    files = project.git("ls-files").split("\n")
    assert "PKG-INFO" not in files and "AUTHORS" not in files
    assert not any(f.startswith("nova.egg-info") for f in files)
    assert "nova/compute/manager.py" in files
    assert project.git("ls-files", "-s", "tools/run.sh").startswith("100755")
    # Another checkout elsewhere, another time: the same commit.
    other = type(project)(tmp_path / "other", tmp_path / "cache2")
    assert other.cli("workspace", "fake") == 0
    assert other.git("rev-parse", "baseline") == first


def test_export_then_apply_round_trip_is_byte_stable(project):
    project.cli("workspace", "fake")
    project.commit("nova/tests/test_bug.py", "def test_bug():\n    pass\n", TEST)
    project.commit("nova/compute/manager.py",
                   "def finish_resize():\n    return 'keep dest'\n", FIX)
    assert project.cli("export", "fake") == 0
    names = sorted(os.listdir(project.series))
    assert names == ["0001-Add-a-recreate-test.patch",
                     "0002-Fix-the-thing.patch", "series"]
    assert (project.series / "series").read_text() == \
        "0001-Add-a-recreate-test.patch\n0002-Fix-the-thing.patch\n"
    patch = (project.series / "0002-Fix-the-thing.patch").read_text()
    assert patch.startswith("From 0000000000000000000000000000000000000000 ")
    assert "Subject: [PATCH] Fix the thing" in patch
    assert not patch.rstrip().endswith(".")   # no "-- \n2.39.5" footer
    assert "\n-- \n" not in patch
    before = {n: (project.series / n).read_bytes() for n in names}

    # Materialize again from disk: the same bytes come back out, and the
    # series commits have the same SHAs in two fresh workspaces.
    assert project.cli("workspace", "fake") == 0
    tip = project.git("rev-parse", "HEAD")
    assert project.git("log", "-1", "--format=%an %cn").split() == \
        ["Dev", "nova-series"]
    assert project.cli("export", "--check", "fake") == 0
    assert project.cli("export", "fake") == 0
    assert {n: (project.series / n).read_bytes() for n in names} == before
    shutil.rmtree(project.workspace)
    assert project.cli("workspace", "fake") == 0
    assert project.git("rev-parse", "HEAD") == tip


def test_subject_tags_survive_a_round_trip(project):
    project.cli("workspace", "fake")
    project.commit("nova/x.py", "x = 1\n", "[stable-only] " + FIX)
    assert project.cli("export", "fake") == 0
    assert project.cli("workspace", "--discard", "fake") == 0
    assert project.git("log", "-1", "--format=%s") == \
        "[stable-only] Fix the thing"
    assert project.cli("export", "--check", "fake") == 0


def test_export_check_catches_drift(project, capsys):
    project.cli("workspace", "fake")
    project.commit("nova/x.py", "x = 1\n", FIX)
    project.cli("export", "fake")
    assert project.cli("export", "--check", "fake") == 0
    patch = project.series / "0001-Fix-the-thing.patch"
    patch.write_text(patch.read_text().replace("x = 1", "x = 2"))
    capsys.readouterr()
    assert project.cli("export", "--check", "fake") == 1
    assert "differs: 0001-Fix-the-thing.patch" in capsys.readouterr().out
    (project.series / "0002-stray.patch").write_text("")
    assert project.cli("export", "--check", "fake") == 1
    assert "not in the workspace: 0002-stray.patch" in capsys.readouterr().out


def test_corrupt_patch_names_patch_and_file(project, capsys):
    project.cli("workspace", "fake")
    project.commit("nova/compute/manager.py",
                   "def finish_resize():\n    return 'keep dest'\n", FIX)
    project.cli("export", "fake")
    patch = project.series / "0001-Fix-the-thing.patch"
    patch.write_text(patch.read_text().replace("-    return 'revert'",
                                               "-    return 'other'"))
    capsys.readouterr()
    assert project.cli("workspace", "fake") == 2
    out = capsys.readouterr().out
    assert "patch 0001-Fix-the-thing.patch does not apply" in out
    assert "nova/compute/manager.py" in out
    # Left for inspection, with the am in progress.
    assert os.path.isdir(project.workspace / ".git" / "rebase-apply")


def test_unknown_release_is_a_clear_error(project, capsys):
    assert project.cli("workspace", "grizzly") == 2
    assert "unknown release grizzly (known: fake)" in capsys.readouterr().out


def test_series_names_a_missing_patch(project, capsys):
    (project.series / "series").write_text("0001-gone.patch\n")
    assert project.cli("workspace", "fake") == 2
    assert "series names 0001-gone.patch" in capsys.readouterr().out


def test_local_changes_are_never_destroyed(project, capsys):
    project.cli("workspace", "fake")
    edited = project.workspace / "nova" / "compute" / "manager.py"
    edited.write_text("precious work\n")
    (project.workspace / "new_file.py").write_text("also precious\n")
    capsys.readouterr()
    assert project.cli("workspace", "fake") == 2
    out = capsys.readouterr().out
    assert "uncommitted change" in out and "--discard" in out
    assert edited.read_text() == "precious work\n"
    assert (project.workspace / "new_file.py").exists()
    assert project.cli("workspace", "--discard", "fake") == 0
    assert "precious" not in edited.read_text()
    assert not (project.workspace / "new_file.py").exists()


def test_test_run_leftovers_do_not_count_as_local_work(project):
    project.cli("workspace", "fake")
    for leftover in (".stestr/0", "instances/abc/console.log",
                     "nova/compute/manager.pyc", "nova.egg-info/PKG-INFO"):
        path = project.workspace / leftover
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    assert project.cli("workspace", "fake") == 0


def test_unexported_commits_are_never_destroyed(project, capsys):
    project.cli("workspace", "fake")
    project.commit("nova/x.py", "x = 1\n", FIX)
    head = project.git("rev-parse", "HEAD")
    capsys.readouterr()
    assert project.cli("workspace", "fake") == 2
    assert "not exported" in capsys.readouterr().out
    assert project.git("rev-parse", "HEAD") == head
    assert project.cli("export", "fake") == 0
    assert project.cli("workspace", "fake") == 0


def test_a_foreign_folder_is_not_replaced(project, capsys):
    project.workspace.mkdir(parents=True)
    (project.workspace / "notes.txt").write_text("mine\n")
    assert project.cli("workspace", "fake") == 2
    assert "not a workspace made by this tool" in capsys.readouterr().out
    assert (project.workspace / "notes.txt").exists()


def test_a_tree_of_the_previous_version_is_rebuilt(project, capsys):
    """A version moved in releases.toml: no verb works on the old base."""
    project.cli("workspace", "fake")
    sha = project.add_sdist("1.0.1")
    toml = project.root / "releases.toml"
    old = config.load_releases(project.root)["fake"]
    toml.write_text(toml.read_text().replace('"1.0.0"', '"1.0.1"')
                    .replace(old.sha256, sha))
    capsys.readouterr()
    assert project.cli("workspace", "fake") == 2
    out = capsys.readouterr().out
    assert "Nova 1.0.0" in out and "--discard" in out
    assert "1.0.0" in project.git("log", "-1", "--format=%s", "baseline")
    # The verbs that work in the workspace as it stands refuse it too.
    for verb in ("test", "env", "tox"):
        assert project.cli(verb, "fake") == 2, verb
        assert "--discard" in capsys.readouterr().out, verb
    assert project.cli("workspace", "--discard", "fake") == 0
    assert "1.0.1" in project.git("log", "-1", "--format=%s", "baseline")


def test_sdist_checksum_is_checked(project, capsys):
    sdist = project.paths.sdist(config.load_releases(project.root)["fake"])
    sdist.write_bytes(sdist.read_bytes() + b"tampered")
    assert project.cli("workspace", "fake") == 2
    assert "does not match releases.toml" in capsys.readouterr().out


def test_the_real_release_table_loads():
    releases = config.load_releases()
    assert list(releases) == ["master", "2026.1", "2025.2", "stein", "rocky",
                              "queens", "pike"]
    assert [r.version for r in releases.values()] == \
        ["34.0.0", "33.0.2", "32.2.1", "19.3.2", "18.3.0", "17.0.13",
         "16.1.8"]
    for release in releases.values():
        python3 = release.name in ("master", "2026.1", "2025.2")
        assert release.envs[0].python == ("3.11" if python3 else "2.7")
        assert release.constraints.exists()
        assert len(release.sha256) == 64
    assert releases["stein"].env("3.7").name == "py37"
    # Backports hop by hop, from master down to Pike.
    assert config.newer(releases, releases["pike"]) == [
        "master", "2026.1", "2025.2", "stein", "rocky", "queens"]
    assert config.newer(releases, releases["2025.2"]) == ["master",
                                                          "2026.1"]
    assert config.newer(releases, releases["rocky"]) == [
        "master", "2026.1", "2025.2", "stein"]
    assert config.newer(releases, releases["master"]) == []
    assert config.newer(releases, releases["master"]) == []


def test_backport_of_must_name_a_release_and_make_no_cycle(project):
    table = (project.root / "releases.toml").read_text()
    (project.root / "releases.toml").write_text(
        table.replace('version = "1.0.0"', 'backport_of = "gone"\n'
                      'version = "1.0.0"'))
    with pytest.raises(config.UsageError, match="names gone"):
        config.load_releases(project.root)
    (project.root / "releases.toml").write_text(
        table.replace('version = "1.0.0"', 'backport_of = "fake"\n'
                      'version = "1.0.0"'))
    with pytest.raises(config.UsageError, match="cycle"):
        config.load_releases(project.root)


def test_selection_of_a_commit_and_the_proof_trailer(project):
    from novaseries import git, selection
    from novaseries.commands import verify
    project.cli("workspace", "fake")
    project.commit("nova/tests/test_manager.py",
                   "def test_it():\n    pass\n\n\nclass TestNew(object):\n"
                   "    def test_new(self):\n        pass\n", FIX)
    repo = git.Git(project.workspace)
    assert selection.for_commit(repo, "HEAD") == \
        ["nova.tests.test_manager.TestNew"]
    assert verify.code_changed(repo, "HEAD") == []
    project.commit("nova/compute/manager.py", "x = 1\n", TEST)
    assert selection.for_commit(repo, "HEAD") == []
    assert verify.code_changed(repo, "HEAD") == ["nova/compute/manager.py"]
    project.commit("nova/virt/fake.py", "class FailingDriver(object):\n    pass\n",
                   TEST)
    assert verify.code_changed(repo, "HEAD") == []
    # --tip-only: what any commit of the series selects, covered ones once.
    commits = repo.out("rev-list", "--reverse",
                       "%s..HEAD" % git.BASELINE_TAG).split()
    project.commit("nova/tests/test_manager.py",
                   "def test_it():\n    return 1\n\n\nclass TestNew(object):\n"
                   "    def test_new(self):\n        pass\n", FIX)
    commits.append(repo.rev("HEAD"))
    assert selection.for_commits(repo, commits) == ["nova.tests.test_manager"]
    assert selection.for_commits(repo, commits[:2]) == \
        ["nova.tests.test_manager.TestNew"]
    assert selection.covered_by("nova.tests.test_manager.TestNew",
                                ["nova.tests"])
    assert not selection.covered_by("nova.tests.test_manager_x",
                                    ["nova.tests.test_manager"])


def test_verify_table_counts_proof_failures_apart():
    from novaseries import stestr
    from novaseries.commands import verify
    table = verify.Table()
    table.add("fake", "py27", "wide", stestr.Result(passed=5, skipped=1))
    table.add("fake", "py27", "proof", stestr.Result(passed=2, failed=3),
              ok=True)
    assert table.ok
    assert table.totals() == (5, 0, 1)
    table.add("fake", "py27", "wide", stestr.Result())      # no test ran
    assert not table.ok
    assert "| fake | py27 | proof | 2 | 3 | 0 | 0.0 | ok |" in table.markdown()


def test_workspace_tree_leaves_the_workspace_alone(project, tmp_path):
    """The benches' own tree: the series applied there, and a workspace
    in use (edited, or under test) not touched."""
    project.cli("workspace", "fake")
    project.commit("nova/compute/manager.py",
                   "def finish_resize():\n    return 'keep dest'\n", FIX)
    assert project.cli("export", "fake") == 0
    edited = project.workspace / "nova" / "compute" / "manager.py"
    edited.write_text("# work in progress\n")
    tree = tmp_path / "bench-tree"
    assert project.cli("workspace", "fake", "--tree", str(tree)) == 0
    assert (tree / "nova" / "compute" / "manager.py").read_text() == \
        "def finish_resize():\n    return 'keep dest'\n"
    assert edited.read_text() == "# work in progress\n"
