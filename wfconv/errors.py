"""Errors that reach the user as ``path:line: message`` and exit code 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: unreadable file, syntax error, schema violation, hostile XML.

    The CLI prints ``str(err)`` on stderr and exits 2; never a traceback.
    """

    def __init__(self, path: str | None, line: int | None, message: str):
        super().__init__(message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        loc = self.path or "<input>"
        if self.line:
            loc = f"{loc}:{self.line}"
        return f"{loc}: {self.message}"


class UsageError(Exception):
    """A request that cannot be served as asked (exit 2)."""
