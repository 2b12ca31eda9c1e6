"""Rebuild pytest node ids from JUnit XML's classname, name and (xunit1) file attributes."""

from __future__ import annotations

import re

# pytest's default python_files patterns: test_*.py and *_test.py.
_MODULE = re.compile(r"test_\w*|\w*_test")


def _split(segments: list[str]) -> int:
    """Return how many leading segments form the module path.

    The last segment named like a test module (test_*, *_test) is the module and any later
    segments are classes. Without one, trailing capitalised segments are classes.
    """
    for index in range(len(segments) - 1, -1, -1):
        if _MODULE.fullmatch(segments[index]):
            return index + 1
    end = len(segments)
    while end > 1 and segments[end - 1][:1].isupper():
        end -= 1
    return end


def nodeid(classname: str, name: str, file: str | None = None) -> str:
    """Rebuild the node id of a testcase (or of a collector, when classname is empty)."""
    if not classname:
        # A collection error: name is the dotted path of the module (or directory).
        segments = name.split(".")
        path = "/".join(segments)
        if file:
            return file
        return f"{path}.py" if _MODULE.fullmatch(segments[-1]) else path
    segments = classname.split(".")
    if file and file.endswith(".py"):
        dotted = file[: -len(".py")].replace("/", ".")
        if classname == dotted or classname.startswith(dotted + "."):
            classes = classname[len(dotted) + 1 :].split(".") if classname != dotted else []
            return "::".join([file, *classes, name])
    cut = _split(segments)
    path = "/".join(segments[:cut]) + ".py"
    return "::".join([path, *segments[cut:], name])
