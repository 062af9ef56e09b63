"""Finding interpreters, and the Debian bullseye bootstrap for 2.7."""

import os
import stat
import sys

import pytest

from novaseries import interpreters
from novaseries.config import UsageError

BOOKWORM_DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example.net/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.net/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""

ONE_LINE = """\
# the security archive first, to be sure order does not decide
deb http://security.example.org/debian-security bookworm-security main
deb [arch=amd64 signed-by=/etc/apt/keyrings/deb.gpg] https://deb.example.org/debian bookworm main contrib
deb-src https://deb.example.org/debian bookworm main
"""

THIRD_PARTY = """\
Types: deb
URIs: https://deb.nodesource.example/node_20.x
Suites: nodistro
Components: main
"""


def test_mirror_from_deb822_sources():
    entries = interpreters.parse_deb822(BOOKWORM_DEB822)
    assert interpreters.debian_mirror(entries) == (
        "http://mirror.example.net/debian",
        "/usr/share/keyrings/debian-archive-keyring.gpg")


def test_mirror_from_one_line_sources_with_options():
    entries = interpreters.parse_one_line_style(ONE_LINE)
    assert interpreters.debian_mirror(entries) == (
        "https://deb.example.org/debian", "/etc/apt/keyrings/deb.gpg")


def test_mirror_read_from_a_sources_tree(tmp_path):
    sources_d = tmp_path / "sources.list.d"
    sources_d.mkdir()
    (sources_d / "debian.sources").write_text(BOOKWORM_DEB822)
    (sources_d / "node.sources").write_text(THIRD_PARTY)
    (sources_d / "old.list.disabled").write_text("deb http://no.example bookworm main\n")
    entries = interpreters.read_sources(str(tmp_path / "sources.list"),
                                        str(sources_d))
    uri, _ = interpreters.debian_mirror(entries)
    assert uri == "http://mirror.example.net/debian"


def test_disabled_stanzas_and_no_archive():
    text = BOOKWORM_DEB822.replace("Types: deb\n", "Types: deb\nEnabled: no\n")
    with pytest.raises(UsageError, match="no Debian archive for bookworm"):
        interpreters.debian_mirror(interpreters.parse_deb822(text))
    with pytest.raises(UsageError):
        interpreters.debian_mirror(interpreters.parse_deb822(THIRD_PARTY))


def test_bullseye_files_reuse_the_mirror_at_low_priority():
    sources, pin = interpreters.bullseye_files(
        "http://mirror.example.net/debian", "/usr/share/keyrings/k.gpg")
    assert "URIs: http://mirror.example.net/debian\n" in sources
    assert "Suites: bullseye\n" in sources
    assert "Signed-By: /usr/share/keyrings/k.gpg\n" in sources
    assert "Pin: release n=bullseye\n" in pin
    priority = int(pin.split("Pin-Priority:")[1])
    assert priority < 500     # below any installed suite's default
    parsed = interpreters.parse_deb822(sources)
    assert parsed[0]["suites"] == ["bullseye"]


def test_codename_from_os_release(tmp_path):
    path = tmp_path / "os-release"
    path.write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
                    'VERSION_CODENAME=bookworm\nID=debian\n')
    assert interpreters.codename(str(path)) == "bookworm"


def test_not_root_prints_the_commands(monkeypatch, tmp_path):
    sources_d = tmp_path / "d"
    sources_d.mkdir()
    (sources_d / "debian.sources").write_text(BOOKWORM_DEB822)
    monkeypatch.setattr(interpreters, "APT_SOURCES", str(tmp_path / "none"))
    monkeypatch.setattr(interpreters, "APT_SOURCES_D", str(sources_d))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UsageError) as info:
        interpreters.install_python27(log=None)
    text = str(info.value)
    assert "URIs: http://mirror.example.net/debian" in text
    assert "apt-get install -y --no-install-recommends python2.7 python2.7-dev" in text


def fake_python(path, version, works=True):
    """An executable that answers interpreters.probe as Python `version`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = ("printf '%s %s.1 1114111 %s'" % (version, version, path) if works
            else "echo 'pyenv: not here' >&2; exit 127")
    path.write_text("#!/bin/sh\n%s\n" % body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_a_shim_that_does_not_answer_is_passed_over(monkeypatch, tmp_path):
    shims = tmp_path / "shims"
    fake_python(shims / "python2.7", "2.7", works=False)
    root = tmp_path / "pyenv"
    fake_python(root / "versions" / "2.7.9" / "bin" / "python2.7", "2.7")
    good = fake_python(root / "versions" / "2.7.18" / "bin" / "python2.7", "2.7")
    monkeypatch.setenv("PATH", str(shims) + os.pathsep + "/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(root))
    # The newest patch release, not the first in lexical order.
    assert interpreters.find("2.7", install=False) == good


def test_a_dead_shim_does_not_hide_the_rest_of_path(monkeypatch, tmp_path):
    fake_python(tmp_path / "shims" / "python2.7", "2.7", works=False)
    system = fake_python(tmp_path / "usr" / "bin" / "python2.7", "2.7")
    monkeypatch.setenv("PATH", os.pathsep.join(
        [str(tmp_path / "shims"), str(tmp_path / "usr" / "bin"), "/usr/bin:/bin"]))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "nothing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert interpreters.find("2.7", install=False) == system


def test_path_comes_first(monkeypatch, tmp_path):
    on_path = fake_python(tmp_path / "bin" / "python3.7", "3.7")
    fake_python(tmp_path / "pyenv" / "versions" / "3.7.16" / "bin" / "python3.7", "3.7")
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + "/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    assert interpreters.find("3.7", install=False) == on_path


def test_wrong_version_is_not_taken(monkeypatch, tmp_path):
    fake_python(tmp_path / "bin" / "python3.7", "3.9")
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + "/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "nothing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(UsageError, match="no working Python 3.7"):
        interpreters.find("3.7", install=False)


def test_probe_reads_the_interpreter_itself():
    found = interpreters.probe(sys.executable)
    assert found.version == "%d.%d" % sys.version_info[:2]
    assert found.full == sys.version.split()[0]
    assert found.maxunicode == sys.maxunicode
    assert found.executable == sys.executable


def test_probe_keeps_an_executable_path_with_spaces(tmp_path):
    exe = fake_python(tmp_path / "a dir" / "python2.7", "2.7")
    assert interpreters.probe(exe) == interpreters.Probe(
        "2.7", "2.7.1", 1114111, exe)


def test_an_interpreter_that_answers_nonsense_is_not_taken(tmp_path):
    exe = tmp_path / "python2.7"
    exe.write_text("#!/bin/sh\necho 2.7\n")
    exe.chmod(0o755)
    assert not interpreters.answers(str(exe), "2.7")
