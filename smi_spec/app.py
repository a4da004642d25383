"""The ``smi-spec`` app and the conventions every command shares: the rich console, the
``--format`` option, strict JSON on stdout (docs/design.md, "Contracts").

The commands register themselves on ``app`` in their own modules; ``smi_spec/cli.py``
imports them in the order ``smi-spec --help`` lists them.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from smi_spec.exits import OutputConsole

app = typer.Typer(
    help="An executable, checkable specification of the DSP's Smart Metering Inventory rules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts are plain text: "[expect]" is a TOML table name, not rich markup.
    rich_markup_mode=None,
)
# No auto-highlighting: "SR8.7.2" is one name, not "SR8." and a highlighted number.
console = OutputConsole(highlight=False)  # a closed pipe is exit 141 (smi_spec/exits.py)


class Format(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="text for people, json for tools")]


class StreamFormat(StrEnum):
    """``--format`` of a command that prints its records as it goes (``run``, ``replay``):
    JSON Lines besides text and one JSON document (docs/formats.md)."""

    text = "text"
    json = "json"
    jsonl = "jsonl"


def _version(show: bool) -> None:
    if show:
        from importlib import metadata  # only here: reading package metadata takes a while

        print(f"smi-spec {metadata.version('smi-spec')}")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """An executable, checkable specification of the DSP's Smart Metering Inventory rules."""


def emit_json(document: Any) -> None:
    from smi_spec.strict_json import dumps

    sys.stdout.write(dumps(document) + "\n")
