"""The Zuul configuration passes a Zuul schema linter; a broken one fails."""

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LINTER = pathlib.Path(sys.executable).parent / "zuul-lint"

pytestmark = pytest.mark.skipif(not LINTER.exists(),
                                reason="zuul-lint is in the tool venv "
                                       "(run through `nova-series selftest`)")


def lint(path):
    return subprocess.run([str(LINTER), str(path)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def test_zuul_yaml_is_valid():
    proc = lint(ROOT / ".zuul.yaml")
    assert proc.returncode == 0, proc.stdout


def test_every_release_has_a_verify_job_in_check_and_gate():
    text = (ROOT / ".zuul.yaml").read_text()
    from novaseries import config
    for name in config.load_releases():
        # quoted where YAML would read the name as a number (2026.1)
        assert ("nova_series_release: %s\n" % name in text or
                'nova_series_release: "%s"\n' % name in text)
        assert text.count("- nova-series-verify-%s\n" % name) == 2


def test_a_broken_copy_is_rejected(tmp_path):
    broken = tmp_path / ".zuul.yaml"
    shutil.copy(ROOT / ".zuul.yaml", broken)
    broken.write_text(broken.read_text().replace("timeout: 5400",
                                                 "timeout: forever"))
    proc = lint(broken)
    assert proc.returncode != 0
    assert "'forever' is not of type 'integer'" in proc.stdout
