"""Property tests that bite (issue 26): each property survivor class of the hand-seeded
mutation round has a test here that fails with its mutation applied (the property
weakened) and passes on the properties as written.

Each seeds a defect into the DSP the explorer steps, from outside (the DSP follows one
variant while the properties judge another, or its machines are broken), and asks the
explorer (``smi-spec check``), the test-pack search or the recoverability search the
fuzzer and replay use, never the function that holds the property. The mutation each test
kills is named in its docstring; ``bench/mutation.py --only NAME`` applies it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

import checker.explorer as explorer
import checker.successors as successors
from checker.explorer import Bounds, System, explore
from checker.machine_tables import compiled
from checker.testpack import property_cases, search_all
from model.catalogue import lookup
from model.dsp import JOIN_SRVS, SRV_STATUS_EVENTS, UNJOIN_SRVS, step
from model.messages import messages
from model.property_ids import JOIN_RECOVERABLE, PRIOR_STATUS_RESTORED, SUSPENDED_GATE
from model.status_chart import SUSPENDED, TERMINAL
from model.variant import Variant, load_variant
from model.world import Action, DeviceSpec, DeviceState, PairSpec, Request, Setup, World
from properties.recoverability import recoverable


def _with_type_2(srvs: frozenset[str]) -> str:
    """The one of ``srvs`` whose Other Device may be a Type 2 Device (a CAD), by the
    message declarations (model/data/messages.json): the pairs here are meter and CAD."""
    return min(s for s in srvs if messages()[s].other_devices == "any")


def dsp_following(lenient: Variant) -> Callable[..., Any]:
    """A defective DSP: it decides by ``lenient`` whatever variant it is asked to follow."""

    def defective(setup: Setup, world: World, action: Action, variant: Variant, machines: Any):
        return step(setup, world, action, lenient, machines)

    return defective


def suspended_row(variant: Variant, **changes: Any) -> Variant:
    row = variant.e5[SUSPENDED]
    return replace(variant, e5={**variant.e5, SUSPENDED: replace(row, **changes)})


def gate_verdict(strict: Variant, lenient: Variant, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(successors, "step", dsp_following(lenient))
        return explore(strict, properties=(SUSPENDED_GATE,)).result(SUSPENDED_GATE).verdict


def test_suspended_gate_refutes_a_critical_request_the_row_does_not_admit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kills ``gate-critical-whatever-admits``: a Suspended row that admits nothing does
    not let a Critical request through; a DSP that does is caught."""
    baseline = load_variant("baseline")
    assert any(lookup(srv).critical for srv in SRV_STATUS_EVENTS)
    strict = suspended_row(baseline, admits="none")
    assert gate_verdict(baseline, baseline, monkeypatch) == "holds"
    assert gate_verdict(strict, baseline, monkeypatch) == "violated"


def test_suspended_gate_refutes_a_gated_non_device_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kills ``gate-non-device-ignores-gated``: a Non-Device Request the Suspended row lists
    as gated is not let through because it is listed; a DSP that lets it is caught."""
    baseline = load_variant("baseline")
    row = baseline.e5[SUSPENDED]
    ungated = [r.srv for r in row.non_device if not r.gated]
    sent = {a.srv for a in explorer.universe(Bounds(), baseline).actions if isinstance(a, Request)}
    chosen = next(
        srv for srv in ungated if srv in sent and not lookup(srv).critical
    )  # decommissioning (SR8.3) in the seeds' alphabet
    gated = tuple(replace(r, gated=True) if r.srv == chosen else r for r in row.non_device)
    strict = suspended_row(baseline, non_device=gated)
    assert gate_verdict(strict, baseline, monkeypatch) == "violated"


def test_safety_is_judged_on_every_device_of_a_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills ``safety-first-device-only``: a defect on the second meter of a setup only
    (it leaves Suspended for a status it never held) is caught."""
    live = compiled()

    def defective(setup: Setup, world: World, action: Action, variant: Variant, machines: Any):
        after, outcome = step(setup, world, action, variant, machines)
        if len(setup.devices) < 2:
            return after, outcome
        before, now = world.devices[1], after.devices[1]
        if before.status == SUSPENDED and now.status not in (SUSPENDED, *TERMINAL):
            wrong = next(s for s in ("pending", "whitelisted") if s != before.prior)
            devices = (*after.devices[:1], replace(now, status=wrong), *after.devices[2:])
            after = replace(after, devices=devices)
        return after, outcome

    assert live is not None
    variant = load_variant("mp105")
    with monkeypatch.context() as patch:
        patch.setattr(successors, "step", defective)
        # The explorer steps each meter's transitions itself; the dense explorer tells the
        # second meter's from the first's (checker/dense_symmetry.py: the model treats
        # meters alike, which this position-dependent defect does not).
        found = explore(
            variant,
            Bounds(meters=2, cads=0),
            (PRIOR_STATUS_RESTORED,),
            system=System("ESME"),
            engine="python",
        )
    result = found.result(PRIOR_STATUS_RESTORED)
    assert result.verdict == "violated"
    assert "esme2" in (result.why or "")


def _pair(status: str = "commissioned") -> tuple[Setup, World]:
    setup = Setup((DeviceSpec("esme1", "ESME"), DeviceSpec("cad1", "CAD")), (PairSpec(0, 1),))
    devices = (
        DeviceState(status, None, "F1", "F1"),
        DeviceState("commissioned", None, None, None),
    )
    return setup, World(frozenset({"F1", "F2"}), devices, ("unjoined",))


def test_a_join_held_by_the_smi_only_is_not_good() -> None:
    """Kills ``join-good-counts-smi-only``: a lost Unjoin response leaves the SMI holding a
    join the device has dropped; with no action at all, nothing is recovered."""
    variant = load_variant("baseline")
    setup, world = _pair()
    join, unjoin = _with_type_2(JOIN_SRVS), _with_type_2(UNJOIN_SRVS)
    world, _ = step(setup, world, Request(join, 0, other=1), variant, compiled())
    world, _ = step(
        setup, world, Request(unjoin, 0, other=1, lose_response=True), variant, compiled()
    )
    assert world.joins[0] == "smi_only"

    def nothing(s: Setup, w: World) -> list[Action]:
        return []

    assert recoverable(setup, world, variant, JOIN_RECOVERABLE, nothing) is False

    # The way back: the Join again, answered.
    def again(s: Setup, w: World) -> list[Action]:
        return [Request(join, 0, other=1)]

    assert recoverable(setup, world, variant, JOIN_RECOVERABLE, again) is True


def test_a_way_back_loses_no_message() -> None:
    """Kills ``recovery-allows-faults``: under MP178 an Unjoin whose response is lost would
    bring a join held by the device only back in sync; a way back may not lose messages."""
    variant = load_variant("mp178")
    assert not variant.unjoin_requires_smi_join
    setup, world = _pair()
    join, unjoin = _with_type_2(JOIN_SRVS), _with_type_2(UNJOIN_SRVS)
    world, _ = step(
        setup, world, Request(join, 0, other=1, lose_response=True), variant, compiled()
    )
    assert world.joins[0] == "device_only"

    def lossy(s: Setup, w: World) -> list[Action]:
        return [Request(unjoin, 0, other=1, lose_response=True)]

    after, _ = step(setup, world, lossy(setup, world)[0], variant, compiled())
    assert after.joins[0] == "unjoined"  # the lossy step would reach a good state
    assert recoverable(setup, world, variant, JOIN_RECOVERABLE, lossy) is False


def test_suspended_gate_is_put_to_the_test_by_a_request() -> None:
    """Kills ``armed-never-suspended-gate``: the test pack has a case that sends a request
    the DSP accepts for a Suspended device (what arms suspended-gate), so a pass is not
    vacuous."""
    variant = load_variant("baseline")
    searches = search_all(variant, systems=(explorer.DEFAULT_SYSTEM,))
    cases = property_cases(variant, searches, SUSPENDED_GATE)
    witnesses = [c for c in cases if "puts suspended-gate to the test" in c.purpose]
    assert witnesses
    # Its last step is a request the DSP accepts for a Suspended device (not one it
    # rejects: that puts nothing to the test).
    universe = searches[0].universe
    setup_index, world = universe.starts[witnesses[0].start_index]
    setup = universe.setups[setup_index]
    *before_last, last = (universe.actions[a] for a in witnesses[0].actions)
    for action in before_last:
        world, _ = step(setup, world, action, variant, compiled())
    assert isinstance(last, Request)
    assert world.devices[last.target].status == SUSPENDED
    _, outcome = step(setup, world, last, variant, compiled())
    assert outcome.accepted is True


def test_a_violation_by_a_cpl_change_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills ``explorer-drops-cpl-violations``: a re-listing that restores a device to a
    status it never held breaks prior-status-restored, and the explorer reports it."""
    live = compiled()

    class Broken:
        def status(self, state: Any, event: str, version_on_cpl: bool = False) -> Any:
            after = live.status(state, event, version_on_cpl)
            if event == "restore_on_cpl_relisting" and after != state:
                return ("commissioned", None)
            return after

        def join(self, state: str, event: str) -> str:
            return live.join(state, event)

    baseline = load_variant("baseline")
    variant = replace(baseline, cpl=replace(baseline.cpl, relisting_restores=True))
    assert (
        explore(variant, properties=(PRIOR_STATUS_RESTORED,)).result(PRIOR_STATUS_RESTORED).verdict
        == "holds"
    )
    with monkeypatch.context() as patch:
        patch.setattr(successors, "compiled", lambda: Broken())
        result = explore(variant, properties=(PRIOR_STATUS_RESTORED,)).result(PRIOR_STATUS_RESTORED)
    assert result.verdict == "violated"


def test_a_request_is_judged_against_its_own_target_only() -> None:
    """Kills the mutant of ``device_violations`` that drops ``is_target``: a request the
    DSP rightly accepts for one meter, while another meter is Suspended, breaks nothing
    (suspended-gate judges the device the request was for)."""
    safety_ids = (SUSPENDED_GATE, PRIOR_STATUS_RESTORED)
    found = explore(
        load_variant("baseline"), Bounds(meters=2, cads=0), safety_ids, system=System("ESME")
    )
    assert found.armed[SUSPENDED_GATE] > 0
    assert {p.id: p.verdict for p in found.properties} == dict.fromkeys(safety_ids, "holds")


def test_a_suspended_row_that_admits_nothing_leaves_suspended_gate_vacuous() -> None:
    """Kills the ``armed_by`` mutant that counts a rejected request as arming: where the
    Suspended row admits nothing, no request is accepted for a Suspended device, so
    suspended-gate holds vacuously and ``check`` must say so (armed 0)."""
    baseline = load_variant("baseline")
    row = baseline.e5[SUSPENDED]
    closed = suspended_row(
        baseline,
        admits="none",
        exceptions=(),
        non_device=tuple(replace(r, gated=True) for r in row.non_device),
    )
    found = explore(closed, properties=(SUSPENDED_GATE,))
    assert found.result(SUSPENDED_GATE).verdict == "holds"
    assert found.armed[SUSPENDED_GATE] == 0
    assert explore(baseline, properties=(SUSPENDED_GATE,)).armed[SUSPENDED_GATE] > 0
