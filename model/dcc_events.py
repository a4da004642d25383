"""DCC events: changes to the CPL (the variant's ``[cpl]`` and ``[cpl.reasons]`` rules,
seed:MP105), events among Service Users (``[events]``), and status events that are not
Service Requests.
"""

from __future__ import annotations

from dataclasses import replace

from model import alerts
from model.access import join_tags
from model.cpl import removal_reasons
from model.dsp_outcome import Outcome, StepNotAllowed, with_device
from model.machines import Machines
from model.provenance import ASSUMPTION, SEED_MP105, Rule
from model.rule_tables import ActorEvent
from model.status_chart import SUSPENDED
from model.variant import Variant
from model.world import CplChange, DccEvent, DeviceSpec, DeviceState, Setup, World


def cpl_change(
    spec: DeviceSpec, state: DeviceState, change: CplChange, variant: Variant, machines: Machines
) -> DeviceState:
    """What a CPL change does to one device, by the variant's ``[cpl]`` rules.

    Removing a version suspends every device whose SMI firmware is that version and whose
    status is in ``removal_suspends`` (seed:MP105; which statuses: as tagged). Re-listing it
    restores the devices suspended on it only where ``relisting_restores`` says so.
    """
    if not spec.cpl_listed or state.smi_firmware != change.version:
        return state
    before = (state.status, state.prior)
    if change.listed:
        if not (variant.cpl.relisting_restores and state.status == SUSPENDED):
            return state
        after = machines.status(before, "restore_on_cpl_relisting")
    elif state.status in variant.cpl.removal_suspends and _removal_suspends(
        variant, change, spec.type
    ):
        after = machines.status(before, "suspend_on_cpl_removal")
    else:
        return state
    return replace(state, status=after[0], prior=after[1])


def _removal_suspends(variant: Variant, change: CplChange, device_type: str) -> bool:
    """A removal suspends unless its reason's ``[cpl.reasons]`` row says it does not, or
    names other device types; a reason of ``model/data/cpl.json`` with no row suspends as
    ``removal_suspends`` says."""
    if change.reason is None:
        return True
    row = variant.cpl.reason(change.reason)
    if row is None:
        if change.reason in removal_reasons():
            return True
        known = ", ".join(sorted({r.reason for r in variant.cpl.reasons} | set(removal_reasons())))
        raise StepNotAllowed(f"unknown CPL removal reason {change.reason!r} (known: {known})")
    return row.suspends_type(device_type)


def _reason_rule(variant: Variant, change: CplChange) -> Rule | None:
    if change.listed or change.reason is None:
        return None
    row = variant.cpl.reason(change.reason)
    if row is None:
        data = removal_reasons().get(change.reason)
        if data is None:
            return None
        text = f"a CPL removal for {data.name} ({data.why}): no [cpl.reasons] row, so it "
        return Rule(
            f"cpl.reasons.{data.name}", text + "suspends as removal_suspends says", data.source
        )
    text = row.describe() + (f": {row.why}" if row.why else "")
    return Rule(f"cpl.reasons.{row.reason}", text, row.source)


#: The statuses from which the seeds themselves show a CPL removal suspending a device: DP105's
#: devices are meters in service, Commissioned, that "remain in the Suspended state".
SEED_SUSPENDED_FROM = frozenset({"commissioned"})


def _removal_source(changed_from: frozenset[str], source: str) -> str:
    """The removal rule's source for this step: the seeds' own (seed:MP105) where it suspended
    only Commissioned devices, else the seed joined with the ``[cpl]`` table's tag (which
    other statuses a removal suspends is that table's reading)."""
    if changed_from and changed_from <= SEED_SUSPENDED_FROM:
        return SEED_MP105
    return join_tags(SEED_MP105, source)


def cpl_step(
    setup: Setup, world: World, action: CplChange, variant: Variant, machines: Machines
) -> tuple[World, Outcome]:
    """The DCC adds a version to the CPL or removes one: every device, each on its own."""
    cpl = world.cpl | {action.version} if action.listed else world.cpl - {action.version}
    devices = tuple(
        cpl_change(spec, state, action, variant, machines)
        for spec, state in zip(setup.devices, world.devices, strict=True)
    )
    changed = [
        (spec, new)
        for spec, old, new in zip(setup.devices, world.devices, devices, strict=True)
        if old.status != new.status
    ]
    changed_from = frozenset(
        old.status
        for old, new in zip(world.devices, devices, strict=True)
        if old.status != new.status
    )
    effects = tuple(f"{spec.id} {new.status}" for spec, new in changed)
    sent = tuple(
        f"{alerts.DEVICE_SUSPENDED} {spec.id}"
        if new.status == SUSPENDED
        else f"{alerts.DEVICE_RESTORED} {spec.id}"
        for spec, new in changed
    )
    source = variant.source_of(
        "cpl.relisting_restores" if action.listed else "cpl.removal_suspends"
    )
    rule = (
        Rule(
            "cpl.relisting_restores",
            "re-listing a version restores the devices suspended on it"
            if variant.cpl.relisting_restores
            else "re-listing a version restores nobody by itself: only an SMI firmware update does",
            source,
        )
        if action.listed
        else Rule(
            "cpl.removal_suspends",
            "a CPL removal suspends the devices whose SMI firmware it names, from "
            + ", ".join(sorted(variant.cpl.removal_suspends)),
            _removal_source(changed_from, source),
        )
    )
    rule = _reason_rule(variant, action) or rule
    world = World(frozenset(cpl), devices, world.joins)  # replace(), without its cost
    return world, Outcome(None, None, rule, effects=effects, alerts=sent)


def actor_event(world: World, action: DccEvent, variant: Variant) -> tuple[World, Outcome]:
    """An event among Service Users (a change of supplier): the device's responsible
    supplier becomes the incoming one (where the event names it), and the variant's
    ``[events]`` row clears what it names on the device (nothing, without a row)."""
    row = variant.events.get(action.event) or ActorEvent(
        action.event, (), ASSUMPTION, "no [events] row: the event clears nothing"
    )
    state = world.devices[action.target]
    cleared = replace(state, image=None) if "image" in row.clears else state
    effects = tuple(
        f"{name} {getattr(state, name)} cleared ({row.event})"
        for name in row.clears
        if getattr(state, name) is not None
    )
    if action.supplier is not None:
        cleared = replace(cleared, supplier=action.supplier)
        effects += (f"supplier {state.supplier or 'none'} → {action.supplier}",)
    text = row.describe() + (f": {row.why}" if row.why else "")
    rule = Rule(f"events.{row.event}", text, row.source)
    return with_device(world, action.target, cleared), Outcome(None, None, rule, effects=effects)


def dcc_event(state: DeviceState, event: str, machines: Machines) -> DeviceState:
    before = (state.status, state.prior)
    after = machines.status(before, event)
    if after == before:
        raise StepNotAllowed(f"event {event!r} is not allowed from status {state.status}")
    return replace(state, status=after[0], prior=after[1])
