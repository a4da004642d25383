"""The rules that decided one step: the access rows a request passed, the row or validation
that decided it, the SMI update rule, and the CPL rule where it acted on a device.

A rule that only passed something through (a CPL change that names no device's version, an
update rule that did not fire) is not cited: the story, its cause and the coverage count
only the rules that made the DSP or a device act.
"""

from __future__ import annotations

from model.dsp import Outcome
from model.provenance import Rule
from model.status_chart import OPERATIONAL, SUSPENDED
from model.variant import Variant
from model.world import Action, CplChange, Request, Setup, World


def update_rule(variant: Variant, outcome: Outcome) -> Rule | None:
    """The ``update_smi_on`` row that set the SMI firmware in this step, as a rule."""
    used = outcome.smi_update
    if used is None:
        return None
    number = variant.update_smi_on.index(used)
    source = used.source or variant.source_of("firmware.update_smi_on")
    return Rule(
        f"firmware.update_smi_on[{number}]", f"the DSP sets the SMI firmware from {used}", source
    )


def _cpl_rule_acted(setup: Setup, before: World, action: CplChange) -> bool:
    """Did the CPL rule apply to a device: one whose SMI firmware is the version changed
    (and, for a re-listing, that is Suspended on it)?"""
    return any(
        spec.cpl_listed
        and state.smi_firmware == action.version
        and (not action.listed or state.status == SUSPENDED)
        for spec, state in zip(setup.devices, before.devices, strict=True)
    )


def applied_rules(
    setup: Setup, before: World, action: Action, after: World, outcome: Outcome, variant: Variant
) -> tuple[Rule, ...]:
    """Every rule that acted in this step, the decisive one last."""
    rules = list(outcome.passed)
    if isinstance(action, CplChange):
        if outcome.rule is not None and _cpl_rule_acted(setup, before, action):
            rules.append(outcome.rule)
        return tuple(rules)
    if outcome.rule is not None:
        rules.append(outcome.rule)
    if not isinstance(action, Request):
        return tuple(rules)
    spec = setup.devices[action.target]
    was, now = before.devices[action.target], after.devices[action.target]
    if any("(suspended.critical_life_cycle)" in effect for effect in outcome.effects):
        rules.append(
            Rule(
                "suspended.critical_life_cycle",
                "a Critical life-cycle request accepted while Suspended changes the status the "
                "device returns to",
                variant.source_of("suspended.critical_life_cycle"),
            )
        )
    update = update_rule(variant, outcome)
    if update is not None:
        rules.append(update)
        if was.status in OPERATIONAL and now.status == SUSPENDED and spec.cpl_listed:
            rules.append(
                Rule(
                    "cpl.off_cpl_update_suspends",
                    "an SMI firmware update to a version off the CPL suspends the device",
                    variant.source_of("cpl.off_cpl_update_suspends"),
                )
            )
    return tuple(rules)


def decisive(rules: tuple[Rule, ...], outcome: Outcome) -> Rule | None:
    """The rule a story names for a step: the last that acted, else the outcome's own."""
    return rules[-1] if rules else outcome.rule
