"""Per-test coverage contexts, for `nova-series covmap` (Python 2.7 too).

`covmap` puts this folder first on PYTHONPATH of the test workers that
it runs under `coverage run`. Every test that starts switches the
measurement's context to its own id, so that all code run until the
next test starts counts for it: the test's own stack, and also the
services and greenthreads a functional test starts, which a context
read from the stack would miss. A worker runs its tests one at a time,
so one context at a time is right.
"""

import unittest


def _switching(call):
    def __call__(self, *args, **kwargs):
        try:
            import coverage
            current = coverage.Coverage.current()
        except Exception:       # not under coverage: nothing to do
            current = None
        if current is not None:
            current.switch_context(self.id())
        return call(self, *args, **kwargs)
    __call__.covmap = True
    return __call__


def _patch(case):
    if not getattr(case.__call__, "covmap", False):
        case.__call__ = _switching(case.__call__)


_patch(unittest.TestCase)
try:
    # testtools' TestCase, which Nova's tests use, derives from unittest2's
    # on Python 2.
    import unittest2
except ImportError:
    pass
else:
    _patch(unittest2.TestCase)
