"""The coverage map: function spans, its storage, a commit's selection."""

import os
import subprocess
import sys
import textwrap

from novaseries import covmap, git as gitmod
from novaseries.commands import covmap as covmapcmd

SOURCE = textwrap.dedent('''\
    import os

    LIMIT = 3


    class Manager(object):
        """A manager."""

        def resize(self):
            x = 1
            return x

        @staticmethod
        def confirm():
            def inner():
                return 2
            return inner()


    def helper():
        return os.sep
    ''')


def test_functions_and_classes():
    classes = []
    funcs = {f.qualname: f for f in covmap.functions(SOURCE, classes)}
    assert sorted(funcs) == ["Manager.confirm", "Manager.confirm.inner",
                             "Manager.resize", "helper"]
    assert (funcs["Manager.resize"].body, funcs["Manager.resize"].last) == \
        (10, 11)
    assert funcs["Manager.resize"].cls == "Manager"
    assert classes == [("Manager", 6, 17)]
    assert covmap.innermost(funcs.values(), 16).qualname == \
        "Manager.confirm.inner"


def test_encoding_round_trip_and_shared_sets():
    cmap = covmap.Map("r", "tree", {"a.py": "blob"}, ["t0", "t1", "t2"],
                      {"a.py:f": {0, 2}, "a.py:g": {0, 2}, "a.py:h": {1}})
    loaded = covmap.Map.loads(cmap.dumps())
    assert loaded.executed == cmap.executed
    assert '"sets"' in cmap.dumps() and len(
        __import__("json").loads(cmap.dumps())["sets"]) == 2
    big = set(range(0, 100000, 7))
    assert set(covmap._decode(covmap._encode(sorted(big)))) == big


def test_numbits():
    # Lines 1 and 3 (bits 1, 3 of byte 0) and line 9 (bit 1 of byte 1).
    assert covmapcmd.numbits_lines(bytes([0b1010, 0b10])) == [1, 3, 9]


def _repo(tmp_path):
    repo = gitmod.Git(tmp_path)
    repo.run("init", "-q")
    path = tmp_path / "nova" / "manager.py"
    path.parent.mkdir()
    path.write_text(SOURCE)
    repo.run("add", "-A")
    repo.run("commit", "-q", "-m", "base")
    repo.run("tag", "baseline")
    return repo, path


def _commit(repo, path, text, message):
    """Make `text` the module's source in a commit of its own."""
    path.write_text(text)
    repo.run("commit", "-q", "-am", message)


def _select_after(tmp_path, *edits):
    """select()'s (tests, keys) at each commit of a repo of SOURCE that
    makes the edits, one commit an (edit of the source, message), oldest
    first."""
    repo, path = _repo(tmp_path)
    for edit, message in edits:
        _commit(repo, path, edit(path.read_text()), message)
    cmap = _map(repo)
    return [covmap.select(cmap, repo, repo.rev("HEAD~%d" % back))[:2]
            for back in reversed(range(len(edits)))]


def _map(repo):
    tests = ["nova.tests.unit.T.test_resize", "nova.tests.unit.T.test_confirm",
             "nova.tests.unit.T.test_helper"]
    return covmap.Map(
        "r", repo.out("rev-parse", "baseline^{tree}"),
        {"nova/manager.py": "x"}, tests,
        {"nova/manager.py:Manager.resize": {0},
         "nova/manager.py:Manager.confirm": {1},
         "nova/manager.py:Manager.confirm.inner": {1},
         "nova/manager.py:helper": {2}})


def test_a_changed_function_selects_its_tests(tmp_path):
    repo, path = _repo(tmp_path)
    _commit(repo, path, SOURCE.replace("x = 1", "x = 2"), "change resize")
    tests, keys, _ = covmap.select(_map(repo), repo, repo.rev("HEAD"))
    assert keys == ["nova/manager.py:Manager.resize"]
    assert tests == {"nova.tests.unit.T.test_resize"}


def test_a_new_function_is_reached_through_its_callers(tmp_path):
    added, called = _select_after(
        tmp_path,
        (lambda text: text + "\n\ndef settle():\n    return 1\n",
         "add settle"),
        (lambda text: text.replace(
            "return os.sep", "return os.sep + str(settle())"), "call it"))
    # Added after helper, called by nothing yet: selects no test (not
    # helper's, though it is the insertion's neighbour).
    assert added == (set(), ["nova/manager.py:settle"])
    assert called == ({"nova.tests.unit.T.test_helper"},
                      ["nova/manager.py:helper"])


def test_lines_added_at_a_functions_end_or_to_its_decorators(tmp_path):
    appended, decorated = _select_after(
        tmp_path,
        (lambda text: text + "    pass\n", "append to helper"),
        (lambda text: text.replace(
            "    @staticmethod\n", "    @staticmethod\n    @other\n"),
         "decorate confirm"))
    assert appended[1] == ["nova/manager.py:helper"]
    assert decorated[1] == ["nova/manager.py:Manager.confirm"]


def test_module_level_lines(tmp_path):
    repo, path = _repo(tmp_path)
    _commit(repo, path, SOURCE.replace("import os", "import os\nimport re"), "an import")
    cmap = _map(repo)
    assert covmap.select(cmap, repo, repo.rev("HEAD"))[1] == []
    _commit(repo, path, path.read_text().replace("LIMIT = 3", "LIMIT = 4"), "a constant")
    assert len(covmap.select(cmap, repo, repo.rev("HEAD"))[0]) == 3


def test_stale_map(tmp_path):
    repo, path = _repo(tmp_path)
    cmap = _map(repo)
    assert covmap.stale(cmap, repo, "baseline", ["nova/manager.py"]) == ""
    (tmp_path / "nova" / "other.py").write_text("X = 1\n")
    repo.run("add", "-A")
    repo.run("commit", "-q", "-m", "other")
    repo.run("tag", "-f", "baseline")
    assert "baseline tree" in covmap.stale(cmap, repo, "baseline", [])
    cmap.baseline_tree = repo.out("rev-parse", "baseline^{tree}")
    assert covmap.stale(cmap, repo, "baseline", ["nova/other.py"]) == \
        "does not measure nova/other.py"


def test_a_function_an_earlier_commit_added(tmp_path):
    """Changed again later, a function the map does not know selects the
    tests of its known callers, through unknown ones in between."""
    repo, path = _repo(tmp_path)
    _commit(repo, path, SOURCE.replace("x = 1", "x = _settle()") +
            "\n\ndef _settle():\n    return _count()\n"
            "\n\ndef _count():\n    return 1\n", "add _settle and _count")
    _commit(repo, path, path.read_text().replace("return 1", "return 2"), "change _count")
    tests, keys, _ = covmap.select(_map(repo), repo, repo.rev("HEAD"))
    assert keys == ["nova/manager.py:Manager.resize",
                    "nova/manager.py:_count"]
    assert tests == {"nova.tests.unit.T.test_resize"}


def test_the_hook_switches_the_context_per_test(tmp_path):
    """Without coverage installed the hook must do nothing, and a test
    must still run: the hook wraps TestCase.__call__."""
    (tmp_path / "test_a.py").write_text(textwrap.dedent('''\
        import unittest
        class T(unittest.TestCase):
            def test_x(self):
                assert getattr(unittest.TestCase.__call__, "covmap")
        '''))
    env = dict(os.environ, PYTHONPATH=covmapcmd.HOOK)
    proc = subprocess.run([sys.executable, "-m", "unittest", "-q", "test_a"],
                          cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout


def test_a_new_inner_function_selects_its_outer_one_only(tmp_path):
    repo, path = _repo(tmp_path)
    _commit(repo, path, SOURCE.replace(
        "return os.sep", "loaded = os.sep\n    return loaded"),
        "a variable of a plain name")
    _commit(repo, path, path.read_text().replace(
        "x = 1\n", "def loaded():\n            return 1\n"
        "        x = loaded()\n"), "an inner function of that name")
    tests, keys, _ = covmap.select(_map(repo), repo, repo.rev("HEAD"))
    assert keys == ["nova/manager.py:Manager.resize",
                    "nova/manager.py:Manager.resize.loaded"]
    assert tests == {"nova.tests.unit.T.test_resize"}


def test_coverage_by_interpreter():
    assert covmapcmd.coverage_version("2.7") == "5.5"
    assert covmapcmd.coverage_version("3.11").startswith("7.")


def test_chunks_keep_unit_and_functional_apart():
    ids = ["nova.tests.unit.a.T.t%d" % n for n in range(5)] + \
        ["nova.tests.functional.b.T.t%d" % n for n in range(3)]
    chunks = covmapcmd.chunks_of(ids, 2)
    assert [len(c) for c in chunks] == [2, 1, 2, 2, 1]
    assert chunks[0][0].startswith("nova.tests.functional.")
    assert chunks[2][0].startswith("nova.tests.unit.")
    assert sorted(t for c in chunks for t in c) == sorted(ids)
    assert covmapcmd.chunks_of(ids) == [sorted(ids)[:3], sorted(ids)[3:]]


class _Log:
    def say(self, message):
        pass

    def step(self, message):
        import contextlib
        return contextlib.nullcontext()


def test_a_stopped_map_goes_on_from_its_first_unfinished_chunk(tmp_path):
    chunks = [["t1", "t2"], ["t3"], ["t4"]]
    ran = []

    def killed_at_t3(chunk):
        if chunk == ["t3"]:
            raise KeyboardInterrupt     # as a kill in the middle of a run
        ran.append(chunk)
        return {"tests": chunk}

    try:
        covmapcmd.each_chunk(_Log(), "", tmp_path, "key", chunks,
                             killed_at_t3)
    except KeyboardInterrupt:
        pass
    assert ran == [["t1", "t2"]]
    assert [p.name.endswith(".json.gz") for p in tmp_path.iterdir()] == [
        True]

    def run_one(chunk):
        ran.append(chunk)
        return {"tests": chunk}

    done = covmapcmd.each_chunk(_Log(), "", tmp_path, "key", chunks, run_one)
    assert ran == [["t1", "t2"], ["t3"], ["t4"]]
    assert done == [{"tests": c} for c in chunks]
    # Done: nothing runs again; another key (say, another venv) runs all.
    assert covmapcmd.each_chunk(_Log(), "", tmp_path, "key", chunks,
                                None) == done
    ran.clear()
    covmapcmd.each_chunk(_Log(), "", tmp_path, "other", chunks, run_one)
    assert ran == chunks
    # A run that broke off (no totals) keeps nothing and stops.
    assert covmapcmd.each_chunk(_Log(), "", tmp_path, "third", chunks,
                                lambda chunk: None) is None


def test_chunks_merge_into_one_map():
    chunks = [{"tests": ["b", "d"], "executed": {"f": [0], "g": [0, 1]}},
              {"tests": ["a", "c"], "executed": {"g": [1], "h": [0]}}]

    class Release:
        name = "r"

    cmap = covmapcmd.merge(Release, "tree", {"x.py": "blob"}, chunks)
    assert cmap.tests == ["a", "b", "c", "d"]
    assert cmap.tests_of(["f"]) == {"b"}
    assert cmap.tests_of(["g"]) == {"b", "c", "d"}
    assert cmap.tests_of(["h"]) == {"a"}
    # The stored format is the one verify reads.
    assert covmap.Map.loads(cmap.dumps()).executed == cmap.executed


def test_the_map_measures_the_series_files_and_the_measure_list(project):
    import types
    from novaseries import config
    table = (project.root / "releases.toml").read_text()
    (project.root / "releases.toml").write_text(table.replace(
        'constraints = "constraints/fake.txt"\n',
        'constraints = "constraints/fake.txt"\nmeasure = ["nova/__init__.py",'
        ' "nova/gone.py", "nova/tests/test_manager.py"]\n'))
    release = config.load_releases(project.root)["fake"]
    assert project.cli("workspace", "fake") == 0
    project.commit("nova/compute/manager.py", "def finish_resize():\n"
                   "    return 'keep'\n", "Fix\n\nCloses-Bug: #1\n")
    assert project.cli("export", "fake") == 0
    ctx = types.SimpleNamespace(paths=project.paths)
    # Not tests, not what the baseline lacks.
    assert covmapcmd.scope_of(ctx, release, project.workspace) == [
        "nova/__init__.py", "nova/compute/manager.py"]
