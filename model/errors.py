"""Errors that mean 'bad input': the CLI turns each into one line on stderr and exit code 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a user: a variant, scenario, log or DUIS file the model cannot accept."""


class VariantError(InputError):
    """A variant file that cannot be loaded; the message names the file, key and line."""


class ScenarioError(InputError):
    """A scenario step the model cannot run (unknown device or SRV, a step not allowed)."""
