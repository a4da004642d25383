"""Counterexamples told in domain terms, and as ITF traces for other tools.

A trace found by the explorer is replayed from its start on the live machines (not the
compiled tables): the story a reviewer reads is the live model's, and the replay must end in
the very state the explorer reached, or the tables and the live machines disagree.
"""

from __future__ import annotations

from typing import Any

from checker.causes import Cause, causes
from checker.decisive import applied_rules, decisive
from checker.explorer import Exploration, PropertyResult
from checker.recovery_attempts import aftermath
from model.catalogue import lookup
from model.dsp import Outcome, step
from model.machines import LIVE
from model.provenance import Rule
from model.scenario_views import views
from model.world import Action, CplChange, DccEvent, ManualFix, Request, Setup, World


def action_label(setup: Setup, action: Action) -> str:
    """'SR11.3 Activate Firmware to esme1', 'DCC removes F1 from the CPL', ..."""
    if isinstance(action, Request):
        text = f"{lookup(action.srv).label} to {setup.devices[action.target].id}"
        if action.other is not None:
            text += f" for {setup.devices[action.other].id}"
        if action.image is not None:
            text += f" (image {action.image})"
        return text
    if isinstance(action, CplChange):
        return f"DCC {'adds' if action.listed else 'removes'} {action.version} " + (
            "to the CPL" if action.listed else "from the CPL"
        )
    if isinstance(action, ManualFix):
        pair = setup.pairs[action.pair]
        return (
            f"DCC corrects the SMI by hand for {setup.devices[pair.target].id} / "
            f"{setup.devices[pair.other].id}"
        )
    return f"DCC event {action.event} for {setup.devices[action.target].id}"


def _actor(action: Action) -> str:
    return "Service User" if isinstance(action, Request) else "DCC"


def _result(outcome: Outcome) -> str:
    parts = list(outcome.effects) or ["no change"]
    if outcome.accepted is False:
        parts = [f"rejected {outcome.response_code}"]
    if outcome.alerts:
        parts.append("alerts: " + ", ".join(outcome.alerts))
    return "; ".join(parts)


def describe_start(setup: Setup, world: World) -> str:
    devices = []
    for spec, state in zip(setup.devices, world.devices, strict=True):
        text = f"{spec.id} ({spec.type}"
        if not spec.facts.type_2:
            text += ", GBCS-compliant" if spec.compliant else ", not GBCS-compliant"
        text += f") {state.status}"
        if state.smi_firmware:
            text += f" on {state.firmware}"
        devices.append(text)
    return f"{'; '.join(devices)}; CPL {{{', '.join(sorted(world.cpl))}}}; nothing joined"


def counterexample_start(
    exploration: Exploration, property_id: str
) -> tuple[PropertyResult, Setup, World] | None:
    """A violated property's result, with the setup and world its counterexample starts in."""
    result = exploration.result(property_id)
    if result.verdict != "violated":
        return None
    setup_index, world, _ = exploration.decode(result.path[0])
    return result, exploration.universe.setups[setup_index], world


def _rule_json(rule: Rule) -> dict[str, str]:
    return {"id": rule.id, "text": rule.text, "source": rule.source}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed between two views, as ``device.field`` / ``pair.smi`` / ``cpl`` paths."""
    changed = ["cpl"] if before.get("cpl") != after.get("cpl") else []
    for device, view in after["devices"].items():
        old = before["devices"].get(device, {})
        changed += [f"{device}.{k}" for k, v in view.items() if old.get(k) != v]
    for old, new in zip(before["joins"], after["joins"], strict=True):
        pair = f"{new['target']}-{new['other']}"
        changed += [f"{pair}.{k}" for k in ("smi", "device") if old[k] != new[k]]
    return changed


def disagreements(view: dict[str, Any]) -> list[str]:
    """Where the SMI and the device disagree: a firmware version, or a join."""
    found = [
        f"{device}: SMI firmware {d['smi_firmware']}, device runs {d['device_firmware']}"
        for device, d in view["devices"].items()
        if d["smi_firmware"] != d["device_firmware"]
    ]
    found += [
        f"{j['target']}-{j['other']}: SMI {'joined' if j['smi'] else 'not joined'}, device "
        f"{'joined' if j['device'] else 'not joined'}"
        for j in view["joins"]
        if j["smi"] != j["device"]
    ]
    return found


def tell(
    exploration: Exploration, setup: Setup, world: World, actions: tuple[int, ...], why: str | None
) -> list[dict[str, Any]]:
    """Numbered steps from ``world``: each with the rule that decided it (and every rule that
    acted, with its source), the SMI and device views and the CPL after it, what changed and
    where the SMI and the device disagree."""
    variant = exploration.variant
    steps: list[dict[str, Any]] = []
    previous = views(setup, world)
    for number, a in enumerate(actions, 1):
        if a < 0:  # the catalogue sweep: a request with no effect on the state
            steps.append(
                {
                    "step": number,
                    "actor": "Service User",
                    "text": why,
                    "accepted": True,
                    "response_code": None,
                    "lost": False,
                    "rule": None,
                    "rules": [],
                    **previous,
                    "changes": [],
                    "disagreements": disagreements(previous),
                }
            )
            continue
        action = exploration.universe.actions[a]
        before = world
        world, outcome = step(setup, world, action, variant, LIVE)
        acted = applied_rules(setup, before, action, world, outcome, variant)
        rule = decisive(acted, outcome)
        now = views(setup, world)
        steps.append(
            {
                "step": number,
                "actor": _actor(action),
                "action": _action_json(setup, action),
                "text": f"{action_label(setup, action)}: {_result(outcome)}",
                "accepted": outcome.accepted,
                "response_code": outcome.response_code,
                "forwarded": outcome.forwarded,
                "lost": isinstance(action, Request) and action.faulty,
                "alerts": list(outcome.alerts),
                "rule": None if rule is None else _rule_json(rule),
                "rules": [_rule_json(r) for r in acted],
                **now,
                "changes": changes(previous, now),
                "disagreements": disagreements(now),
            }
        )
        previous = now
    return steps


def story(exploration: Exploration, property_id: str) -> dict[str, Any] | None:
    """The counterexample of one property as numbered steps, or None if it holds."""
    start = counterexample_start(exploration, property_id)
    if start is None:
        return None
    result, setup, world = start
    steps = tell(exploration, setup, world, result.actions, result.why)
    end = world
    for a in result.actions:
        if a >= 0:
            end, _ = step(setup, end, exploration.universe.actions[a], exploration.variant, LIVE)
    expected_end = exploration.decode(result.path[-1])[1]
    replayed_whole = bool(result.actions) and result.actions[-1] >= 0
    if replayed_whole and len(result.path) == len(result.actions) + 1 and end != expected_end:
        raise AssertionError("the live machines and the compiled tables disagree on this trace")
    return {
        "property": property_id,
        "why": result.why,
        "start": describe_start(setup, world),
        "initial": views(setup, world),
        "steps": steps,
        "final": views(setup, end),
        **_ending(
            exploration,
            property_id,
            exploration.decode(result.path[0])[0],
            world,
            result.actions,
        ),
    }


def cause_stories(
    exploration: Exploration, property_id: str, limit: int, found: list[Cause] | None = None
) -> list[dict[str, Any]]:
    """Each distinct cause of a violation with its shortest story: those needing no
    assumption first, then shortest first (``checker.causes.Cause.rank``)."""
    result = exploration.result(property_id)
    told = []
    for cause in found if found is not None else causes(exploration, property_id, limit):
        setup_index, world = cause.start
        setup = exploration.universe.setups[setup_index]
        ending = _ending(exploration, property_id, setup_index, world, cause.actions)
        told.append(
            {
                "cause": cause.describe(),
                "tag": cause.tag,
                "provenance": list(cause.provenance),
                "faults": cause.faults,
                "assumptions": [i.as_json() for i in cause.assumptions],
                "needs_assumptions": cause.needs_assumptions,
                "length": len(cause.actions),
                "start": describe_start(setup, world),
                "initial": views(setup, world),
                "steps": tell(exploration, setup, world, cause.actions, result.why),
                **ending,
            }
        )
    return told


def _attempt(setup: Setup, action: Action, outcome: Outcome) -> str:
    return f"{action_label(setup, action)}: {_result(outcome)}"


def _ending(
    exploration: Exploration,
    property_id: str,
    setup_index: int,
    world: World,
    actions: tuple[int, ...],
) -> dict[str, Any]:
    """After a recoverability story: the step after which no way back is left (0: the start),
    and the ways back tried from its last state, failing, then the manual correction."""
    can_recover = exploration.recoverable.get(property_id)
    if can_recover is None:
        return {}
    setup = exploration.universe.setups[setup_index]
    lost, no_return = 0, None
    worlds = [world]
    for a in actions:
        if a < 0:
            continue
        action = exploration.universe.actions[a]
        lost += int(isinstance(action, Request) and action.faulty)
        world, _ = step(setup, world, action, exploration.variant, LIVE)
        worlds.append(world)
        index = exploration.lookup(setup_index, world, lost)
        if no_return is None and index is not None and not can_recover[index]:
            no_return = len(worlds) - 1
    start_index = exploration.lookup(setup_index, worlds[0], 0)
    if start_index is not None and not can_recover[start_index]:
        no_return = 0
    return {
        "point_of_no_return": no_return,
        "aftermath": aftermath(setup, world, exploration.variant, property_id, _attempt),
    }


def _action_json(setup: Setup, action: Action) -> dict[str, Any]:
    if isinstance(action, Request):
        doc: dict[str, Any] = {"sr": action.srv, "target": setup.devices[action.target].id}
        if action.also:
            doc["targets"] = [setup.devices[i].id for i in (action.target, *action.also)]
            del doc["target"]
        if action.role is not None:
            doc["role"] = action.role
        if action.other is not None:
            doc["other"] = setup.devices[action.other].id
        if action.image is not None:
            doc["image"] = action.image
        if action.lose_response:
            doc["lose_response"] = True
        if action.lose_alert:
            doc["lose_alert"] = True
        return doc
    if isinstance(action, CplChange):
        change = {"cpl_add" if action.listed else "cpl_remove": action.version}
        return change | ({"reason": action.reason} if action.reason else {})
    if isinstance(action, ManualFix):
        pair = setup.pairs[action.pair]
        return {
            "manual_smi_fix": {
                "target": setup.devices[pair.target].id,
                "other": setup.devices[pair.other].id,
            }
        }
    assert isinstance(action, DccEvent)
    return {"event": action.event, "target": setup.devices[action.target].id}


def as_scenario(exploration: Exploration, property_id: str) -> dict[str, Any] | None:
    """The counterexample as a scenario file, to replay with ``smi-spec run``."""
    start = counterexample_start(exploration, property_id)
    if start is None:
        return None
    result, setup, world = start
    devices = []
    for spec, state in zip(setup.devices, world.devices, strict=True):
        device: dict[str, Any] = {
            "id": spec.id,
            "type": spec.type,
            "smets": spec.smets,
            "status": state.status,
            "compliant": spec.compliant,
        }
        if state.firmware:
            device["firmware"] = state.firmware
        devices.append(device)
    return {
        "variant": exploration.variant.path,
        "title": f"Counterexample to {property_id} under {exploration.variant.id}",
        "cpl": sorted(world.cpl),
        "devices": devices,
        "steps": [
            _action_json(setup, exploration.universe.actions[a]) for a in result.actions if a >= 0
        ],
    }


# ---------------------------------------------------------------------------------------
# ITF: the Informal Trace Format of Apalache and Quint


def itf_act(setup: Setup, action: Action | None) -> dict[str, Any]:
    """The action as a structured ITF record beside its prose: kind, SRV, target, other,
    image, CPL version and whether the response (or alert) was lost; "" where a field does
    not apply (ITF has no null)."""
    act: dict[str, Any] = {
        "kind": "init",
        "srv": "",
        "target": "",
        "other": "",
        "image": "",
        "version": "",
        "lost": False,
    }
    if isinstance(action, Request):
        act |= {
            "kind": "request",
            "srv": action.srv,
            "target": setup.devices[action.target].id,
            "other": "" if action.other is None else setup.devices[action.other].id,
            "image": action.image or "",
            "lost": action.faulty,
        }
    elif isinstance(action, CplChange):
        act |= {"kind": "cpl_add" if action.listed else "cpl_remove", "version": action.version}
    elif isinstance(action, ManualFix):
        pair = setup.pairs[action.pair]
        act |= {
            "kind": "manual_smi_fix",
            "target": setup.devices[pair.target].id,
            "other": setup.devices[pair.other].id,
        }
    elif isinstance(action, DccEvent):
        act |= {"kind": f"event:{action.event}", "target": setup.devices[action.target].id}
    return act


def _itf_state(
    setup: Setup, world: World, action: str, index: int, taken: Action | None = None
) -> dict[str, Any]:
    return {
        "#meta": {"index": index},
        "action": action,
        "act": itf_act(setup, taken),
        "cpl": {"#set": sorted(world.cpl)},
        "devices": {
            spec.id: {
                "status": state.status,
                "prior_status": state.prior or "",
                "smi_firmware": state.smi_firmware or "",
                "device_firmware": state.firmware or "",
                "image": state.image or "",
                "compliant": spec.compliant,
            }
            for spec, state in zip(setup.devices, world.devices, strict=True)
        },
        "joins": {
            "#map": [
                [{"#tup": [setup.devices[p.target].id, setup.devices[p.other].id]}, state]
                for p, state in zip(setup.pairs, world.joins, strict=True)
            ]
        },
    }


def itf(exploration: Exploration, property_id: str) -> dict[str, Any] | None:
    """The counterexample as an ITF document (one state per step, the action that led there)."""
    start = counterexample_start(exploration, property_id)
    if start is None:
        return None
    result, setup, world = start
    return itf_story(exploration, property_id, setup, world, result.actions, result.why)


def itf_cause(exploration: Exploration, property_id: str, cause: Cause) -> dict[str, Any]:
    """One distinct cause's shortest story as an ITF document."""
    setup_index, world = cause.start
    setup = exploration.universe.setups[setup_index]
    why = exploration.result(property_id).why
    document = itf_story(exploration, property_id, setup, world, cause.actions, why)
    document["#meta"]["cause"] = cause.describe()
    return document


def itf_story(
    exploration: Exploration,
    property_id: str,
    setup: Setup,
    world: World,
    actions: tuple[int, ...],
    why: str | None,
) -> dict[str, Any]:
    """A story from ``world`` as an ITF document: each state has the action's prose
    (``action``) and the action as a record (``act``)."""
    states = [_itf_state(setup, world, "init", 0)]
    for number, a in enumerate(actions, 1):
        if a < 0:
            continue
        action = exploration.universe.actions[a]
        world, _ = step(setup, world, action, exploration.variant, LIVE)
        states.append(_itf_state(setup, world, action_label(setup, action), number, action))
    return {
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": "smi-spec",
            "variant": exploration.variant.id,
            "property": property_id,
            "description": why,
        },
        "vars": ["action", "act", "cpl", "devices", "joins"],
        "states": states,
    }
