"""tox RELEASE [-e ENV...] [-- ARGS]: the tree's own tox.ini, offline.

Runs the materialized tree's tox envs with a tox of the tree's era and
nothing fetched: tox 3.28 from the tool venv, or, for a tree whose
tox.ini asks for tox 4 ([tox] minversion), the tox 4 of
requirements-tox4.txt in a venv of its own in the cache, made on the
release's gate interpreter (so that tox's own interpreter, which answers
an env that names no basepython, is the release's). The tree's
constraints URL is answered by the release's pin file (tox.ini reads
UPPER_CONSTRAINTS_FILE, or TOX_CONSTRAINTS_FILE in tox 4's `constraints`),
pip installs from the release's wheelhouse with --no-index, virtualenv
seeds from its own wheels. Each tox env's
basepython is answered by the release's interpreter of that version;
a name this machine lacks (Rocky's python3.5) or that tox would answer
with its own interpreter (Stein's python3) is mapped by the release's
`tox_python` table in releases.toml: tox then reads a copy of the
tree's tox.ini, beside it, whose basepython lines say the version
mapped to, and the run says so. The same copy replaces the keys the
release's `tox_envs` table gives for an env that cannot run here as
written (master's pep8: pre-commit's hooks come from git hosts). An env
that names no basepython (there nor in the tree) is built with the
release's gate interpreter (`envs[0]`): tox 4 takes it as its own; tox
3, whose own is the tool venv's, reads it from the copy, in the env's
section. tox 3 is told to try the release's interpreter first
(--discover), before its own of the same version.
`--offline` runs tox in a network namespace of its own with only
loopback up, so a request that leaves the machine fails the run.
"""

import dataclasses
import hashlib
import os
import re
import shutil

from novaseries import interpreters, stestr, tools, trees, venvs
from novaseries.config import UsageError

HELP = "run the tree's own tox envs offline, with a tox of that era"


def add_arguments(parser):
    parser.add_argument("release")
    parser.add_argument("-e", dest="envs", action="append", metavar="ENV",
                        help="a tox env of the tree (repeatable; default: "
                             "functional)")
    parser.add_argument("--tree", help="the tree (default: the release's "
                        "workspace)")
    parser.add_argument("--offline", action="store_true",
                        help="run in a network namespace with no route out")
    parser.add_argument("-r", "--recreate", action="store_true",
                        help="recreate the tox envs")
    # The words after `--` (cli.main keeps them apart): tox's {posargs}.
    parser.set_defaults(posargs=[])


def run(args, ctx):
    release = ctx.release(args.release)
    tree = args.tree or ctx.paths.workspace(release.name)
    trees.existing(ctx, release, tree)
    config = stestr.tox_config(tree)
    major = tox_major(config)
    if major == 4:
        own = real_executable(interpreters.find(release.envs[0].python,
                                                ctx.log))
        tox = tools.ensure_tox4(ctx.paths, ctx.log, own) / "tox"
    else:
        tox = tools.ensure(ctx.paths, ctx.log) / "tox"
    workdir = tox_workdir(ctx.paths, release, tree)
    failed = 0
    for name in args.envs or ["functional"]:
        given = plan(config, release, name, major)
        say_plan(ctx, release, name, given)
        env = release.env(given.version)
        python = real_executable(interpreters.find(env.python, ctx.log))
        # The env's wheels exist once its venv was built: env builds it
        # (online the first time), so tox itself never needs the network.
        venvs.ensure(ctx, release, env, tree, develop_tree=False)
        ini = os.path.join(str(tree), "tox.ini")
        copied = bool(given.rewrite or given.sections)
        if copied:
            ini = mapped_ini(tree, given.rewrite, given.basepython,
                             given.sections)
        basepython = given.basepython
        shims = shim_dir(workdir, basepython, python)
        locpath = locale_dir(ctx, workdir)
        environ = tox_environ(ctx.paths, release, env, shims, locpath)
        argv = [str(tox), "-c", ini, "--workdir", str(workdir), "-e", name]
        if major == 4:
            argv += tox4_overrides(locpath)
        else:
            argv += tox3_discover(python)
        if args.recreate:
            argv.append("--recreate")
        if args.posargs:
            argv += ["--", *args.posargs]
        if args.offline:
            argv = offline(argv)
        try:
            with ctx.log.step("%s: tox -e %s (%s as %s)%s" % (
                    release.name, name, basepython, python,
                    ", no network" if args.offline else "")):
                code, output = ctx.log.run(argv, cwd=tree, env=environ,
                                           check=False,
                                           label="tox -e " + name)
        finally:
            if copied:
                os.unlink(ini)
        ok = code == 0
        ctx.log.say("%s: tox -e %s: %s%s" % (
            release.name, name, "passed" if ok else "FAILED (exit %d)" % code,
            summary(output)))
        if not ok:
            ctx.log.tail(output)
        failed += not ok
    return 1 if failed else 0


def tox_workdir(paths, release, tree):
    """A .tox of the tree's own, kept in the cache (not in the tree)."""
    digest = hashlib.sha256(os.path.realpath(str(tree)).encode()).hexdigest()
    return paths.cache / "tox" / ("%s-%s" % (release.name, digest[:12]))


def tox_major(config):
    """4 when the tree's tox.ini asks for tox 4 or later, else 3."""
    minversion = config.get("tox", "minversion", fallback="")
    match = re.match(r"\s*(\d+)", minversion)
    return 4 if match and int(match.group(1)) >= 4 else 3


def basepython_of(config, name, default, replaced=None):
    """(The interpreter the env `name` is built with, who names it).

    The name comes from releases.toml's `tox_envs` keys of the env
    (`replaced`), a pyNN env's own factor (it wins, as with tox 3's
    ignore_basepython_conflict), the env's section or [testenv] of the
    tree's tox.ini; who names it is "releases.toml", "factor" or
    "tox.ini". An env that none names is built with `default` (who:
    None), the release's gate interpreter: tox 4, which runs on it, takes
    it itself; tox 3 would take its own (the tool venv's, no release's),
    so the copy of tox.ini names it.
    """
    if (replaced or {}).get("basepython", "").strip():
        return replaced["basepython"].strip(), "releases.toml"
    factor = re.match(r"^py(\d)(\d+)$", name)
    if factor:
        return "python%s.%s" % factor.groups(), "factor"
    section = stestr.env_section(config, name)
    if config.has_section(section) and \
            config.has_option(section, "basepython"):
        return config.get(section, "basepython").strip(), "tox.ini"
    if config.has_option("testenv", "basepython"):
        return config.get("testenv", "basepython").strip(), "tox.ini"
    return default, None


def tox3_discover(python):
    """tox 3 looks for an env's interpreter first in its own, then on
    PATH; --discover makes it try the release's first (its own may be
    another build of the same version)."""
    return ["--discover", str(python)]


# What tox 4 passes to an env's commands and installs only when told
# (tox 3 reads TOX_TESTENV_PASSENV): pbr's version and switches.
PASS_ENV = ("PBR_VERSION", "SKIP_GENERATE_AUTHORS", "SKIP_WRITE_GIT_CHANGELOG")
# tox 4's package env (where the tree is built for usedevelop)
PKG_SECTION = "testenv:.pkg"


def tox4_overrides(locpath=None):
    """tox 4 command line overrides: pass the variables tox_environ sets."""
    names = PASS_ENV + (("LOCPATH",) if locpath is not None else ())
    return ["-x", "testenv.pass_env+=" + ",".join(names)]


@dataclasses.dataclass
class Plan:
    """What tox is given for one env."""
    basepython: str     # the name tox asks for
    version: str        # of the release env whose interpreter answers it
    source: str | None  # who named it (basepython_of); None: nobody
    asked: str          # the name before releases.toml's tox_python
    mapped: bool        # ... mapped it to `version`
    rewrite: str | None  # the tree's basepython the copy rewrites
    sections: dict      # {section: {key: value}} the copy replaces
    replaced: list      # the keys of those that releases.toml's tox_envs gives
    gate_default: bool  # the copy names the gate env's, for no basepython


def plan(config, release, name, major):
    """The Plan of the env `name` of a tox `major` tree (config)."""
    replaced = dict(release.tox_envs.get(name, {}))
    asked, source = basepython_of(config, name,
                                  "python" + release.envs[0].python, replaced)
    version, mapped = version_for(release, name, asked)
    basepython = "python" + version if mapped else asked
    keys = dict(replaced)
    section = stestr.env_section(config, name)
    if section == "testenv":            # an env of no section of its own
        section = "testenv:" + name
    sections = {}
    if source == "releases.toml" or source is None and major == 3:
        # The copy names the interpreter: releases.toml's, or the gate
        # env's (tox 4 takes that itself, as it runs on it).
        keys["basepython"] = basepython
        if major == 3:
            # A section may stand for several envs (functional{,-py311}):
            # those of a pyNN factor keep its interpreter, not warned of
            # a conflict, as basepython_of takes it.
            sections["tox"] = {"ignore_basepython_conflict": "true"}
    if keys:
        sections[section] = keys
    if major == 4 and not config.has_section(PKG_SECTION):
        # tox 4 builds the tree in a package env that -x does not reach:
        # pbr gets its version there through the copy.
        sections[PKG_SECTION] = {"pass_env": "\n".join(PASS_ENV)}
    return Plan(basepython=basepython, version=version, source=source,
                asked=asked, mapped=mapped,
                rewrite=asked if mapped and source == "tox.ini" else None,
                sections=sections, replaced=sorted(replaced),
                gate_default=source is None and major == 3)


def say_plan(ctx, release, name, given):
    """Say where the run departs from the tree's tox.ini."""
    if given.mapped:
        ctx.log.say("%s: tox -e %s asks for %s; releases.toml answers it with "
                    "Python %s%s" % (
                        release.name, name, given.asked, given.version,
                        " (tox reads %s)" % MAPPED_INI
                        if given.source != "factor" else ""))
    if given.replaced:
        ctx.log.say("%s: tox -e %s: releases.toml replaces its %s (tox "
                    "reads %s)" % (release.name, name,
                                   ", ".join(given.replaced), MAPPED_INI))
    if given.gate_default:
        ctx.log.say("%s: tox -e %s names no basepython, for which tox 3 "
                    "would take its own interpreter; it gets the gate env's, "
                    "%s (tox reads %s)" % (release.name, name,
                                           given.basepython, MAPPED_INI))


MAPPED_INI = ".nova-series-tox.ini"


def mapped_ini(tree, basepython, replacement, sections=None):
    """A copy of the tree's tox.ini beside it, `basepython` (if not None)
    replaced, and in each of `sections` ({section: {key: value}}) those
    keys replaced.

    tox 3 checks that an interpreter is the version its name says, and
    answers a bare python3 with its own; so the name itself changes.
    Beside tox.ini, {toxinidir} is still the tree.
    """
    with open(os.path.join(str(tree), "tox.ini")) as f:
        text = f.read()
    if basepython is not None:
        pattern = r"^(basepython\s*=\s*)%s\s*$" % re.escape(basepython)
        text = re.sub(pattern, lambda m: m.group(1) + replacement, text,
                      flags=re.M)
    for section, values in (sections or {}).items():
        if values:
            text = replace_keys(text, section, values)
    path = os.path.join(str(tree), MAPPED_INI)
    with open(path, "w") as f:
        f.write(text)
    return path


def replace_keys(text, section, values):
    """tox.ini's text with the keys of `values` in [section] replaced
    (a key's continuation lines and comments go with it); the section
    is added if the file has none."""
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines)
                  if line.strip() == "[%s]" % section), None)
    if start is None:
        lines += ["", "[%s]" % section]
        start = len(lines) - 1
    end = next((n for n in range(start + 1, len(lines))
                if lines[n].startswith("[")), len(lines))
    kept, dropping = [], False
    for line in lines[start + 1:end]:
        key = re.match(r"^([A-Za-z_]+)\s*=", line)
        if key:
            dropping = key.group(1) in values
        elif line.strip() and not line[0].isspace() and \
                not line.startswith("#"):
            dropping = False
        if not dropping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    for key, value in values.items():
        kept.append("%s =%s" % (key, "".join("\n  " + part for part in
                                             value.splitlines())))
    return "\n".join(lines[:start + 1] + kept + [""] + lines[end:]) + "\n"


def version_for(release, name, basepython):
    """(Python version of one of the release's envs, whether mapped)."""
    version = release.tox_python.get(basepython)
    mapped = version is not None
    if not mapped:
        match = re.match(r"^python(\d\.\d+)$", basepython)
        version = match.group(1) if match else None
    known = [e.python for e in release.envs]
    if version not in known:
        raise UsageError(
            "%s: tox -e %s asks for %s; the release's envs are Python %s "
            "(map the name in its tox_python table)" % (
                release.name, name, basepython, ", ".join(known)))
    return version, mapped


def real_executable(python):
    # pyenv's shims pick the version by the name they are called with,
    # so a link of another name must point at the interpreter itself.
    return interpreters.probe(python).executable


def shim_dir(workdir, basepython, python):
    """A bin/ for PATH where `basepython` is the chosen interpreter."""
    shims = workdir / "bin"
    shims.mkdir(parents=True, exist_ok=True)
    link = shims / basepython
    if os.path.islink(link) and os.readlink(link) == python:
        return shims
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(python, link)
    return shims


def locale_dir(ctx, workdir):
    """A LOCPATH holding en_US.UTF-8 if the machine lacks it, else None.

    The trees' tox.ini set LC_ALL=en_US.utf-8; tox's setenv overrides
    the caller's locale, so a machine without that locale gets one of
    its own, compiled into the work dir (no system change).
    """
    if stestr.locale_available("en_US.utf8"):
        return None
    target = workdir / "locale"
    if (target / "en_US.utf8" / "LC_CTYPE").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    code, output = ctx.log.run(["localedef", "-i", "en_US", "-f", "UTF-8",
                                target / "en_US.utf8"], check=False,
                               label="localedef")
    if code != 0 or not (target / "en_US.utf8" / "LC_CTYPE").exists():
        ctx.log.say("note: could not compile en_US.UTF-8 (localedef exit %d); "
                    "tests run with the C locale" % code)
        shutil.rmtree(target, ignore_errors=True)
        return None
    return target


def tox_environ(paths, release, env, shims, locpath=None):
    """The environment tox runs in: pins, wheels, seeds, all local."""
    environ = tools.pip_environ({
        "PATH": "%s%s%s" % (shims, os.pathsep, os.environ.get("PATH", "")),
        # The tree's install_command: pip install -c$UPPER_CONSTRAINTS_FILE
        "UPPER_CONSTRAINTS_FILE": str(release.constraints),
        # tox 4's `constraints = {env:TOX_CONSTRAINTS_FILE:<url>}`
        "TOX_CONSTRAINTS_FILE": str(release.constraints),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(paths.wheelhouse(release, env)),
        # As env's develop install: pbr need not ask git for a version,
        # nor write AUTHORS and ChangeLog into the tree.
        "PBR_VERSION": release.version,
        "SKIP_GENERATE_AUTHORS": "1",
        "SKIP_WRITE_GIT_CHANGELOG": "1",
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
    })
    for name in ("TOX_TESTENV_PASSENV", "VIRTUALENV_SETUPTOOLS", "LOCPATH"):
        environ.pop(name, None)
    if env.setuptools:
        environ["VIRTUALENV_SETUPTOOLS"] = env.setuptools
    if locpath is not None:
        environ["LOCPATH"] = str(locpath)
        # Test commands see only passenv; tox 3 adds this list to it.
        environ["TOX_TESTENV_PASSENV"] = "LOCPATH"
    return environ


def offline(argv):
    """argv run in a new network namespace with only loopback up."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        raise UsageError("--offline needs unshare (util-linux) and ip "
                         "(iproute2)")
    script = 'ip link set lo up && exec "$@"'
    return ["unshare", "--net", "sh", "-c", script, "tox", *argv]


def summary(output):
    """stestr's totals from tox's output, if it ran stestr."""
    if not stestr.TOTAL.search(output):
        return ""
    result = stestr.parse(output)
    return " (%d passed, %d failed, %d skipped)" % (
        result.passed, result.failed, result.skipped)
