"""The one error every CLI command may end with (its own module: the CLI catches it
without importing the commands)."""

from __future__ import annotations


class CommandFailed(Exception):
    """The command ran and could not do what was asked; the message says why."""
