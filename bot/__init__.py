"""triage-bot: links staging pytest failures to known GitHub issues.

PYTEST_DONT_REWRITE: the package also ships a pytest11 plugin, so pytest would try to
rewrite it; it holds no test assertions, and rewriting a package that is already imported
only produces a warning.
"""
