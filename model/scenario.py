"""Scenario files (JSON or TOML, format in design.md) and running them step by step.

A scenario names a variant, the CPL, the devices and their starting state, optionally the
starting state of join pairs, and a list of steps. Running it drives the live machines
through the DSP and reports, after every step, the SMI and device views of every device and
every join.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from model import dsp, inputs, join_machine
from model.catalogue import lookup
from model.cpl import CplEntry, parse_entry, removal_reasons
from model.device_types import device_types
from model.errors import InputError, ScenarioError
from model.machines import LIVE, Machines
from model.status_chart import OPERATIONAL, STATUSES, SUSPENDED, external_events
from model.variant import Variant, load_variant, resolve
from model.variant_rows import ROLE_CODES
from model.world import (
    DEVICE_TYPES,
    MANUAL_FIX_COST_GBP,
    Action,
    CplChange,
    DccEvent,
    DeviceSpec,
    DeviceState,
    ManualFix,
    PairSpec,
    Request,
    Setup,
    World,
)

_SCENARIO_KEYS: Final = frozenset(
    {"variant", "title", "description", "cpl", "devices", "joins", "steps"}
)
#: Caps on a scenario (or a log's inventory), assumption: far above any story or test rig,
#: and low enough that one step's views stay small (docs/formats.md).
MAX_DEVICES: Final = 1_000
MAX_PAIRS: Final = 1_000
MAX_STEPS: Final = 10_000
#: Cap on what ``run`` prints: every step shows itself (a line for the step, one for what
#: happened) and every device and join pair, so the output grows as steps x (devices +
#: pairs + 2). Refused before the first step (issue 25: 3.2 GB of JSON, or 440 s of text,
#: at the other caps); under 10 s of CPU in text at the cap (docs/performance.md).
MAX_STEP_VIEWS: Final = 40_000
_DEVICE_KEYS: Final = {
    "id",
    "type",
    "smets",
    "status",
    "prior_status",
    "firmware",
    "smi_firmware",
    "image",
    "compliant",
    "supplier",
}
_SR_KEYS: Final = {
    "sr",
    "target",
    "other",
    "image",
    "command_variant",
    "lose_response",
    "lose_alert",
    "role",
    "targets",
    "sender",
    "note",
}
#: A Service User's name (a device's ``supplier``, a request's ``sender``): an identifier.
SERVICE_USER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def service_user(value: Any, key: str) -> str:
    if not isinstance(value, str) or not SERVICE_USER.fullmatch(value):
        raise ScenarioError(f"{key} must be a Service User name (1 to 64 of A-Z a-z 0-9 _ . -)")
    return value


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: where it came from, its variant reference, setup, start and steps."""

    path: str
    variant_ref: str
    setup: Setup
    start: World
    steps: tuple[tuple[dict[str, Any], Action], ...]
    cpl_entries: tuple[CplEntry, ...] = ()


def _fail(path: str, where: str, message: str) -> ScenarioError:
    return ScenarioError(f"{path}: {where}: {message}")


def read_document(path: Path) -> dict[str, Any]:
    """Read a JSON or TOML document (by suffix; JSON otherwise) into a dict, through the
    input boundary (:mod:`model.inputs`: regular file, size cap, depth, integers, text)."""
    data = inputs.read_document(path, inputs.MAX_SCENARIO_BYTES)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected an object at the top level")
    return data


def _capped(path: str, where: str, items: list[Any], cap: int, what: str) -> None:
    if len(items) > cap:
        raise _fail(path, where, f"{len(items)} {what}; at most {cap} (docs/formats.md)")


@dataclass(frozen=True)
class Start:
    """A scenario's (or a log inventory's) variant reference, setup and starting world."""

    variant_ref: str
    setup: Setup
    start: World
    #: The CPL as entries, where the scenario gives them so (model/cpl.py).
    cpl_entries: tuple[CplEntry, ...] = ()


def parse_start(name: str, data: dict[str, Any], base: Path, keys: frozenset[str]) -> Start:
    """Validate everything but the steps: variant, CPL, devices, initial joins."""
    unknown = set(data) - keys
    if unknown:
        raise _fail(name, "top level", f"unknown key {sorted(unknown)[0]!r}")
    variant_ref = data.get("variant", "baseline")
    if not isinstance(variant_ref, str):
        raise _fail(name, "variant", "must be a variant id or a path to a .toml file")
    if variant_ref.endswith(".toml"):
        variant_ref = str(resolve(variant_ref, relative_to=base))
    devices = data.get("devices")
    if not isinstance(devices, list) or not devices:
        raise _fail(name, "devices", "must be a non-empty list of devices")
    _capped(name, "devices", devices, MAX_DEVICES, "devices")
    specs, states = zip(*(_device(name, n, d) for n, d in enumerate(devices, 1)), strict=True)
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise _fail(name, "devices", "device ids must be unique")
    cpl, entries = _cpl(name, data, variant_ref, states)
    setup = Setup(tuple(specs))
    raw_joins = data.get("joins", [])
    if isinstance(raw_joins, list):
        _capped(name, "joins", raw_joins, MAX_PAIRS, "join pairs")
    initial = _initial_joins(name, setup, raw_joins)
    setup = Setup(tuple(specs), tuple(initial))
    world = World(frozenset(cpl), tuple(states), tuple(initial.values()))
    return Start(variant_ref, setup, world, entries)


def _cpl(
    name: str, data: dict[str, Any], variant_ref: str, states: tuple[DeviceState, ...]
) -> tuple[list[str], tuple[CplEntry, ...]]:
    """The start's CPL: version names, or CPL entries (model/cpl.py) whose versions are
    on it when their latest listing event is ``listed``."""
    cpl = data.get("cpl", sorted({s.smi_firmware for s in states if s.smi_firmware}))
    if not isinstance(cpl, list):
        raise _fail(name, "cpl", "must be a list of firmware versions or CPL entries")
    _capped(name, "cpl", cpl, MAX_DEVICES, "CPL entries")
    versions: list[str] = []
    entries: list[CplEntry] = []
    reasons = set(removal_reasons())
    for number, raw in enumerate(cpl, 1):
        if isinstance(raw, str):
            versions.append(raw)
            continue
        if isinstance(raw, dict) and any(
            isinstance(e, dict) and e.get("reason") not in (None, *reasons)
            for e in raw.get("events", []) or []
        ):
            reasons |= {r.reason for r in load_variant(variant_ref).cpl.reasons}
        try:
            entry = parse_entry(raw, device_types(), reasons)
        except ScenarioError as exc:
            raise _fail(name, f"cpl[{number}]", str(exc)) from None
        entries.append(entry)
        if entry.listed:
            versions.append(entry.version)
    return versions, tuple(entries)


def with_pair(setup: Setup, world: World, pair: PairSpec) -> tuple[Setup, World]:
    """Add a join pair, first named by a step, in its initial state."""
    if len(setup.pairs) >= MAX_PAIRS:
        raise ScenarioError(f"more than {MAX_PAIRS} join pairs (docs/formats.md)")
    joins = (*world.joins, join_machine.INITIAL)
    return Setup(setup.devices, (*setup.pairs, pair)), World(world.cpl, world.devices, joins)


def load_scenario(file: str) -> Scenario:
    """Load and validate a scenario file; raises ScenarioError with the file and the step."""
    path = Path(file)
    data = read_document(path)
    name = str(path)
    begin = parse_start(name, data, path.parent, _SCENARIO_KEYS)
    load_variant(begin.variant_ref)  # its own Service Requests ([requests]) name steps too
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list):
        raise _fail(name, "steps", "must be a list")
    _capped(name, "steps", raw_steps, MAX_STEPS, "steps")
    setup, start = begin.setup, begin.start
    steps = []
    for number, raw in enumerate(raw_steps, 1):
        action = parse_action(name, f"step {number}", setup, raw)
        pair = pair_named(action, raw, setup)
        if pair is not None and pair not in setup.pairs:
            try:
                setup, start = with_pair(setup, start, pair)
            except ScenarioError as exc:
                raise _fail(name, f"step {number}", str(exc)) from None
        steps.append((raw, resolve_fix(setup, raw, action)))
    return Scenario(name, begin.variant_ref, setup, start, tuple(steps), begin.cpl_entries)


def _device(path: str, number: int, raw: Any) -> tuple[DeviceSpec, DeviceState]:
    where = f"devices[{number}]"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be an object")
    unknown = set(raw) - _DEVICE_KEYS
    if unknown:
        raise _fail(path, where, f"unknown key {sorted(unknown)[0]!r}")
    if not isinstance(raw.get("id"), str):
        raise _fail(path, where, "needs an id")
    kind = raw.get("type")
    if kind not in DEVICE_TYPES:
        raise _fail(path, where, f"type must be one of {', '.join(DEVICE_TYPES)}")
    smets = raw.get("smets", 2)
    if smets not in (1, 2) or isinstance(smets, bool):
        raise _fail(path, where, "smets must be 1 or 2")
    status = raw.get("status", "commissioned")
    if status not in STATUSES:
        raise _fail(path, where, f"status must be one of {', '.join(STATUSES)}")
    prior = raw.get("prior_status")
    if status == SUSPENDED:
        if prior not in OPERATIONAL:
            raise _fail(
                path,
                where,
                f"a suspended device needs prior_status, one of {', '.join(OPERATIONAL)}",
            )
    elif prior is not None:
        raise _fail(path, where, "prior_status is only for a suspended device")
    compliant = raw.get("compliant", True)
    if not isinstance(compliant, bool):
        raise _fail(path, where, "compliant must be true or false")
    firmware = raw.get("firmware")
    smi_firmware = raw.get("smi_firmware", firmware)
    image = raw.get("image")
    for key, value in (("firmware", firmware), ("smi_firmware", smi_firmware), ("image", image)):
        if value is not None and not isinstance(value, str):
            raise _fail(path, where, f"{key} must be a version string")
    spec = DeviceSpec(raw["id"], kind, smets, compliant)
    given = _smi_record_keys(raw)
    if spec.facts.type_2 and given:
        raise _fail(path, where, type_2_error(spec.id, kind, given))
    try:
        supplier = service_user(raw["supplier"], "supplier") if "supplier" in raw else None
    except ScenarioError as exc:
        raise _fail(path, where, str(exc)) from None
    return spec, DeviceState(status, prior, smi_firmware, firmware, image, supplier)


#: The keys that give a device an SMI status or firmware ("status" only when it is not the
#: model's stand-in for a Type 2 Device in service, "commissioned").
_SMI_RECORD_KEYS = ("prior_status", "firmware", "smi_firmware", "image")


def _smi_record_keys(raw: dict[str, Any]) -> list[str]:
    keys = [k for k in _SMI_RECORD_KEYS if raw.get(k) is not None]
    if raw.get("status", "commissioned") != "commissioned":
        keys.insert(0, "status")
    return keys


def type_2_error(device: str, kind: str, keys: list[str]) -> str:
    """One line: a Type 2 Device given an SMI status or firmware (device_types.json)."""
    return (
        f"{device} is a {kind}, a Type 2 Device: it has no SMI status and no firmware "
        f"(model/data/device_types.json); remove {', '.join(keys)}"
    )


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
        keys = _smi_record_keys(raw)
        if declared.type_2 and keys:
            raise ScenarioError(f"{scenario.path}: {type_2_error(spec.id, spec.type, keys)}")


def _initial_joins(path: str, setup: Setup, raw: Any) -> dict[PairSpec, str]:
    if not isinstance(raw, list):
        raise _fail(path, "joins", "must be a list")
    by_views = {(v.smi, v.device): s for s, v in join_machine.STATES.items() if "flight" not in s}
    joins = {}
    for number, entry in enumerate(raw, 1):
        where = f"joins[{number}]"
        if not isinstance(entry, dict) or set(entry) - {"target", "other", "smi", "device"}:
            raise _fail(path, where, 'must be {"target", "other", "smi", "device"}')
        try:
            pair = PairSpec(setup.index(entry["target"]), setup.index(entry["other"]))
        except ScenarioError as exc:
            raise _fail(path, where, str(exc)) from None
        except KeyError as exc:
            raise _fail(path, where, f"missing key {exc.args[0]!r}") from None
        views = (entry.get("smi", False), entry.get("device", False))
        if not all(isinstance(v, bool) for v in views):
            raise _fail(path, where, "smi and device must be true or false")
        joins[pair] = by_views[views]
    return joins


def parse_action(path: str, where: str, setup: Setup, raw: Any) -> Action:
    """One step as an action; a manual fix's pair index is set by :func:`resolve_fix`."""
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be an object")
    try:
        if "sr" in raw:
            unknown = set(raw) - _SR_KEYS
            if unknown:
                raise ScenarioError(f"unknown key {sorted(unknown)[0]!r}")
            srv = raw["sr"]
            if not isinstance(srv, str):
                raise ScenarioError('sr must be an SRV string such as "11.2"')
            srv = lookup(srv).srv  # SR11.2 and 11.2 alike
            also: tuple[int, ...] = ()
            if "targets" in raw:
                names = raw["targets"]
                if not isinstance(names, list) or not names or "target" in raw:
                    raise ScenarioError("targets must be a list of device ids (and no target)")
                raw = {**raw, "target": names[0]}
                also = tuple(setup.index(n) for n in names[1:])
            if "target" not in raw:
                raise ScenarioError(f"SR{srv} needs a target device")
            cv = raw.get("command_variant", 1)
            if not isinstance(cv, int) or isinstance(cv, bool) or not 1 <= cv <= 8:
                raise ScenarioError("command_variant must be a whole number from 1 to 8")
            lose, lose_alert = raw.get("lose_response", False), raw.get("lose_alert", False)
            if not isinstance(lose, bool) or not isinstance(lose_alert, bool):
                raise ScenarioError("lose_response and lose_alert must be true or false")
            if "image" in raw and not isinstance(raw["image"], str):
                raise ScenarioError("image must be a firmware version string")
            other = setup.index(raw["other"]) if "other" in raw else None
            target = setup.index(raw["target"])
            role = raw.get("role")
            if role is not None and role not in ROLE_CODES:
                known = ", ".join(sorted(ROLE_CODES))
                raise ScenarioError(f"role must be a Service User role code ({known})")
            request = Request(srv, target, other, raw.get("image"), cv, lose, lose_alert)
            if "sender" in raw:
                request = replace(request, sender=service_user(raw["sender"], "sender"))
            return replace(request, role=role, also=also) if role or also else request
        for key, listed in (("cpl_remove", False), ("cpl_add", True)):
            if set(raw) - {"note", "reason"} == {key} and (listed is False or "reason" not in raw):
                if not isinstance(raw[key], str):
                    raise ScenarioError(f"{key} must be a firmware version string")
                if not isinstance(raw.get("reason", ""), str):
                    raise ScenarioError("reason must be a string naming a [cpl.reasons] row")
                return CplChange(raw[key], listed=listed, reason=raw.get("reason"))
        if set(raw) - {"note"} == {"manual_smi_fix"}:
            fix = raw["manual_smi_fix"]
            if not isinstance(fix, dict) or set(fix) != {"target", "other"}:
                raise ScenarioError('manual_smi_fix needs {"target": ..., "other": ...}')
            setup.index(fix["target"]), setup.index(fix["other"])
            return ManualFix(-1)
        if set(raw) - {"note", "to"} == {"change_of_supplier"}:
            incoming = service_user(raw["to"], "to") if "to" in raw else None
            target = setup.index(raw["change_of_supplier"])
            return DccEvent("change_of_supplier", target, incoming)
        if set(raw) - {"note"} == {"event", "target"}:
            if raw["event"] not in external_events():
                raise ScenarioError(f"event must be one of {', '.join(external_events())}")
            return DccEvent(raw["event"], setup.index(raw["target"]))
    except InputError as exc:
        raise _fail(path, where, str(exc)) from None
    except KeyError as exc:
        raise _fail(path, where, f"missing key {exc.args[0]!r}") from None
    raise _fail(
        path, where, "not a step: expected sr, cpl_remove, cpl_add, manual_smi_fix or event"
    )


def pair_named(action: Action, raw: dict[str, Any], setup: Setup) -> PairSpec | None:
    if isinstance(action, Request) and action.other is not None:
        return PairSpec(action.target, action.other)
    if isinstance(action, ManualFix):
        fix = raw["manual_smi_fix"]
        return PairSpec(setup.index(fix["target"]), setup.index(fix["other"]))
    return None


def resolve_fix(setup: Setup, raw: dict[str, Any], action: Action) -> Action:
    if isinstance(action, ManualFix):
        fix = raw["manual_smi_fix"]
        return ManualFix(setup.pair_index(setup.index(fix["target"]), setup.index(fix["other"])))
    return action


# ---------------------------------------------------------------------------------------
# Running


def device_view(spec: DeviceSpec, state: DeviceState) -> dict[str, Any]:
    """One device's SMI and device view, as design.md reports it."""
    view = {
        "status": state.status,
        "prior_status": state.prior,
        "smi_firmware": state.smi_firmware,
        "device_firmware": state.firmware,
        "compliant": spec.compliant,
    }
    if state.supplier is not None:
        view["supplier"] = state.supplier
    return view


def entry_view(entry: CplEntry) -> dict[str, Any]:
    """One CPL entry as the report shows it."""
    return {
        "version": entry.version,
        "device_type": entry.device_type,
        "model": entry.model,
        "gbcs_version": entry.gbcs_version,
        "events": [{"event": e, "reason": r} if r else {"event": e} for e, r in entry.events],
        "listed": entry.listed,
    }


def join_view(setup: Setup, pair: PairSpec, state: str) -> dict[str, Any]:
    """One join's SMI and device view, as design.md reports it."""
    return {
        "target": setup.devices[pair.target].id,
        "other": setup.devices[pair.other].id,
        "smi": join_machine.STATES[state].smi,
        "device": join_machine.STATES[state].device,
    }


def views(setup: Setup, world: World) -> dict[str, Any]:
    """The SMI and device views of every device and join, as design.md reports them, and
    the CPL."""
    return {
        "cpl": sorted(world.cpl),
        "devices": {
            spec.id: device_view(spec, state)
            for spec, state in zip(setup.devices, world.devices, strict=True)
        },
        "joins": [
            join_view(setup, pair, state)
            for pair, state in zip(setup.pairs, world.joins, strict=True)
        ],
    }


def run_steps(
    scenario: Scenario, variant: Variant, machines: Machines = LIVE
) -> Iterator[dict[str, Any]]:
    """Each step's record of design.md, one at a time: only the world of the current step is
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
    """The report of design.md in three parts: what comes before the steps, the steps (one
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
    """Run every step and return the report of design.md (plus each step's rule and effects)."""
    head, steps, tail = run_streamed(
        scenario, variant or load_variant(scenario.variant_ref), machines
    )
    return {**head, "steps": list(steps), **tail}
