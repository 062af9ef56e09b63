"""nova-series: the command line. One module a verb in commands/."""

import argparse
import importlib
import sys

from novaseries import config
from novaseries.runlog import CommandFailed, RunLog

VERBS = ("workspace", "export", "env", "test", "tox", "verify", "covmap",
         "lint", "style", "selftest")


class Context:
    """What every verb gets: paths, the release table and the run's log."""

    def __init__(self, paths, releases, log):
        self.paths = paths
        self.releases = releases
        self.log = log

    def release(self, name):
        return config.pick(self.releases, [name])[0]


def parser():
    top = argparse.ArgumentParser(
        prog="nova-series",
        description="Materialize, patch and test the Nova releases of "
                    "releases.toml.")
    sub = top.add_subparsers(dest="verb", required=True)
    for verb in VERBS:
        module = importlib.import_module("novaseries.commands." + verb)
        p = sub.add_parser(verb, help=module.HELP,
                           description=module.__doc__.strip().split("\n")[0])
        module.add_arguments(p)
        p.set_defaults(module=module)
    return top


def main(argv=None, paths=None):
    words = sys.argv[1:] if argv is None else list(argv)
    # What follows `--` goes to the verb untouched (tox's {posargs}).
    own, passed = words, []
    if "--" in words:
        cut = words.index("--")
        own, passed = words[:cut], words[cut + 1:]
    args = parser().parse_args(own)
    if passed:
        if not hasattr(args, "posargs"):
            parser().error("%s takes no arguments after --" % args.verb)
        args.posargs = passed
    paths = paths or config.Paths.default()
    log = RunLog(paths.runs(), args.verb)
    ctx = Context(paths, config.load_releases(paths.root), log)
    log.write("nova-series %s\n" % " ".join(words))
    try:
        return args.module.run(args, ctx)
    except config.UsageError as exc:
        log.say("error: %s" % exc)
        return 2
    except CommandFailed as exc:
        log.say("error: %s" % exc)
        log.tail(exc.output)
        return 1
    finally:
        log.say("log: %s" % log.path)
        log.close()
