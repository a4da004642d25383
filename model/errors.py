"""Errors that mean 'bad input': the CLI turns each into one line on stderr and exit code 2."""

from __future__ import annotations

from typing import Self


class InputError(Exception):
    """Bad input from a user: a variant, scenario, log or DUIS file the model cannot accept.
    ``where`` says where in the input, when one place is (``{"line": 4}`` of a log,
    ``{"step": 2}`` of a scenario): streamed JSON that stops there names it."""

    where: dict[str, int] | None = None

    def located(self, **where: int) -> Self:
        """This error, saying where in the input it is."""
        self.where = where
        return self


class VariantError(InputError):
    """A variant file that cannot be loaded; the message names the file, key and line."""


class ScenarioError(InputError):
    """A scenario step the model cannot run (unknown device or SRV, a step not allowed)."""
