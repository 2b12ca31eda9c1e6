"""Render a serialised pytest longrepr (as pytest-reportlog writes it) back into pytest's text."""

from __future__ import annotations

from typing import Any

_ENTRY_SEPARATOR = "_ " * 39 + "_"


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: object) -> list[str]:
    return [line for line in _list(value) if isinstance(line, str)]


def _file_location(data: dict[str, Any]) -> str:
    location = _dict(data.get("reprfileloc"))
    if not location:
        return ""
    message = str(location.get("message", "")).split("\n", 1)[0]
    return f"{location.get('path', '')}:{location.get('lineno', '')}: {message}"


def _entry(entry: dict[str, Any]) -> list[str]:
    """Render one traceback entry the way pytest's ReprEntry.toterminal does."""
    data = _dict(entry.get("data"))
    if entry.get("type") == "ReprEntryNative":
        return "".join(_strings(data.get("lines"))).rstrip("\n").split("\n")
    lines = _strings(data.get("lines"))
    locals_ = _strings(_dict(data.get("reprlocals")).get("lines"))
    location = _file_location(data)
    if data.get("style") == "short":
        return [line for line in [location, *lines, *locals_] if line]
    out: list[str] = []
    args = [_list(arg) for arg in _list(_dict(data.get("reprfuncargs")).get("args"))]
    args = [arg for arg in args if len(arg) == 2]
    if args:
        out.extend(f"{name} = {value}" for name, value in args)
        out.append("")
    out.extend(lines)
    if locals_:
        out.extend(["", *locals_])
    if location:
        out.extend(["", location] if lines else [location])
    return out


def _traceback(traceback: object) -> list[str]:
    """Render a ReprTraceback: its entries, separated as pytest separates them."""
    data = _dict(traceback)
    entries = [_dict(entry) for entry in _list(data.get("reprentries"))]
    out: list[str] = []
    for index, entry in enumerate(entries):
        style = _dict(entry.get("data")).get("style")
        if style == "long":
            out.append("")
        out.extend(_entry(entry))
        if index < len(entries) - 1 and style in ("long", "short"):
            out.append(_ENTRY_SEPARATOR)
    extraline = data.get("extraline")
    if isinstance(extraline, str):
        out.append(extraline)
    return out


def render(longrepr: object) -> tuple[str, str]:
    """Return the text pytest would print for a longrepr, and its crash message."""
    if longrepr is None:
        return "", ""
    if isinstance(longrepr, str):
        return longrepr, ""
    if isinstance(longrepr, list):  # a skip: [path, lineno, reason]
        return ":".join(str(part) for part in longrepr), ""
    data = _dict(longrepr)
    out: list[str] = []
    chain = [element for element in _list(data.get("chain")) if _list(element)]
    if chain:
        for element in chain:
            out.extend(_traceback(element[0]))
            if len(element) > 2 and isinstance(element[2], str):
                out.extend(["", element[2]])
    else:
        out.extend(_traceback(data.get("reprtraceback")))
    for section in _list(data.get("sections")):
        if len(_strings(section)) == 2:
            out.extend([f"{'-' * 20} {section[0]} {'-' * 20}", section[1]])
    crash = _dict(data.get("reprcrash")).get("message")
    return "\n".join(out).strip(), crash if isinstance(crash, str) else ""
