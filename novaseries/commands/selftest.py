"""selftest: the tool's own tests (pytest, offline, a few seconds)."""

import os
import subprocess

from novaseries import tools

HELP = "run the tool's own test suite"


def add_arguments(parser):
    parser.add_argument("pytest_args", nargs="*",
                        help="passed to pytest")
    # Words after `--` (cli.main keeps them apart) go to pytest too.
    parser.set_defaults(posargs=[])


def run(args, ctx):
    bin_dir = tools.ensure(ctx.paths, ctx.log)
    ctx.log.say("running the tool's tests with pytest")
    env = dict(os.environ, PYTHONPATH=str(ctx.paths.root),
               PYTHONDONTWRITEBYTECODE="1")
    # pytest's own output is the report: shown as it comes.
    return subprocess.run([str(bin_dir / "python"), "-m", "pytest", "-p",
                           "no:cacheprovider", str(ctx.paths.root / "tests"),
                           *args.pytest_args, *args.posargs], env=env,
                          cwd=ctx.paths.root).returncode
