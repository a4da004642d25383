"""``smi-spec check`` and ``smi-spec fuzz``: the exhaustive check and stateful fuzzing of
every property of a variant (docs/properties.md)."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from checker.default_budgets import MAX_EXAMPLES, STEP_COUNT
from model.errors import InputError
from smi_spec.app import Format, FormatOption, app, console

if TYPE_CHECKING:
    from checker.compose import System
    from checker.explorer import Bounds

#: Estimated states from which ``check`` spreads the variants over every core by default:
#: below it, starting the processes costs more than it saves (docs/performance.md).
PARALLEL_FROM = 100_000


# The options of ``check``, in the order ``--help`` lists them.
_Variant = Annotated[
    list[str] | None, typer.Option(help="variant id, path to a .toml file, or all")
]
_Property = Annotated[
    list[str] | None, typer.Option("--property", help="check only this property (repeatable)")
]
_MaxLost = Annotated[int, typer.Option(min=0, max=4, help="responses the network may lose")]
_Meters = Annotated[
    int, typer.Option(min=1, help="Business Target devices in each system, compliant or not")
]
_Cads = Annotated[int, typer.Option(min=0, help="Other Devices joined to each of them")]
_Versions = Annotated[int, typer.Option(min=1, max=4, help="firmware versions F1..Fn")]
_DccEvents = Annotated[
    bool, typer.Option("--dcc-events/--no-dcc-events", help="also DCC withdrawal and recovery")
]
_Itf = Annotated[str | None, typer.Option(help="write each counterexample as ITF JSON here")]
_Devices = Annotated[
    str | None,
    typer.Option(
        help="the closed system, e.g. ESME=8,GSME=1,PPMID=1,HCALCS=1,CAD=2 (Type 2 counts "
        "per meter), checked one component at a time"
    ),
]
_MaxStates = Annotated[
    int | None, typer.Option(min=1, help="refuse bounds whose estimated state space is larger")
]
_Jobs = Annotated[
    int,
    typer.Option(min=0, help="processes for the variants: 0 = every core when the check is large"),
]
_EmitPytest = Annotated[
    str | None, typer.Option(help="write each counterexample as a pytest test here")
]
_Traces = Annotated[
    int, typer.Option(min=1, max=20, help="distinct causes shown per violated property")
]
_Coverage = Annotated[
    bool, typer.Option("--coverage", help="also report the rules and transitions exercised")
]
_Brief = Annotated[
    bool, typer.Option("--brief", help="the verdict table alone: no stories, no summary")
]
_PropertiesFile = Annotated[
    str | None, typer.Option("--properties", help="also check the properties of this TOML file")
]
_Sensitivity = Annotated[
    bool,
    typer.Option(
        "--sensitivity",
        help="flip each assumption-tagged rule with an alternative, one at a time, and "
        "list the verdicts that change",
    ),
]
_NoCache = Annotated[
    bool,
    typer.Option("--no-cache", help="neither read nor write the result cache (docs/tester.md)"),
]
_Watch = Annotated[
    bool,
    typer.Option("--watch", help="check again on every save of the variant file, until Ctrl-C"),
]


@app.command("check")
def check_command(
    variant: _Variant = None,
    property: _Property = None,
    max_lost: _MaxLost = 1,
    meters: _Meters = 1,
    cads: _Cads = 1,
    versions: _Versions = 2,
    dcc_events: _DccEvents = False,
    itf: _Itf = None,
    devices: _Devices = None,
    max_states: _MaxStates = None,
    jobs: _Jobs = 0,
    emit_pytest: _EmitPytest = None,
    traces: _Traces = 4,
    coverage: _Coverage = False,
    brief: _Brief = False,
    properties_file: _PropertiesFile = None,
    sensitivity: _Sensitivity = False,
    no_cache: _NoCache = False,
    watch: _Watch = False,
    format: FormatOption = Format.text,
) -> None:
    """Exhaustive check: every property of every variant, with the shortest counterexample
    of each distinct cause of a violation. With --sensitivity: which verdicts hold whatever
    the model assumed, and which hinge on an assumption (exit code 0).

    By default every device type in its own closed system; with --devices, the mix given,
    checked compositionally (each device type and join pair type once). Exit code 0 when
    every verdict is as the variant's [expect] table says, 1 otherwise.
    """
    from checker.explorer import Bounds

    if variant is not None and len(variant) > 1:
        raise InputError(f"--variant given {len(variant)} times: give one variant, or all")
    ref = variant[0] if variant else "all"
    if watch:
        _watchable(ref, format, sensitivity)
    systems, mix = _device_mix(devices)
    if devices is not None:
        meters = cads = 1
    bounds = Bounds(meters, cads, versions, max_lost, dcc_events)
    states = _states_within(bounds, max_states)
    if sensitivity:
        from smi_spec.sensitivity_out import run_sensitivity

        run_sensitivity(console, ref, bounds, format is Format.json)
        raise typer.Exit(0)
    arguments: dict[str, Any] = dict(
        variant_ref=ref,
        properties=property,
        bounds=bounds,
        itf_dir=itf,
        json_output=format is Format.json,
        traces=traces,
        coverage=coverage,
        systems=systems,
        emit_pytest=emit_pytest,
        brief=brief,
        mix=mix,
        properties_file=properties_file,
    )

    jobs = jobs or (os.cpu_count() or 1 if states >= PARALLEL_FROM else 1)
    checked = partial(_checked, arguments, jobs, use_cache=not no_cache)
    if watch:
        from smi_spec.check_watch import watch as watch_files

        watch_files(console, ref, checked)
        raise typer.Exit(0)
    raise typer.Exit(0 if checked() else 1)


def _checked(arguments: dict[str, Any], jobs: int, use_cache: bool) -> bool:
    """Run ``check`` with ``arguments`` (those of ``run_check``) on up to ``jobs`` cores,
    through the result cache (smi_spec/check_cache.py) unless told not to or when it
    writes side files (--itf, --emit-pytest): whether every verdict is as expected."""
    from smi_spec.progress_bars import shown_progress

    json_output = arguments["json_output"]
    with shown_progress("check", enabled=not json_output):
        run = partial(_run_check, jobs=jobs, **arguments)
        side_files = arguments["itf_dir"], arguments["emit_pytest"]
        if not use_cache or side_files != (None, None):
            return run()
        from smi_spec.check_cache import cached, checked_files

        files = checked_files(arguments["variant_ref"])
        if files is not None and arguments["properties_file"] is not None:
            files.append(Path(arguments["properties_file"]))
        return cached(console, arguments, files, json_output, run)


def _run_check(**arguments: Any) -> bool:
    """``smi_spec.checking.run_check``, imported only when a check runs: a cached one
    does without its imports."""
    from smi_spec.checking import run_check

    return run_check(console, **arguments)


def _watchable(ref: str, format: Format, sensitivity: bool) -> None:
    """``--watch`` watches one variant file and prints a check as text: refuse anything
    else."""
    from model.variant import resolve

    if sensitivity:
        raise InputError("--watch checks again on every save: not with --sensitivity")
    if ref == "all":
        raise InputError("--watch needs one variant: --variant FILE, not all")
    if format is Format.json:
        raise InputError("--watch prints text: it cannot be used with --format json")
    resolve(ref)


def _device_mix(devices: str | None) -> tuple[tuple[System, ...] | None, str | None]:
    """The closed systems ``--devices`` gives, checked one component at a time, and how to
    describe the mix (``checker.compose``); (None, None) without it: one system per type."""
    if devices is None:
        return None, None
    from checker.compose import DeviceMix

    parsed = DeviceMix.parse(devices)
    return parsed.components(), parsed.describe()


def _states_within(bounds: Bounds, max_states: int | None) -> int:
    """The bounds' estimated state count (``checker.estimate``), refused above
    ``--max-states``."""
    from checker.estimate import require_fits

    states = require_fits(bounds)
    if max_states is not None and states > max_states:
        raise InputError(
            f"these bounds ({bounds.describe()}) give about {states:,} states, more than "
            f"--max-states {max_states:,}"
        )
    return states


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
