"""The tool's own venv (virtualenv, bindep, pytest) and system packages."""

import fcntl
import hashlib
import os
import subprocess
import sys

from novaseries import interpreters
from novaseries.config import UsageError


def pip_environ(extra=None):
    """pip without the machine's pip configuration, quiet about versions."""
    # Neither the machine's pip.conf nor its PIP_* variables (this kind
    # of machine sets PIP_FIND_LINKS) may change what gets installed.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update({"PIP_CONFIG_FILE": os.devnull,
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "PIP_NO_PYTHON_VERSION_WARNING": "1"})
    bundle = "/etc/ssl/certs/ca-certificates.crt"
    if os.path.exists(bundle):
        env["PIP_CERT"] = bundle
    env.update(extra or {})
    return env


def ensure(paths, log):
    """Path of the tool venv's bin/, built or refreshed when needed."""
    return ensure_venv(paths, log, paths.tools(),
                       paths.root / "requirements-tools.txt")


def ensure_tox4(paths, log, python):
    """bin/ of a venv on `python` (a release's interpreter: tox's own
    answers the envs that name no basepython) with the tox 4 of
    requirements-tox4.txt, for the trees whose tox.ini asks for tox 4."""
    version = interpreters.probe(python).version
    return ensure_venv(paths, log, paths.cache / ("tox4-py" + version),
                       paths.root / "requirements-tox4.txt", python)


def ensure_venv(paths, log, venv, requirements, python=None):
    """bin/ of a venv at `venv` holding `requirements`, built from
    PyPI when the file or the interpreter changed."""
    # sys.version of the interpreter the venv is made from; the tool's own
    # is known without running it (every command passes here).
    if python is None:
        python, version = sys.executable, sys.version
    else:
        version = subprocess.run([str(python), "-c",
                                  "import sys; print(sys.version)"],
                                 stdout=subprocess.PIPE, text=True,
                                 check=True).stdout
    key = hashlib.sha256(requirements.read_bytes() + version.strip().encode()
                         ).hexdigest()
    stamp = venv / "nova-series-stamp"
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Two commands started at once on a cold cache would both rebuild the
    # venv and break each other's; the second waits for the first.
    with open(venv.parent / (venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == key):
            with log.step("tool venv: installing %s into %s" % (
                    requirements.name, venv)):
                log.run([python, "-m", "venv", "--clear", venv])
                log.run([venv / "bin" / "pip", "install", "-r",
                         requirements], env=pip_environ())
            stamp.write_text(key)
    return venv / "bin"


def system_packages(paths, profiles, log):
    """Install the Debian packages bindep.txt names for `profiles`."""
    bindep = ensure(paths, log) / "bindep"
    proc = subprocess.run([str(bindep), "-b", "-f",
                           str(paths.root / "bindep.txt"), *profiles],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode == 0:
        return
    missing = proc.stdout.split()
    if not missing or any(":" in word for word in missing):
        raise UsageError("bindep failed: " + proc.stdout.strip())
    if os.geteuid() != 0:
        raise UsageError("missing system packages; as root run: apt-get "
                         "update && apt-get install -y " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    with log.step("apt-get install %s" % " ".join(missing)):
        log.run(["apt-get", "update"], env=env)
        log.run(["apt-get", "install", "-y", "--no-install-recommends",
                 *missing], env=env)
