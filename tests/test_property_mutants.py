"""Properties proven to bite: each seeded defect (a small named change to a rule or a
variant, applied here, never in the model) is caught by its property and by no other, and
each weakened property (a mutant) lets its defect through.

"Caught" means the verdict goes from holds (on the variant the defect is seeded into) to
violated. suspension-recoverable is implied by firmware-recoverable (every firmware-good
state is suspension-good, and both allow the same way back), so no defect can break it
alone: its defect is caught by both, and its mutant test shows it is not vacuous.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import pytest

import checker.explorer as explorer
import checker.successors as successors
from checker.machine_tables import compiled
from model.property_ids import (
    FIRMWARE_RECOVERABLE,
    JOIN_RECOVERABLE,
    NO_FALSE_RESTORE,
    PRIOR_STATUS_RESTORED,
    PROPERTY_IDS,
    SUSPENDED_GATE,
    SUSPENSION_RECOVERABLE,
    UNJOIN_VALIDATED,
)
from model.rule_tables import Exemption, UpdateRule
from model.status_chart import SUSPENDED
from model.variant import Variant, load_variant
from properties import safety


class BrokenMachines:
    """The compiled machines with one transition broken (a seeded defect)."""

    def __init__(
        self, status: Callable[..., Any] | None = None, join: Callable[..., Any] | None = None
    ):
        self.inner = compiled()
        self.status_fault, self.join_fault = status, join

    def status(self, state: Any, event: str, version_on_cpl: bool = False) -> Any:
        if self.status_fault is not None:
            return self.status_fault(self.inner, state, event, version_on_cpl)
        return self.inner.status(state, event, version_on_cpl)

    def join(self, state: str, event: str) -> str:
        if self.join_fault is not None:
            return self.join_fault(self.inner, state, event)
        return self.inner.join(state, event)


def _restore_to_commissioned(inner: Any, state: Any, event: str, on_cpl: bool) -> Any:
    after = inner.status(state, event, on_cpl)
    if event == "restore_prior_status" and after != state:
        return ("commissioned", None)
    return after


def _restore_ignoring_cpl(inner: Any, state: Any, event: str, on_cpl: bool) -> Any:
    return inner.status(state, event, True if event == "restore_prior_status" else on_cpl)


def _reconcile_ignores_device_only(inner: Any, state: str, event: str) -> str:
    if event == "smi_reconciled_from_device_log" and state == "device_only":
        return state
    return inner.join(state, event)


def _matches_ignoring(field: str) -> Callable[..., bool]:
    original = Exemption.matches

    def matches(self: Exemption, srv: str, command_variant: Any, smets: Any) -> bool:
        return original(replace(self, **{field: None}), srv, command_variant, smets)

    return matches


def _update_11_2_only_while_suspended(v: Variant) -> Variant:
    return replace(
        v,
        update_smi_on=(
            UpdateRule("11.3", "success"),
            UpdateRule("11.2", "with-version", statuses=frozenset({SUSPENDED})),
        ),
    )


@dataclass(frozen=True)
class Defect:
    name: str
    base: str
    caught_by: frozenset[str]
    variant: Callable[[Variant], Variant] = lambda v: v
    machines: BrokenMachines | None = None
    exemption: Callable[..., bool] | None = None

    @contextmanager
    def seeded(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Variant]:
        with monkeypatch.context() as patch:
            if self.machines is not None:
                patch.setattr(successors, "compiled", lambda: self.machines)
            if self.exemption is not None:
                patch.setattr(Exemption, "matches", self.exemption)
            yield self.variant(load_variant(self.base))


DEFECTS = {
    d.name: d
    for d in (
        Defect(
            "exception list ignores the Command Variant",
            "baseline",
            frozenset({SUSPENDED_GATE}),
            exemption=_matches_ignoring("command_variant"),
        ),
        Defect(
            "exception list ignores the SMETS version",
            "baseline",
            frozenset({SUSPENDED_GATE}),
            exemption=_matches_ignoring("smets"),
        ),
        Defect(
            "restoration always returns to Commissioned",
            "baseline",
            frozenset({PRIOR_STATUS_RESTORED}),
            machines=BrokenMachines(status=_restore_to_commissioned),
        ),
        Defect(
            "restoration ignores whether the version is on the CPL",
            "baseline",
            frozenset({NO_FALSE_RESTORE}),
            machines=BrokenMachines(status=_restore_ignoring_cpl),
        ),
        Defect(
            "SR11.2 updates the SMI only while Suspended (DP105's strawman wording)",
            "mp105",
            frozenset({FIRMWARE_RECOVERABLE}),
            variant=_update_11_2_only_while_suspended,
        ),
        Defect(
            "only a success response updates the SMI firmware",
            "mp105",
            frozenset({FIRMWARE_RECOVERABLE, SUSPENSION_RECOVERABLE}),
            variant=lambda v: replace(v, update_smi_on=(UpdateRule("11.3", "success"),)),
        ),
        Defect(
            "device-log reconciliation ignores a join only the device holds",
            "mp105",
            frozenset({JOIN_RECOVERABLE}),
            variant=lambda v: replace(v, reconcile_smi_from_8_9=True, expect={}),
            machines=BrokenMachines(join=_reconcile_ignores_device_only),
        ),
        Defect(
            "the DSP forwards an Unjoin without validating it against the SMI",
            "mp105",
            frozenset({UNJOIN_VALIDATED}),
            variant=lambda v: replace(v, unjoin_requires_smi_join=False),
        ),
    )
}


def verdicts(variant: Variant) -> dict[str, str]:
    return {p.id: p.verdict for p in explorer.explore(variant).properties}


@cache
def base_verdicts(name: str, reconcile: bool) -> dict[str, str]:
    """The verdicts of the variant a defect is seeded into, with nothing seeded or weakened
    (computed once per test process)."""
    return verdicts(replace(load_variant(name), reconcile_smi_from_8_9=reconcile))


def base_of(defect: Defect) -> dict[str, str]:
    return base_verdicts(defect.base, defect.name.startswith("device-log"))


def caught(defect: Defect, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The properties whose verdict goes from holds to violated when the defect is seeded."""
    before = base_of(defect)
    with defect.seeded(monkeypatch) as seeded:
        after = verdicts(seeded)
    return {p for p in PROPERTY_IDS if before[p] == "holds" and after[p] == "violated"}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_seeded_defect_is_caught_by_its_property_alone(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert caught(DEFECTS[name], monkeypatch) == DEFECTS[name].caught_by


def test_every_property_has_a_seeded_defect() -> None:
    assert set().union(*(d.caught_by for d in DEFECTS.values())) == set(PROPERTY_IDS)


def test_every_property_but_the_implied_one_has_a_defect_it_alone_catches() -> None:
    alone = {next(iter(d.caught_by)) for d in DEFECTS.values() if len(d.caught_by) == 1}
    assert alone == set(PROPERTY_IDS) - {SUSPENSION_RECOVERABLE}


# ---------------------------------------------------------------------------------------
# Property mutants: each weakening lets its defect through, so the tests above would fail.


def _gate_without(field: str) -> Callable[..., Any]:
    original = safety.suspended_gate

    def weakened(variant: Variant, spec: Any, before: Any, request: Any, accepted: bool) -> Any:
        row = variant.e5[SUSPENDED]
        loose = tuple(replace(x, **{field: None}) for x in row.exceptions)
        e5 = {**variant.e5, SUSPENDED: replace(row, exceptions=loose)}
        return original(replace(variant, e5=e5), spec, before, request, accepted)

    return weakened


MUTANTS = {
    "suspended-gate without the Command Variant condition": (
        "suspended_gate",
        lambda: _gate_without("command_variant"),
        "exception list ignores the Command Variant",
    ),
    "suspended-gate without the SMETS condition": (
        "suspended_gate",
        lambda: _gate_without("smets"),
        "exception list ignores the SMETS version",
    ),
    "prior-status-restored always passes": (
        "prior_status_restored",
        lambda: lambda *args: None,
        "restoration always returns to Commissioned",
    ),
    "unjoin-validated always passes": (
        "unjoin_validated",
        lambda: lambda *args: None,
        "the DSP forwards an Unjoin without validating it against the SMI",
    ),
    "no-false-restore always passes": (
        "no_false_restore",
        lambda: lambda *args: None,
        "restoration ignores whether the version is on the CPL",
    ),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_each_property_mutant_misses_its_defect(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    function, weakened, defect_name = MUTANTS[name]
    defect = DEFECTS[defect_name]
    base_of(defect)  # judged by the real property, before it is weakened
    monkeypatch.setattr(safety, function, weakened())
    assert not caught(defect, monkeypatch) & defect.caught_by


def test_recoverability_mutant_a_good_predicate_that_always_holds_misses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """suspension-recoverable weakened to judge nothing: the seeds' defect goes unseen."""
    monkeypatch.setitem(explorer.DEVICE_GOOD, SUSPENSION_RECOVERABLE, lambda *args: True)
    assert verdicts(load_variant("baseline"))[SUSPENSION_RECOVERABLE] == "holds"
