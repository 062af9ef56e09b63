"""The commit message lint: good messages pass, each bad one names its rule."""

import pytest

from novaseries import msglint

CHANGE_ID = "Change-Id: I" + "0123456789abcdef" * 2 + "01234567"
SHA = "a" * 40

GOOD = """\
Keep dest allocations on finish_resize failure

When finish_resize fails on the destination, the instance is already
recorded on the destination host. See
https://bugs.launchpad.net/nova/+bug/1825537/comments/with/a/very/long/url/that/is/fine

Closes-Bug: #1825537
%s
""" % CHANGE_ID


def test_good_message_passes():
    assert msglint.lint(GOOD) == []


def test_good_backport_passes():
    message = GOOD.replace(CHANGE_ID, CHANGE_ID + "\n(cherry picked from "
                           "commit %s)" % SHA)
    assert msglint.lint(message, backport=True, known_commits={SHA}) == []


@pytest.mark.parametrize("rule,message", [
    ("summary", GOOD.replace("Keep dest allocations on finish_resize failure",
                             "Keep the destination allocations when finish_resize fails")),
    ("summary", GOOD.replace("finish_resize failure\n", "finish_resize fail.\n", 1)),
    ("blank", GOOD.replace("failure\n\nWhen", "failure\nWhen")),
    ("body", GOOD.replace("recorded on the destination host.",
                          "recorded on the destination host, which makes this a very long line indeed.")),
    ("change-id", GOOD.replace(CHANGE_ID, "")),
    ("change-id", GOOD.replace(CHANGE_ID, "Change-Id: I1234")),
    ("change-id", GOOD.replace(CHANGE_ID, CHANGE_ID + "\n" + CHANGE_ID)),
    ("bug", GOOD.replace("Closes-Bug: #1825537", "Closes-bug: #1825537")),
    ("bug", GOOD.replace("Closes-Bug: #1825537", "Fixes-Bug: #1825537")),
    ("bug", GOOD.replace("Closes-Bug: #1825537", "Closes-Bug: the resize one")),
])
def test_bad_message_names_the_rule(rule, message):
    problems = msglint.lint(message)
    assert problems, "no problem found for the %s rule" % rule
    assert all(p.startswith(rule + ":") for p in problems), problems


def test_change_id_must_be_in_the_last_paragraph():
    message = GOOD.replace("\n" + CHANGE_ID, "").replace(
        "When finish_resize", CHANGE_ID + "\n\nWhen finish_resize")
    assert msglint.lint(message) == ["change-id: not in the last paragraph"]


def test_backport_without_cherry_pick_line():
    assert msglint.lint(GOOD, backport=True) == [
        "cherry: a backport carries no `(cherry picked from commit <sha>)` line"]


def test_stable_only_backport_needs_no_cherry_pick_line():
    message = GOOD.replace("Keep dest allocations on finish_resize failure",
                           "[stable-only] Free dest on resize failure")
    assert msglint.lint(message, backport=True, known_commits={SHA}) == []
    # The tag counts towards the 50 characters.
    long = GOOD.replace("Keep dest allocations on finish_resize failure",
                        "[stable-only] Keep dest allocations on resize failure")
    assert [p.split(":")[0] for p in msglint.lint(long, backport=True)] == \
        ["summary"]


def test_cherry_pick_of_an_unknown_commit():
    message = GOOD + "(cherry picked from commit %s)\n" % ("b" * 40)
    assert msglint.lint(message, backport=True, known_commits={SHA}) == [
        "cherry: %s is not a commit of a newer release's series" % ("b" * 40)]
    short = GOOD + "(cherry picked from commit abc123)\n"
    assert msglint.lint(short, backport=True) == [
        "cherry: malformed cherry-pick line"]


def test_message_of_patch_unfolds_the_subject():
    patch = ("From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
             "From: Dev <dev@example.org>\nDate: Wed, 1 May 2019 10:00:00 +0200\n"
             "Subject: [PATCH] Keep dest allocations on finish_resize\n failure\n\n"
             "Body line.\n\nCloses-Bug: #1825537\n%s\n---\n nova/x.py | 2 +-\n"
             "\ndiff --git a/nova/x.py b/nova/x.py\n" % CHANGE_ID)
    assert msglint.message_of_patch(patch) == (
        "Keep dest allocations on finish_resize failure\n\nBody line.\n\n"
        "Closes-Bug: #1825537\n%s\n" % CHANGE_ID)


def _picked(*shas):
    return GOOD + "".join("(cherry picked from commit %s)\n" % s for s in shas)


# A Stein commit S, its Rocky backport R (naming S) and its Queens
# backport Q (naming S, then R): what pike may be picked from.
S, R, Q = "5" * 40, "7" * 40, "9" * 40
SOURCES = {S: ("stein", []), R: ("rocky", [S]), Q: ("queens", [S, R])}
NEWER = ["stein", "rocky", "queens"]


def test_a_chain_one_line_a_hop_passes():
    assert msglint.cherry_shas(_picked(S, R, Q)) == [S, R, Q]
    assert msglint.chain_problems(_picked(S, R, Q), SOURCES, NEWER) == []
    assert msglint.chain_problems(_picked(S, R), SOURCES, NEWER[:2]) == []
    assert msglint.chain_problems(_picked(S), SOURCES, NEWER[:1]) == []


def test_a_chain_that_skips_the_last_hop():
    assert msglint.chain_problems(_picked(S), SOURCES, NEWER) == [
        "chain: the last line names a commit of stein, not of queens, the "
        "branch it was picked from"]


def test_a_chain_missing_a_line_of_the_picked_commit():
    assert msglint.chain_problems(_picked(S, Q), SOURCES, NEWER) == [
        "chain: the lines before the last should be those of the picked "
        "commit 9999999999: 5555555555, 7777777777"]


def test_a_chain_out_of_order():
    problems = msglint.chain_problems(_picked(R, S, Q), SOURCES, NEWER)
    assert problems[0] == ("chain: the lines name rocky, stein, queens, not "
                           "one commit a release from the newest on")
