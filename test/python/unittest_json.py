"""
Runs a folder's unittest tests and prints one JSON line per test ({"test", "outcome", "detail"}) after a marker, so
test/python/client.test.ts can report each as its own test. Usage: python unittest_json.py FOLDER
"""

import json
import sys
import time
import unittest

MARK = "@@brine-test "


class JsonResult(unittest.TextTestResult):
    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def _emit(self, test, outcome, detail=""):
        line = {"test": test.id(), "outcome": outcome, "detail": detail, "seconds": time.monotonic() - self._started}
        sys.__stdout__.write(MARK + json.dumps(line) + "\n")
        sys.__stdout__.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._emit(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._emit(test, "fail", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._emit(test, "fail", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._emit(test, "skip", reason)


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.discover(sys.argv[1], top_level_dir=sys.argv[1])
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=JsonResult).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
