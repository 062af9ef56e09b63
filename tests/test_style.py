"""reno lint of the notes a series adds: a broken note is caught."""

import pathlib
import sys

import pytest

from novaseries import checks, config
from novaseries.runlog import RunLog

RENO = pathlib.Path(sys.executable).parent / "reno"
pytestmark = pytest.mark.skipif(not RENO.exists(),
                                reason="reno is in the tool venv "
                                       "(run through `nova-series selftest`)")

GOOD = "---\nfixes:\n  - |\n    Allocations now follow the server.\n"
# A section reno does not know, and a note that is not a list of strings.
BAD = "---\nfixed:\n  - |\n    Typo in the section name.\nissues: 42\n"


class Ctx:
    def __init__(self, tmp_path):
        paths = config.Paths.default()
        self.paths = config.Paths(paths.root, tmp_path / "work", paths.cache)
        self.log = RunLog(tmp_path / "runs", "test")


def tree_with_note(project, text):
    project.cli("workspace", "fake")
    project.commit("releasenotes/notes/bug-1825537-0123456789abcdef.yaml",
                   text, "Add a note\n")
    return project.workspace


def test_a_good_note_is_clean(project, tmp_path):
    tree = tree_with_note(project, GOOD)
    ok, note = checks.reno_lint(Ctx(tmp_path), None, tree)
    assert ok, note


def test_a_broken_note_is_caught(project, tmp_path):
    tree = tree_with_note(project, BAD)
    ok, note = checks.reno_lint(Ctx(tmp_path), None, tree)
    assert not ok
    assert "bug-1825537-0123456789abcdef.yaml" in note


def test_no_note_no_lint(project, tmp_path):
    project.cli("workspace", "fake")
    ok, note = checks.reno_lint(Ctx(tmp_path), None, project.workspace)
    assert ok and note == "the series adds no release note"


class Release:
    name = "fake"


def tree_whose_own_notes_break_reno(project, series_note):
    """A tree whose released notes share one UID (as 34.0.0's two
    *-a1b2c3d4e5f67890.yaml do), then a series note."""
    project.cli("workspace", "fake")
    for name in ("one", "two"):
        project.commit("releasenotes/notes/%s-a1b2c3d4e5f67890.yaml" % name,
                       GOOD, "Released note %s\n" % name)
    # Both released in one commit: move the baseline over them.
    project.git("reset", "-q", "--soft", "HEAD~2")
    project.commit("releasenotes/notes/two-a1b2c3d4e5f67890.yaml", GOOD,
                   "The released notes\n")
    project.git("tag", "-f", "baseline")
    project.commit("releasenotes/notes/bug-1825537-0123456789abcdef.yaml",
                   series_note, "Add a note\n")
    return project.workspace


def test_the_series_notes_alone_when_the_trees_own_break_reno(project,
                                                              tmp_path):
    tree = tree_whose_own_notes_break_reno(project, GOOD)
    ok, note = checks.reno_lint(Ctx(tmp_path), Release, tree)
    assert ok, note
    assert "alone" in note
    project.commit("releasenotes/notes/bug-1825537-0123456789abcdef.yaml",
                   BAD, "Break the note\n")
    ok, note = checks.reno_lint(Ctx(tmp_path), Release, tree)
    assert not ok
    assert "bug-1825537-0123456789abcdef.yaml" in note
