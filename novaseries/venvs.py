"""The releases' virtualenvs: build, reuse, develop-install a tree.

A venv is built from a per-release wheelhouse: the first build fills it
from PyPI (`pip wheel`), every later build installs with --no-index and
makes no network request. Both are keyed by what decides their content:
the interpreter, the constraints file, the tree's requirements files and
the extras. The tree itself is develop-installed (as tox's usedevelop),
and re-pointed when another tree asks for the same venv.
"""

import hashlib
import os
import re
import shutil
import subprocess

from novaseries import interpreters, tools
from novaseries.config import UsageError

STAMP = "nova-series-stamp"
DEVELOP_STAMP = "nova-series-develop"


def requirement_files(tree):
    return [os.path.join(str(tree), name)
            for name in ("requirements.txt", "test-requirements.txt")]


def key_of(build_id, release, env, tree):
    digest = hashlib.sha256()
    digest.update(build_id.encode())
    digest.update(str(env.setuptools).encode())
    digest.update(release.constraints.read_bytes())
    for path in requirement_files(tree):
        with open(path, "rb") as f:
            digest.update(f.read())
    digest.update(" ".join(release.extras).encode())
    return digest.hexdigest()


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def ensure(ctx, release, env, tree, develop_tree=True):
    """The venv's path, ready to run the tree's tests.

    develop_tree=False leaves the venv's develop install as it is: for a
    caller that needs only the venv's wheels (tox builds its own envs).
    """
    log, paths = ctx.log, ctx.paths
    tools.system_packages(paths, release.bindep, log)
    python = interpreters.find(env.python, log)
    # Which build matters too: wheels of a narrow (pyenv) 2.7 do not
    # install on a wide (Debian) one.
    found = interpreters.probe(python)
    build_id = "%s %d %s" % (found.full, found.maxunicode, found.executable)
    venv = paths.venv(release, env)
    wheelhouse = paths.wheelhouse(release, env)
    key = key_of(build_id, release, env, tree)
    label = "%s/%s" % (release.name, env.name)
    if read(venv / STAMP) == key:
        log.say("%s: reusing %s (Python %s; constraints and requirements "
                "unchanged)" % (label, venv, found.full))
    else:
        why = "no venv yet" if not venv.exists() else \
            "constraints, requirements or interpreter changed"
        with log.step("%s: building %s from Python %s (%s)" % (
                label, venv, found.full, why)):
            build(ctx, release, env, python, venv, wheelhouse, key, tree)
    if develop_tree:
        develop(ctx, release, env, venv, tree)
    return venv


def install_args(release, tree):
    args = ["-c", release.constraints]
    for path in requirement_files(tree):
        args += ["-r", path]
    return args + list(release.extras)


def build(ctx, release, env, python, venv, wheelhouse, key, tree):
    log = ctx.log
    if venv.exists():
        shutil.rmtree(venv)
    virtualenv = tools.ensure(ctx.paths, log) / "virtualenv"
    seed = ["--setuptools", env.setuptools] if env.setuptools else []
    log.run([virtualenv, "--no-periodic-update", *seed, "-p", python, venv])
    pip = venv / "bin" / "pip"
    if read(wheelhouse / STAMP) != key:
        with log.step("%s: filling the wheelhouse %s from PyPI" % (
                release.name, wheelhouse)):
            if wheelhouse.exists():
                shutil.rmtree(wheelhouse)
            wheelhouse.mkdir(parents=True)
            log.run([pip, "wheel", "-w", wheelhouse,
                     *install_args(release, tree)], env=tools.pip_environ(),
                    label="pip wheel")
            (wheelhouse / STAMP).write_text(key)
    with log.step("%s: installing from the wheelhouse (offline)" % release.name):
        log.run([pip, "install", "--no-index", "--find-links", wheelhouse,
                 *install_args(release, tree)], env=tools.pip_environ(),
                label="pip install")
    unpinned = unpinned_packages(pip, release.constraints)
    if unpinned:
        raise UsageError("%s: installed but not pinned in %s: %s" % (
            release.name, release.constraints, ", ".join(unpinned)))
    (venv / STAMP).write_text(key)


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_names(constraints):
    names = set()
    with open(constraints) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*===?", line)
            if match:
                names.add(normalize(match.group(1)))
    return names


def unpinned_packages(pip, constraints):
    """Installed distributions that the constraints file does not pin."""
    out = subprocess.run([str(pip), "freeze", "--all"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True,
                         env=tools.pip_environ(), check=True).stdout
    pinned = pinned_names(constraints)
    # The venv's own installers come with virtualenv, not from the pins.
    own = {"pip", "setuptools", "wheel"}
    missing = []
    for line in out.splitlines():
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
        if match and normalize(match.group(1)) not in pinned | own:
            missing.append(match.group(1))
    return missing


def develop(ctx, release, env, venv, tree):
    """Develop-install the tree (as tox's usedevelop) unless it already is."""
    with open(os.path.join(str(tree), "setup.cfg"), "rb") as f:
        wanted = "%s %s" % (os.path.realpath(tree),
                            hashlib.sha256(f.read()).hexdigest())
    egg_info = os.path.join(str(tree), "nova.egg-info")
    if read(venv / DEVELOP_STAMP) == wanted and os.path.isdir(egg_info):
        return
    label = "%s/%s" % (release.name, env.name)
    with ctx.log.step("%s: develop install of %s" % (label, tree)):
        # pbr would ask git for a version and write AUTHORS and ChangeLog
        # into the tree; the release's version is known, the files unwanted.
        # --no-build-isolation: a tree with a pyproject.toml (34.0.0 on)
        # would have pip fetch its build backend (pbr) from an index; the
        # venv has it from the wheelhouse.
        ctx.log.run([venv / "bin" / "pip", "install", "--no-index", "--no-deps",
                     "--no-build-isolation", "-e", tree],
                    env=tools.pip_environ({"PBR_VERSION": release.version,
                                           "SKIP_GENERATE_AUTHORS": "1",
                                           "SKIP_WRITE_GIT_CHANGELOG": "1"}))
    (venv / DEVELOP_STAMP).write_text(wanted)
