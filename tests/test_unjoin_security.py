"""unjoin-validated as the security cost MP178 trades (issue 19, part 8): what an Unjoin
without SMI validation lets a Service User do that it could not before. Before MP178 the
DSP's E080801 check kept every join a device drops inside the DCC's record; after it, an
eligible Service User removes from a device a join the SMI has no record of, and the DSP
checks nothing about it. An Unjoin the device refuses changes nothing and is no witness.
"""

from __future__ import annotations

from dataclasses import replace

from checker.explorer import Bounds, explore
from model.dsp import UNJOIN_SRVS, Outcome
from model.property_ids import UNJOIN_VALIDATED
from model.variant import load_variant
from model.world import Request
from properties import safety

FORWARDED = Outcome(accepted=True, response_code=None, rule=None, forwarded=True)


def test_the_witness_removes_from_the_device_a_join_the_smi_never_recorded() -> None:
    """The mp178 witness is the seeds' own MP178 story: a Join whose response is lost, then
    an Unjoin the DSP forwards and the device acts on."""
    e = explore(load_variant("mp178"), properties=[UNJOIN_VALIDATED])
    result = e.result(UNJOIN_VALIDATED)
    assert result.verdict == "violated"
    actions = [e.universe.actions[a] for a in result.actions]
    first, last = actions[0], actions[-1]
    assert isinstance(first, Request) and first.lose_response and first.srv not in UNJOIN_SRVS
    assert isinstance(last, Request) and last.srv in UNJOIN_SRVS and not last.faulty
    # The path ends in the state the violating Unjoin is taken from: joined on the device
    # only, which the E080801 check would have refused to touch.
    _, before, _ = e.decode(result.path[-1])
    assert before.joins == ("device_only",)


def test_an_unjoin_the_device_refuses_is_no_witness() -> None:
    """The old reading restated the removed flag: a forwarded Unjoin for a pair nobody holds.
    The device refuses it; nothing changed, so nothing is broken."""
    unjoin = Request("8.8.2", 0, 1)
    assert safety.unjoin_validated(unjoin, "unjoined", "unjoined", FORWARDED) is None
    assert safety.unjoin_validated(unjoin, "joined", "unjoin_in_flight", FORWARDED) is None
    found = safety.unjoin_validated(unjoin, "device_only", "unjoined", FORWARDED)
    assert found is not None and found.property == UNJOIN_VALIDATED
    rejected = replace(FORWARDED, accepted=False, forwarded=False)
    assert safety.unjoin_validated(unjoin, "device_only", "device_only", rejected) is None


def test_without_a_lost_join_response_mp178_costs_nothing() -> None:
    """The cost exists only for joins the SMI does not hold: with no message lost, every join
    a device holds is one the SMI records, and mp178's Unjoin breaks nothing."""
    e = explore(load_variant("mp178"), Bounds(max_lost=0), properties=[UNJOIN_VALIDATED])
    assert e.result(UNJOIN_VALIDATED).verdict == "holds"


def test_with_the_validation_the_property_holds() -> None:
    """mp105 keeps E080801: the same Unjoin is rejected, and the property holds (the seeded
    defect, the validation removed, is caught: tests/test_property_mutants.py)."""
    e = explore(load_variant("mp105"), properties=[UNJOIN_VALIDATED])
    assert e.result(UNJOIN_VALIDATED).verdict == "holds"
