"""Errors the CLI reports as usage errors (exit status 2)."""

from __future__ import annotations


class UsageError(Exception):
    """A command-line option has a bad value; the message is one line naming it."""
