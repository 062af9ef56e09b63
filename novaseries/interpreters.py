"""Find a Python interpreter for a release's environment.

Order: PATH, then pyenv's installed versions, then (2.7 only) Debian's
bullseye suite, added at low pin priority with the mirror the machine's
apt sources already use. A pyenv shim can sit on PATH and still fail to
run, so every candidate is run before it is taken.
"""

import collections
import glob
import os
import subprocess

from novaseries.config import UsageError

APT_SOURCES = "/etc/apt/sources.list"
APT_SOURCES_D = "/etc/apt/sources.list.d"
BULLSEYE_SOURCES = "/etc/apt/sources.list.d/nova-series-bullseye.sources"
BULLSEYE_PIN = "/etc/apt/preferences.d/nova-series-bullseye"
DEBIAN_PACKAGES = ("python2.7", "python2.7-dev")


# version "2.7"; full "2.7.18"; maxunicode tells a narrow build (pyenv's)
# from a wide one (Debian's); executable is the interpreter itself, not
# the shim or link it was called through.
Probe = collections.namedtuple("Probe", "version full maxunicode executable")

# Runs on Python 2.7 and 3; the executable is last: it may hold spaces.
PROBE_SCRIPT = (
    "import sys; sys.stdout.write('%d.%d %s %d %s' % ("
    "sys.version_info[0], sys.version_info[1], sys.version.split()[0], "
    "sys.maxunicode, sys.executable))")


def probe(exe, timeout=30):
    """What interpreter `exe` is, from one run of it. Raises OSError,
    subprocess.SubprocessError or ValueError if it does not answer."""
    out = subprocess.run([str(exe), "-c", PROBE_SCRIPT],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, timeout=timeout, check=True).stdout
    version, full, maxunicode, executable = out.split(" ", 3)
    return Probe(version, full, int(maxunicode), executable)


def answers(exe, version):
    """True when exe runs and is Python `version` (e.g. "2.7")."""
    try:
        return probe(exe).version == version
    except (OSError, subprocess.SubprocessError, ValueError):
        return False


def path_candidates(version):
    """Every python<version> on PATH, in PATH order (a dead shim may be
    first: the ones after it still count)."""
    found = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        exe = os.path.join(folder or ".", "python" + version)
        if os.access(exe, os.X_OK) and exe not in found:
            found.append(exe)
    return found


def pyenv_candidates(version, roots=None):
    if roots is None:
        roots = [os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv")]
    found = []
    for root in filter(None, roots):
        pattern = os.path.join(root, "versions", version + ".*", "bin",
                               "python" + version)
        # Newest patch release first.
        found.extend(sorted(glob.glob(pattern), reverse=True, key=_patch_key))
    return found


def _patch_key(path):
    name = path.split(os.sep + "versions" + os.sep, 1)[1].split(os.sep)[0]
    return [int(p) if p.isdigit() else -1 for p in name.split(".")]


def find(version, log=None, install=True):
    """Path of a working interpreter for `version`; may install 2.7."""
    candidates = path_candidates(version) + pyenv_candidates(version)
    for exe in candidates:
        if answers(exe, version):
            return exe
    if version == "2.7" and install:
        install_python27(log)
        exe = "/usr/bin/python2.7"
        if answers(exe, version):
            return exe
    raise UsageError("no working Python %s found on PATH or among pyenv's "
                     "versions (tried: %s)" % (version,
                                               ", ".join(candidates) or "none"))


# -- Debian bullseye for Python 2.7 ------------------------------------------

def parse_one_line_style(text):
    """Entries of a sources.list file: dicts with uris/suites/signed_by."""
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        words = line.split()[1:]
        options = {}
        if words and words[0].startswith("["):
            opts = []
            while words:
                word = words.pop(0)
                opts.append(word)
                if word.endswith("]"):
                    break
            for opt in " ".join(opts).strip("[]").split():
                key, _, value = opt.partition("=")
                options[key] = value
        if len(words) >= 2:
            entries.append({"uris": [words[0]], "suites": [words[1]],
                            "components": words[2:],
                            "signed_by": options.get("signed-by")})
    return entries


def parse_deb822(text):
    """Entries of a .sources (deb822) file."""
    entries = []
    for stanza in text.split("\n\n"):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        entries.append({"uris": fields.get("uris", "").split(),
                        "suites": fields.get("suites", "").split(),
                        "components": fields.get("components", "").split(),
                        "signed_by": fields.get("signed-by")})
    return entries


def read_sources(sources, sources_d):
    entries = []
    files = [sources] + sorted(glob.glob(os.path.join(sources_d, "*.list")))
    for path in files:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                entries.extend(parse_one_line_style(f.read()))
    for path in sorted(glob.glob(os.path.join(sources_d, "*.sources"))):
        with open(path, encoding="utf-8") as f:
            entries.extend(parse_deb822(f.read()))
    return entries


def codename(os_release="/etc/os-release"):
    """This machine's Debian codename (bookworm on Debian 12)."""
    try:
        with open(os_release) as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key == "VERSION_CODENAME":
                    return value.strip('"')
    except FileNotFoundError:
        pass
    return "bookworm"


def debian_mirror(entries, suite="bookworm"):
    """(uri, signed_by) of the Debian archive the machine uses.

    That is the entry carrying the machine's own suite (not -security or
    -updates, not a third party's `nodistro`) with the `main` component.
    """
    for entry in entries:
        if suite in entry["suites"] and "main" in entry["components"] \
                and entry["uris"]:
            return entry["uris"][0], entry["signed_by"]
    raise UsageError("no Debian archive for %s with a `main` component in "
                     "the apt sources; add one, or install Python 2.7 "
                     "another way (pyenv)" % suite)


def bullseye_files(uri, signed_by):
    """The contents of the sources and pin files that bring in bullseye."""
    sources = ("# Added by nova-series for Python 2.7 (not in Debian 12).\n"
               "Types: deb\nURIs: %s\nSuites: bullseye\nComponents: main\n"
               % uri)
    if signed_by:
        sources += "Signed-By: %s\n" % signed_by
    # Priority 100: nothing installed is upgraded from bullseye; only
    # packages that exist nowhere else (python2.7) come from it.
    pin = ("# Added by nova-series: take from bullseye only what bookworm "
           "lacks.\nPackage: *\nPin: release n=bullseye\nPin-Priority: 100\n")
    return sources, pin


def install_commands():
    return [["apt-get", "update"],
            ["apt-get", "install", "-y", "--no-install-recommends",
             *DEBIAN_PACKAGES]]


def install_python27(log):
    uri, signed_by = debian_mirror(read_sources(APT_SOURCES, APT_SOURCES_D),
                                   codename())
    sources, pin = bullseye_files(uri, signed_by)
    if os.geteuid() != 0:
        commands = ["cat > %s <<'EOF'\n%sEOF" % (BULLSEYE_SOURCES, sources),
                    "cat > %s <<'EOF'\n%sEOF" % (BULLSEYE_PIN, pin)]
        commands += [" ".join(c) for c in install_commands()]
        raise UsageError("Python 2.7 is missing. As root, run:\n\n" +
                         "\n".join(commands))
    with open(BULLSEYE_SOURCES, "w") as f:
        f.write(sources)
    os.makedirs(os.path.dirname(BULLSEYE_PIN), exist_ok=True)
    with open(BULLSEYE_PIN, "w") as f:
        f.write(pin)
    for argv in install_commands():
        with log.step("python2.7 from Debian bullseye: " + " ".join(argv[:2])):
            log.run(argv, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
