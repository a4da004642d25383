"""A scenario's steps (format in docs/design.md and docs/formats.md), each validated as an action
of the closed system (``model/world.py``): a Service Request, a CPL change, a manual SMI
fix, a change of supplier or a DCC status event; and the join pair a step names.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from model.catalogue import lookup
from model.errors import InputError, ScenarioError
from model.scenario_start import service_user, where_error
from model.status_chart import external_events
from model.variant_rows import ROLE_CODES
from model.world import Action, CplChange, DccEvent, ManualFix, PairSpec, Request, Setup

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


def parse_action(path: str, where: str, setup: Setup, raw: Any) -> Action:
    """One step as an action; a manual fix's pair index is set by :func:`resolve_fix`."""
    if not isinstance(raw, dict):
        raise where_error(path, where, "must be an object")
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
        raise where_error(path, where, str(exc)) from None
    except KeyError as exc:
        raise where_error(path, where, f"missing key {exc.args[0]!r}") from None
    raise where_error(
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
