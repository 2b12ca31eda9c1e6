"""The case suites fail on purpose: only tests/core/test_cases.py runs them, through pytester."""

collect_ignore_glob = ["*/test_case.py"]
