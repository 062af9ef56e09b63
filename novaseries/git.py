"""Git with the user's configuration shut out and a fixed identity.

Everything the tool commits (the baseline, the series applied with
`git am`) gets the same committer and dates on every machine, so a
materialized workspace has the same commit SHAs everywhere; backports
can name them in their `(cherry picked from commit ...)` lines.
"""

import os
import subprocess

NAME = "nova-series"
EMAIL = "nova-series@example.invalid"
BASELINE_DATE = "2010-01-01T00:00:00+0000"
BASELINE_TAG = "baseline"


def environ(extra=None):
    env = dict(os.environ)
    env.update({
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_COMMITTER_NAME": NAME,
        "GIT_COMMITTER_EMAIL": EMAIL,
        "GIT_AUTHOR_NAME": NAME,
        "GIT_AUTHOR_EMAIL": EMAIL,
        "LC_ALL": "C",
        "TZ": "UTC",
    })
    env.update(extra or {})
    return env


class Git:
    def __init__(self, tree):
        self.tree = str(tree)

    def run(self, *args, check=True, env=None, input=None):
        """Run git in the tree; return the CompletedProcess (text)."""
        return subprocess.run(
            ["git", "-C", self.tree, "-c", "core.autocrlf=false",
             "-c", "core.fileMode=true", "-c", "advice.detachedHead=false",
             *args],
            env=environ(env), check=check, input=input, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def out(self, *args):
        return self.run(*args).stdout.strip()

    def rev(self, ref):
        proc = self.run("rev-parse", "--verify", "-q", ref + "^{commit}",
                        check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def commits(self, base, head="HEAD"):
        """Commits base..head, oldest first."""
        out = self.out("rev-list", "--reverse", "%s..%s" % (base, head))
        return out.split() if out else []

    def dirty(self):
        """Uncommitted changes and untracked files (ignored ones aside)."""
        out = self.run("status", "--porcelain", "--untracked-files=all").stdout
        return [line for line in out.splitlines() if line.strip()]

    def am_in_progress(self):
        gitdir = self.out("rev-parse", "--git-dir")
        path = os.path.join(self.tree, gitdir) if not os.path.isabs(gitdir) else gitdir
        return os.path.isdir(os.path.join(path, "rebase-apply"))

    def changed_files(self, old, new):
        out = self.out("diff", "--name-only", "--no-renames", old, new)
        return out.split("\n") if out else []

    def message(self, commit):
        return self.out("log", "-1", "--format=%B", commit)
