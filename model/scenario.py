"""Scenario files (JSON or TOML, format in docs/design.md) and running them step by step.

A scenario names a variant, the CPL, the devices and their starting state, optionally the
starting state of join pairs, and a list of steps. Running it drives the live machines
through the DSP and reports, after every step, the SMI and device views of every device and
every join.

This module loads a file and runs it; the start is validated by
:mod:`model.scenario_start`, each step by :mod:`model.scenario_steps`, and the views it
reports are :mod:`model.scenario_views`'.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from model import dsp, inputs
from model.cpl import CplEntry
from model.errors import InputError, ScenarioError
from model.machines import LIVE, Machines
from model.scenario_start import (
    check_cap,
    parse_start,
    smi_record_keys,
    type_2_error,
    where_error,
    with_pair,
)
from model.scenario_steps import pair_named, parse_action, resolve_fix
from model.scenario_views import entry_view, views
from model.variant import Variant, load_variant
from model.world import MANUAL_FIX_COST_GBP, Action, ManualFix, Setup, World

_SCENARIO_KEYS: Final = frozenset(
    {"variant", "title", "description", "cpl", "devices", "joins", "steps"}
)
#: Cap on a scenario's steps, assumption, as the caps on its start (model/scenario_start.py).
MAX_STEPS: Final = 10_000
#: Cap on what ``run`` prints: every step shows itself (a line for the step, one for what
#: happened) and every device and join pair, so the output grows as steps x (devices +
#: pairs + 2). Refused before the first step (issue 25: 3.2 GB of JSON, or 440 s of text,
#: at the other caps); under 10 s of CPU in text at the cap (docs/performance.md).
MAX_STEP_VIEWS: Final = 40_000


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: where it came from, its variant reference, setup, start and steps."""

    path: str
    variant_ref: str
    setup: Setup
    start: World
    steps: tuple[tuple[dict[str, Any], Action], ...]
    cpl_entries: tuple[CplEntry, ...] = ()


def read_document(path: Path) -> dict[str, Any]:
    """Read a JSON or TOML document (by suffix; JSON otherwise) into a dict, through the
    input boundary (:mod:`model.inputs`: regular file, size cap, depth, integers, text)."""
    data = inputs.read_document(path, inputs.MAX_SCENARIO_BYTES)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected an object at the top level")
    return data


def load_scenario(file: str) -> Scenario:
    """Load and validate a scenario file; raises ScenarioError with the file and the step."""
    path = Path(file)
    data = read_document(path)
    name = str(path)
    begin = parse_start(name, data, path.parent, _SCENARIO_KEYS)
    load_variant(begin.variant_ref)  # its own Service Requests ([requests]) name steps too
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list):
        raise where_error(name, "steps", "must be a list")
    check_cap(name, "steps", raw_steps, MAX_STEPS, "steps")
    setup, start = begin.setup, begin.start
    steps = []
    for number, raw in enumerate(raw_steps, 1):
        action = parse_action(name, f"step {number}", setup, raw)
        pair = pair_named(action, raw, setup)
        if pair is not None and pair not in setup.pairs:
            try:
                setup, start = with_pair(setup, start, pair)
            except ScenarioError as exc:
                raise where_error(name, f"step {number}", str(exc)) from None
        steps.append((raw, resolve_fix(setup, raw, action)))
    return Scenario(name, begin.variant_ref, setup, start, tuple(steps), begin.cpl_entries)


def check_type_2(scenario: Scenario, variant: Variant) -> None:
    """A scenario's start gives no Type 2 Device (by the variant's device-type declarations,
    ``variant.device_types``) an SMI status or firmware; raises ScenarioError if it does."""
    for spec, state in zip(scenario.setup.devices, scenario.start.devices, strict=True):
        declared = variant.device_types.get(spec.type, spec.facts)
        raw = {
            "status": state.status,
            "prior_status": state.prior,
            "firmware": state.firmware,
            "smi_firmware": state.smi_firmware,
            "image": state.image,
        }
        keys = smi_record_keys(raw)
        if declared.type_2 and keys:
            raise ScenarioError(f"{scenario.path}: {type_2_error(spec.id, spec.type, keys)}")


# ---------------------------------------------------------------------------------------
# Running


def run_steps(
    scenario: Scenario, variant: Variant, machines: Machines = LIVE
) -> Iterator[dict[str, Any]]:
    """Each step's record of docs/design.md, one at a time: only the world of the current step is
    held, so memory grows with the scenario, not with steps x pairs."""
    world = scenario.start
    for number, (raw, action) in enumerate(scenario.steps, 1):
        try:
            world, outcome = dsp.step(scenario.setup, world, action, variant, machines)
        except ScenarioError as exc:
            raise ScenarioError(f"{scenario.path}: step {number}: {exc}").located(
                step=number
            ) from None
        rule = outcome.rule
        yield {
            "step": raw,
            "accepted": outcome.accepted,
            "response_code": outcome.response_code,
            "rule": None
            if rule is None
            else {"id": rule.id, "text": rule.text, "source": rule.source},
            "effects": list(outcome.effects),
            "alerts": list(outcome.alerts),
            **views(scenario.setup, world),
        }


def manual_fixes(scenario: Scenario) -> int:
    """How many manual SMI corrections the scenario makes."""
    return sum(isinstance(action, ManualFix) for _, action in scenario.steps)


def check_output_size(scenario: Scenario) -> None:
    """Refuse, before any step, a scenario whose report would exceed :data:`MAX_STEP_VIEWS`."""
    per_step = len(scenario.setup.devices) + len(scenario.setup.pairs) + 2
    total = len(scenario.steps) * per_step
    if total > MAX_STEP_VIEWS:
        raise ScenarioError(
            f"{scenario.path}: steps: {len(scenario.steps):,} steps x ({per_step - 2:,} devices "
            f"and join pairs + 2) = {total:,} lines of report, more than {MAX_STEP_VIEWS:,} "
            "(docs/formats.md): split the scenario"
        )


def run_streamed(
    scenario: Scenario, variant: Variant, machines: Machines = LIVE
) -> tuple[dict[str, Any], Iterator[dict[str, Any]], dict[str, Any]]:
    """The report of docs/design.md in three parts: what comes before the steps, the steps (one
    at a time, as they run) and what comes after them."""
    check_output_size(scenario)
    check_type_2(scenario, variant)
    fixes = manual_fixes(scenario)
    head: dict[str, Any] = {
        "variant": variant.id,
        "scenario": scenario.path,
        "start": views(scenario.setup, scenario.start),
    }
    if scenario.cpl_entries:
        head["cpl_entries"] = [entry_view(e) for e in scenario.cpl_entries]
    tail = {"manual_fixes": fixes, "manual_fix_cost_gbp": fixes * MANUAL_FIX_COST_GBP}
    return head, run_steps(scenario, variant, machines), tail


def run(
    scenario: Scenario, variant: Variant | None = None, machines: Machines = LIVE
) -> dict[str, Any]:
    """Run every step and return the report of docs/design.md (plus each step's rule and
    effects)."""
    head, steps, tail = run_streamed(
        scenario, variant or load_variant(scenario.variant_ref), machines
    )
    return {**head, "steps": list(steps), **tail}
