"""The one error type the core raises, with a machine-readable reason code."""

from __future__ import annotations


class TriageError(Exception):
    """Bad input or bad configuration; `reason` is a stable code, the message is for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message


class ReportError(TriageError):
    """A report could not be read."""


class KnowledgeError(TriageError):
    """The knowledge base is invalid; the message names the file, rule and field."""
