"""``smi-spec check`` and ``smi-spec fuzz``: the exhaustive check and stateful fuzzing of
every property of a variant (docs/properties.md)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from checker.default_budgets import MAX_EXAMPLES, STEP_COUNT
from model.errors import InputError
from smi_spec.app import Format, FormatOption, app, console

#: Estimated states from which ``check`` spreads the variants over every core by default:
#: below it, starting the processes costs more than it saves (docs/performance.md).
PARALLEL_FROM = 100_000


@app.command("check")
def check_command(
    variant: Annotated[
        list[str] | None, typer.Option(help="variant id, path to a .toml file, or all")
    ] = None,
    property: Annotated[
        list[str] | None, typer.Option("--property", help="check only this property (repeatable)")
    ] = None,
    max_lost: Annotated[int, typer.Option(min=0, max=4, help="responses the network may lose")] = 1,
    meters: Annotated[
        int, typer.Option(min=1, help="Business Target devices in each system, compliant or not")
    ] = 1,
    cads: Annotated[int, typer.Option(min=0, help="Other Devices joined to each of them")] = 1,
    versions: Annotated[int, typer.Option(min=1, max=4, help="firmware versions F1..Fn")] = 2,
    dcc_events: Annotated[
        bool, typer.Option("--dcc-events/--no-dcc-events", help="also DCC withdrawal and recovery")
    ] = False,
    itf: Annotated[
        str | None, typer.Option(help="write each counterexample as ITF JSON here")
    ] = None,
    devices: Annotated[
        str | None,
        typer.Option(
            help="the closed system, e.g. ESME=8,GSME=1,PPMID=1,HCALCS=1,CAD=2 (Type 2 counts "
            "per meter), checked one component at a time"
        ),
    ] = None,
    max_states: Annotated[
        int | None,
        typer.Option(min=1, help="refuse bounds whose estimated state space is larger"),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            min=0, help="processes for the variants: 0 = every core when the check is large"
        ),
    ] = 0,
    emit_pytest: Annotated[
        str | None, typer.Option(help="write each counterexample as a pytest test here")
    ] = None,
    traces: Annotated[
        int, typer.Option(min=1, max=20, help="distinct causes shown per violated property")
    ] = 4,
    coverage: Annotated[
        bool, typer.Option("--coverage", help="also report the rules and transitions exercised")
    ] = False,
    brief: Annotated[
        bool, typer.Option("--brief", help="the verdict table alone: no stories, no summary")
    ] = False,
    properties_file: Annotated[
        str | None,
        typer.Option("--properties", help="also check the properties of this TOML file"),
    ] = None,
    sensitivity: Annotated[
        bool,
        typer.Option(
            "--sensitivity",
            help="flip each assumption-tagged rule with an alternative, one at a time, and "
            "list the verdicts that change",
        ),
    ] = False,
    format: FormatOption = Format.text,
) -> None:
    """Exhaustive check: every property of every variant, with the shortest counterexample
    of each distinct cause of a violation. With --sensitivity: which verdicts hold whatever
    the model assumed, and which hinge on an assumption (exit code 0).

    By default every device type in its own closed system; with --devices, the mix given,
    checked compositionally (each device type and join pair type once). Exit code 0 when
    every verdict is as the variant's [expect] table says, 1 otherwise.
    """
    from checker.estimate import require_fits
    from checker.explorer import Bounds
    from smi_spec.checking import run_check

    if variant is not None and len(variant) > 1:
        raise InputError(f"--variant given {len(variant)} times: give one variant, or all")
    systems = None
    mix = None
    if devices is not None:
        from checker.compose import DeviceMix

        parsed = DeviceMix.parse(devices)
        systems, mix = parsed.components(), parsed.describe()
        meters = cads = 1
    from smi_spec.progress_bars import shown_progress

    bounds = Bounds(meters, cads, versions, max_lost, dcc_events)
    states = require_fits(bounds)
    if max_states is not None and states > max_states:
        raise InputError(
            f"these bounds ({bounds.describe()}) give about {states:,} states, more than "
            f"--max-states {max_states:,}"
        )
    ref = variant[0] if variant else "all"
    if sensitivity:
        from smi_spec.sensitivity_out import run_sensitivity

        run_sensitivity(console, ref, bounds, format is Format.json)
        raise typer.Exit(0)
    with shown_progress("check", enabled=format is Format.text):
        ok = run_check(
            console,
            ref,
            property,
            bounds,
            itf,
            json_output=format is Format.json,
            traces=traces,
            coverage=coverage,
            systems=systems,
            jobs=jobs or (os.cpu_count() or 1 if states >= PARALLEL_FROM else 1),
            emit_pytest=emit_pytest,
            brief=brief,
            mix=mix,
            properties_file=properties_file,
        )
    raise typer.Exit(0 if ok else 1)


@app.command("fuzz")
def fuzz_command(
    variant: Annotated[str, typer.Option(help="variant id or path to a .toml file")] = "baseline",
    max_examples: Annotated[
        int, typer.Option(min=1, help="Hypothesis examples per run")
    ] = MAX_EXAMPLES,
    steps: Annotated[int, typer.Option(min=1, max=200, help="steps per example")] = STEP_COUNT,
    seed: Annotated[
        int | None, typer.Option(help="random seed: the same seed repeats the run exactly")
    ] = None,
    database: Annotated[
        str,
        typer.Option(
            help="Hypothesis example database: a directory, redis://HOST:PORT/N, or '' for "
            "none (the default: nothing is written where you did not ask)"
        ),
    ] = "",
    emit_pytest: Annotated[
        str | None, typer.Option(help="write each counterexample as a pytest test here")
    ] = None,
    min_coverage: Annotated[
        bool,
        typer.Option(help="fail a run that never suspended a device or never restored one"),
    ] = False,
    system: Annotated[
        list[str] | None,
        typer.Option(
            "--system",
            help="drive only the closed system of this device type, e.g. ESME or PPMID "
            "(repeatable; default: every system check explores)",
        ),
    ] = None,
    properties_file: Annotated[
        str | None,
        typer.Option("--properties", help="also fuzz the properties of this TOML file"),
    ] = None,
    format: FormatOption = Format.text,
) -> None:
    """Hypothesis stateful fuzzing of the live machines; shrunk counterexamples.

    Exit code 0 when every property the variant expects violated is found and no other is.
    """
    from smi_spec.fuzz_command import run_fuzz

    ok = run_fuzz(
        console,
        variant,
        max_examples,
        steps,
        seed,
        database,
        json_output=format is Format.json,
        emit=emit_pytest,
        min_coverage=min_coverage,
        only=system,
        properties_file=properties_file,
    )
    raise typer.Exit(0 if ok else 1)
