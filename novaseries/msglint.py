"""OpenStack's commit message rules, checked on a series' patch files.

Each problem is a line naming the rule it breaks, so a reviewer's usual
objections are raised before review:
  summary    the first line: 50 characters at most, no trailing period
  blank      the second line is blank
  body       body lines of 72 characters at most (a line holding a URL
             is exempt)
  change-id  exactly one `Change-Id: I<40 hex>`, in the last paragraph
  bug        Closes-Bug/Related-Bug/Partial-Bug spelled so and naming a
             bug number; another *-Bug: key is a misspelling
  cherry     a backport carries `(cherry picked from commit <40 hex>)`
             naming a commit of a newer release's materialized series,
             unless its summary starts with `[stable-only]` (OpenStack's
             tag for a fix that exists on stable branches only)
  chain      one such line a hop, as `git cherry-pick -x` writes them
             branch by branch: the picked commit's own lines, then the
             picked commit (see chain_problems)
"""

import email
import email.policy
import re

SUMMARY_MAX = 50
BODY_MAX = 72
CHANGE_ID = re.compile(r"^Change-Id: I[0-9a-f]{40}$")
BUG_KEYS = ("Closes-Bug", "Related-Bug", "Partial-Bug")
BUG_LINE = re.compile(r"^([A-Za-z-]*-[Bb]ug)\s*:\s*(.*)$")
CHERRY = re.compile(r"^\(cherry picked from commit ([0-9a-f]+)\)$")


def message_of_patch(text):
    """The commit message (summary, blank, body) of a format-patch file."""
    msg = email.message_from_string(text, policy=email.policy.compat32)
    subject = re.sub(r"\s*\n\s*", " ", msg["Subject"] or "")
    subject = re.sub(r"^\[PATCH[^\]]*\]\s*", "", subject)
    payload = msg.get_payload()
    body = payload.split("\n---\n", 1)[0]
    return subject + "\n\n" + body.strip("\n") + "\n"


def lint(message, backport=False, known_commits=None):
    """Problems with `message`, each 'rule: what is wrong'."""
    problems = []
    lines = message.rstrip("\n").split("\n")
    summary = lines[0]
    if len(summary) > SUMMARY_MAX:
        problems.append("summary: %d characters, %d at most: %r" % (
            len(summary), SUMMARY_MAX, summary))
    if summary.rstrip().endswith("."):
        problems.append("summary: ends with a period: %r" % summary)
    if not summary.strip():
        problems.append("summary: empty")
    if len(lines) > 1 and lines[1].strip():
        problems.append("blank: the second line is not blank: %r" % lines[1])
    for n, line in enumerate(lines[2:], 3):
        if len(line) > BODY_MAX and "://" not in line:
            problems.append("body: line %d has %d characters, %d at most" % (
                n, len(line), BODY_MAX))
    paragraphs = "\n".join(lines).split("\n\n")
    change_ids = [line for line in lines if line.startswith("Change-Id:")]
    if len(change_ids) != 1:
        problems.append("change-id: %d Change-Id lines, want exactly one" %
                        len(change_ids))
    elif not CHANGE_ID.match(change_ids[0]):
        problems.append("change-id: not I followed by 40 hex digits: %r" %
                        change_ids[0])
    elif change_ids[0] not in paragraphs[-1].split("\n"):
        problems.append("change-id: not in the last paragraph")
    for line in lines:
        match = BUG_LINE.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key not in BUG_KEYS:
            problems.append("bug: %r is not one of %s" % (key,
                                                          ", ".join(BUG_KEYS)))
        elif not re.match(r"^#?\d+$", value.strip()) or ": " not in line:
            problems.append("bug: %r does not name one bug number "
                            "(`%s: #1825537`)" % (line, key))
    cherries = [CHERRY.match(line) for line in lines if "cherry picked" in line]
    stable_only = summary.startswith("[stable-only] ")
    if backport and not stable_only:
        if not cherries:
            problems.append("cherry: a backport carries no `(cherry picked "
                            "from commit <sha>)` line")
    for match in cherries:
        if match is None or len(match.group(1)) != 40:
            problems.append("cherry: malformed cherry-pick line")
        elif known_commits is not None and match.group(1) not in known_commits:
            problems.append("cherry: %s is not a commit of a newer release's "
                            "series" % match.group(1))
    return problems


def cherry_shas(message):
    """The commits a message's cherry-pick lines name, in order."""
    return [m.group(1) for m in (CHERRY.match(line)
                                 for line in message.split("\n")) if m]


def chain_problems(message, sources, newer):
    """Problems with the hop-by-hop chain of a backport's cherry-pick lines.

    sources maps each commit of the newer releases' series to (release,
    the commits its own cherry-pick lines name); newer lists those
    releases, newest first, the one just newer than this one last. The
    last line must name a commit of that release (the hop this patch was
    picked in), and the lines before it must be that commit's own.
    """
    shas = cherry_shas(message)
    if not shas or any(sha not in sources for sha in shas):
        return []            # lint() reports missing and unknown commits
    releases = [sources[sha][0] for sha in shas]
    problems = []
    if releases != sorted(releases, key=newer.index) or \
            len(set(releases)) != len(releases):
        problems.append("chain: the lines name %s, not one commit a release "
                        "from the newest on" % ", ".join(releases))
    picked_release, picked_chain = sources[shas[-1]]
    if picked_release != newer[-1]:
        problems.append("chain: the last line names a commit of %s, not of "
                        "%s, the branch it was picked from" % (
                            picked_release, newer[-1]))
    elif list(picked_chain) != shas[:-1]:
        problems.append("chain: the lines before the last should be those of "
                        "the picked commit %s: %s" % (
                            shas[-1][:10],
                            ", ".join(s[:10] for s in picked_chain) or
                            "none"))
    return problems
