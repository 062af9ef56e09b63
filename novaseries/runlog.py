"""Progress lines with elapsed time, a log file per run, subprocesses."""

import contextlib
import datetime
import os
import signal
import subprocess
import sys
import threading
import time


class CommandFailed(Exception):
    def __init__(self, argv, returncode, output):
        super().__init__("%s exited %d" % (" ".join(map(str, argv)), returncode))
        self.argv = argv
        self.returncode = returncode
        self.output = output


# The line run() adds to the output of a command it stopped.
STOPPED = "nova-series: stopped at the first line asked for"


class RunLog:
    """One run of a command: its folder under .work/runs and its log.

    Progress goes to stdout as `[elapsed] message`; everything, including
    the full output of every subprocess, goes to <run dir>/log.txt.
    """

    heartbeat = 60.0   # seconds between "still running" lines

    def __init__(self, runs_dir, command, stream=None):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y%m%dT%H%M%SZ")
        base = os.path.join(str(runs_dir), "%s-%s" % (stamp, command))
        self.dir, n = base, 1
        while os.path.exists(self.dir):
            n += 1
            self.dir = "%s-%d" % (base, n)
        os.makedirs(self.dir)
        self.path = os.path.join(self.dir, "log.txt")
        self._log = open(self.path, "a", encoding="utf-8")
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()
        self.start = time.monotonic()

    def close(self):
        self._log.close()

    def elapsed(self):
        return time.monotonic() - self.start

    def write(self, text):
        with self._lock:
            self._log.write(text)
            self._log.flush()

    def say(self, message):
        line = "[%7.1fs] %s" % (self.elapsed(), message)
        self.write(line + "\n")
        print(line, file=self._stream, flush=True)

    @contextlib.contextmanager
    def step(self, message):
        """Say what starts, then how long it took (or that it failed)."""
        self.say(message + " ...")
        began = time.monotonic()
        try:
            yield
        except BaseException:
            self.say("%s: failed after %.1fs" % (message, time.monotonic() - began))
            raise
        self.say("%s: done in %.1fs" % (message, time.monotonic() - began))

    def run(self, argv, cwd=None, env=None, check=True, label=None,
            stop_when=None):
        """Run argv, output to the log; return (returncode, output).

        Prints a heartbeat every `heartbeat` seconds while it runs, so
        that a long step never looks hung. With `stop_when`, a function of
        an output line, the command and everything it started are stopped
        (SIGTERM to its process group) at the first line for which it is
        true; the output then ends with a line saying so.
        """
        argv = [str(a) for a in argv]
        self.write("$ %s%s\n" % (" ".join(argv),
                                 "  (in %s)" % cwd if cwd else ""))
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace",
                                start_new_session=stop_when is not None)
        lines = []

        def pump():
            stopped = False
            for line in proc.stdout:
                lines.append(line)
                self.write(line)
                if stop_when is not None and not stopped and stop_when(line):
                    stopped = True
                    lines.append(STOPPED + "\n")
                    self.write(STOPPED + "\n")
                    try:
                        os.killpg(proc.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        began = time.monotonic()
        while True:
            reader.join(self.heartbeat)
            if not reader.is_alive():
                break
            self.say("  ... %s still running (%.0fs)" % (
                label or os.path.basename(argv[0]), time.monotonic() - began))
        proc.wait()
        output = "".join(lines)
        if check and proc.returncode != 0:
            raise CommandFailed(argv, proc.returncode, output)
        return proc.returncode, output

    def tail(self, output, lines=30):
        """Print the end of a failed command's output."""
        for line in output.splitlines()[-lines:]:
            print("    | " + line, file=self._stream)
        print("    (full output: %s)" % self.path, file=self._stream)
