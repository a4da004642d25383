"""A scenario's start (format in docs/design.md and docs/formats.md), validated: its variant, the
CPL (version names or CPL entries, ``model/cpl.py``), the devices and their starting state,
and the starting state of join pairs. A message log's inventory is read by the same
functions (``model/message_log.py``), so the two formats cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from model import join_machine
from model.cpl import CplEntry, parse_entry, removal_reasons
from model.device_types import device_types
from model.errors import ScenarioError
from model.status_chart import OPERATIONAL, STATUSES, SUSPENDED
from model.variant import load_variant, resolve
from model.world import DEVICE_TYPES, DeviceSpec, DeviceState, PairSpec, Setup, World

#: Caps on a scenario (or a log's inventory), assumption: far above any story or test rig,
#: and low enough that one step's views stay small (docs/formats.md).
MAX_DEVICES: Final = 1_000
MAX_PAIRS: Final = 1_000
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

#: A Service User's name (a device's ``supplier``, a request's ``sender``): an identifier.
SERVICE_USER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def service_user(value: Any, key: str) -> str:
    """``value`` as a Service User's name, or a ScenarioError naming ``key``."""
    if not isinstance(value, str) or not SERVICE_USER.fullmatch(value):
        raise ScenarioError(f"{key} must be a Service User name (1 to 64 of A-Z a-z 0-9 _ . -)")
    return value


def where_error(path: str, where: str, message: str) -> ScenarioError:
    """The error for ``where`` in the scenario (or log) ``path``."""
    return ScenarioError(f"{path}: {where}: {message}")


def check_cap(path: str, where: str, items: list[Any], cap: int, what: str) -> None:
    """Refuse a list longer than its cap (docs/formats.md)."""
    if len(items) > cap:
        raise where_error(path, where, f"{len(items)} {what}; at most {cap} (docs/formats.md)")


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
        raise where_error(name, "top level", f"unknown key {sorted(unknown)[0]!r}")
    variant_ref = data.get("variant", "baseline")
    if not isinstance(variant_ref, str):
        raise where_error(name, "variant", "must be a variant id or a path to a .toml file")
    if variant_ref.endswith(".toml"):
        variant_ref = str(resolve(variant_ref, relative_to=base))
    devices = data.get("devices")
    if not isinstance(devices, list) or not devices:
        raise where_error(name, "devices", "must be a non-empty list of devices")
    check_cap(name, "devices", devices, MAX_DEVICES, "devices")
    specs, states = zip(*(_device(name, n, d) for n, d in enumerate(devices, 1)), strict=True)
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise where_error(name, "devices", "device ids must be unique")
    cpl, entries = _cpl(name, data, variant_ref, states)
    setup = Setup(tuple(specs))
    raw_joins = data.get("joins", [])
    if isinstance(raw_joins, list):
        check_cap(name, "joins", raw_joins, MAX_PAIRS, "join pairs")
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
        raise where_error(name, "cpl", "must be a list of firmware versions or CPL entries")
    check_cap(name, "cpl", cpl, MAX_DEVICES, "CPL entries")
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
            raise where_error(name, f"cpl[{number}]", str(exc)) from None
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


def _device(path: str, number: int, raw: Any) -> tuple[DeviceSpec, DeviceState]:
    where = f"devices[{number}]"
    if not isinstance(raw, dict):
        raise where_error(path, where, "must be an object")
    unknown = set(raw) - _DEVICE_KEYS
    if unknown:
        raise where_error(path, where, f"unknown key {sorted(unknown)[0]!r}")
    if not isinstance(raw.get("id"), str):
        raise where_error(path, where, "needs an id")
    kind = raw.get("type")
    if kind not in DEVICE_TYPES:
        raise where_error(path, where, f"type must be one of {', '.join(DEVICE_TYPES)}")
    smets = raw.get("smets", 2)
    if smets not in (1, 2) or isinstance(smets, bool):
        raise where_error(path, where, "smets must be 1 or 2")
    status = raw.get("status", "commissioned")
    if status not in STATUSES:
        raise where_error(path, where, f"status must be one of {', '.join(STATUSES)}")
    prior = raw.get("prior_status")
    if status == SUSPENDED:
        if prior not in OPERATIONAL:
            raise where_error(
                path,
                where,
                f"a suspended device needs prior_status, one of {', '.join(OPERATIONAL)}",
            )
    elif prior is not None:
        raise where_error(path, where, "prior_status is only for a suspended device")
    compliant = raw.get("compliant", True)
    if not isinstance(compliant, bool):
        raise where_error(path, where, "compliant must be true or false")
    firmware = raw.get("firmware")
    smi_firmware = raw.get("smi_firmware", firmware)
    image = raw.get("image")
    for key, value in (("firmware", firmware), ("smi_firmware", smi_firmware), ("image", image)):
        if value is not None and not isinstance(value, str):
            raise where_error(path, where, f"{key} must be a version string")
    spec = DeviceSpec(raw["id"], kind, smets, compliant)
    given = smi_record_keys(raw)
    if spec.facts.type_2 and given:
        raise where_error(path, where, type_2_error(spec.id, kind, given))
    try:
        supplier = service_user(raw["supplier"], "supplier") if "supplier" in raw else None
    except ScenarioError as exc:
        raise where_error(path, where, str(exc)) from None
    return spec, DeviceState(status, prior, smi_firmware, firmware, image, supplier)


#: The keys that give a device an SMI status or firmware ("status" only when it is not the
#: model's stand-in for a Type 2 Device in service, "commissioned").
_SMI_RECORD_KEYS = ("prior_status", "firmware", "smi_firmware", "image")


def smi_record_keys(raw: dict[str, Any]) -> list[str]:
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


def _initial_joins(path: str, setup: Setup, raw: Any) -> dict[PairSpec, str]:
    if not isinstance(raw, list):
        raise where_error(path, "joins", "must be a list")
    by_views = {(v.smi, v.device): s for s, v in join_machine.STATES.items() if "flight" not in s}
    joins = {}
    for number, entry in enumerate(raw, 1):
        where = f"joins[{number}]"
        if not isinstance(entry, dict) or set(entry) - {"target", "other", "smi", "device"}:
            raise where_error(path, where, 'must be {"target", "other", "smi", "device"}')
        try:
            pair = PairSpec(setup.index(entry["target"]), setup.index(entry["other"]))
        except ScenarioError as exc:
            raise where_error(path, where, str(exc)) from None
        except KeyError as exc:
            raise where_error(path, where, f"missing key {exc.args[0]!r}") from None
        views = (entry.get("smi", False), entry.get("device", False))
        if not all(isinstance(v, bool) for v in views):
            raise where_error(path, where, "smi and device must be true or false")
        joins[pair] = by_views[views]
    return joins
