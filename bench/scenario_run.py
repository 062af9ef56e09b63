# Runs one benchmark scenario's test case and prints its result, for the
# scenario scripts (placement_scenario.py, audit_scenario.py), which run
# inside a Nova tree. Python 2.7 and 3; imports nothing of Nova's.

from __future__ import print_function

import json
import sys
import unittest


def run(case, result):
    """Run the test case; print `result` (filled by the case) as one JSON
    line. Returns the exit code: 0, or 1 if the case failed or filled
    nothing."""
    outcome = unittest.TextTestRunner(stream=sys.stderr, verbosity=0).run(
        case)
    if not outcome.wasSuccessful() or not result:
        return 1
    sys.stdout.write(json.dumps(result, sort_keys=True) + '\n')
    sys.stdout.flush()
    return 0
