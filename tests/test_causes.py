"""Every distinct cause of a violation, each with its shortest story; the rule that decided
each step; the state after each step."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.causes import causes, faults_of, rule_ingredient
from checker.decisive import applied_rules
from checker.explorer import DEFAULT_SYSTEM, Bounds, System, explore
from checker.narrate import story
from model import dsp
from model.machines import LIVE
from model.property_ids import SUSPENSION_RECOVERABLE, UNJOIN_VALIDATED
from model.variant import load_variant
from properties.safety import violations
from tests.conftest import SCENARIOS, cli, cli_json


def _actions(exploration, cause):  # type: ignore[no-untyped-def]
    return [exploration.universe.actions[a] for a in cause.actions]


def test_done_when_the_seeds_lost_sr11_3_response_is_a_cause_tagged_seed_mp105() -> None:
    e = explore(load_variant("baseline"), properties=[SUSPENSION_RECOVERABLE])
    found = causes(e, SUSPENSION_RECOVERABLE)
    seed = [c for c in found if c.faults == ["lost SR11.3 response"] and c.tag == "seed:MP105"]
    assert seed, [c.describe() for c in found]
    steps = _actions(e, seed[0])
    assert [getattr(s, "srv", None) for s in steps] == [None, "11.1", "11.3"]
    assert steps[0].listed is False and steps[2].lose_response
    # the CPL removal of a Commissioned device is the seeds' own fact: no assumption needed
    assert seed[0].assumptions == [] and seed[0].needs_assumptions == []
    # issue 19: the seeds' story is told first, before the shorter assumption story
    assert found[0] is seed[0]
    later = [c for c in found if c.assumptions]
    assert later and "cpl.relisting_restores" in {i.id for i in later[0].assumptions}
    ranks = [(bool(c.assumptions), len(c.actions)) for c in found]
    assert ranks == sorted(ranks)


def test_done_when_no_lost_message_cause_with_max_lost_0() -> None:
    e = explore(load_variant("baseline"), Bounds(max_lost=0), [SUSPENSION_RECOVERABLE])
    found = causes(e, SUSPENSION_RECOVERABLE, limit=10)
    assert found and all(not c.faults for c in found)


def test_causes_are_distinct_and_capped() -> None:
    e = explore(load_variant("baseline"), properties=[SUSPENSION_RECOVERABLE])
    found = causes(e, SUSPENSION_RECOVERABLE, limit=2)
    assert len(found) == 2
    assert len({c.ingredients for c in found}) == 2


def test_done_when_check_json_lists_causes_with_assumptions() -> None:
    report = cli_json(
        "check", "--variant", "baseline", "--property", SUSPENSION_RECOVERABLE, "--max-lost", "1"
    )
    esme = report["variants"][0]["properties"][0]["by_subject"]["ESME"]
    seed = [c for c in esme["causes"] if c["tag"] == "seed:MP105"]
    assert seed and seed[0]["faults"] == ["lost SR11.3 response"]
    assert seed[0]["assumptions"] == [] and seed[0]["needs_assumptions"] == []
    assert esme["causes"][0] is seed[0]
    for cause in esme["causes"]:
        for step in cause["steps"]:
            assert step["rule"]["id"] and step["rule"]["source"]
            assert "cpl" in step and "changes" in step
    quiet = cli_json(
        "check", "--variant", "baseline", "--property", SUSPENSION_RECOVERABLE, "--max-lost", "0"
    )
    subjects = quiet["variants"][0]["properties"][0]["by_subject"]
    assert all(not c["faults"] for s in subjects.values() for c in s["causes"])
    # the meters' verdict without a lost message is explained by the assumption it needs
    for meter in ("ESME", "GSME"):
        told = subjects[meter]
        assert told["verdict"] == "holds" or all(c["needs_assumptions"] for c in told["causes"])


def test_done_when_the_mp178_unjoin_names_the_join_validation() -> None:
    e = explore(load_variant("mp178"), properties=[UNJOIN_VALIDATED])
    told = story(e, UNJOIN_VALIDATED)
    assert told is not None
    rule = told["steps"][-1]["rule"]
    assert (rule["id"], rule["source"]) == ("joins.unjoin_requires_smi_join", "seed:MP178")
    run = cli_json("run", str(SCENARIOS / "mp178-story-mp178.json"))
    unjoins = [s for s in run["steps"] if s["step"].get("sr", "").startswith("8.8")]
    assert unjoins and all(s["rule"]["id"] == "joins.unjoin_requires_smi_join" for s in unjoins)


def test_done_when_check_text_shows_the_state_after_each_step_with_changes_marked() -> None:
    result = cli("check", "--variant", "baseline", "--property", SUSPENSION_RECOVERABLE)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "CPL {F2}*" in text  # the CPL removal, marked as changed
    assert "suspended* (prior commissioned*)" in text
    assert "device runs F2* ≠" in text  # the lost response: SMI and device disagree
    assert "rule cpl.relisting_restores [assumption]" in text


def test_run_text_shows_notes_rules_and_the_cpl() -> None:
    result = cli("run", str(SCENARIOS / "mp105-story-baseline.json"))
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "note: F1 withdrawn from the CPL" in text
    assert "rule suspended.exceptions[0] [seed:MP105]" in text
    assert "CPL {F2}*" in text


def test_the_report_story_shows_the_cpl_the_decisive_rule_and_every_cause() -> None:
    from smi_spec.report import story_html

    e = explore(load_variant("baseline"), properties=[SUSPENSION_RECOVERABLE])
    page = story_html(e, SUSPENSION_RECOVERABLE)
    assert "<strong>CPL:</strong> {F2} (changed by this step)" in page
    assert "cpl.relisting_restores" in page
    assert "Every distinct cause of this violation" in page
    assert page.count('<span class="tag">seed:MP105</span>') >= 1
    mp178 = explore(load_variant("mp178"), properties=[UNJOIN_VALIDATED])
    assert "joins.unjoin_requires_smi_join" in story_html(mp178, UNJOIN_VALIDATED)


@settings(max_examples=8, deadline=None)
@given(
    variant=st.sampled_from(["baseline", "mp105", "mp178"]),
    system=st.sampled_from([DEFAULT_SYSTEM, System("PPMID")]),
    max_lost=st.integers(0, 1),
    versions=st.integers(1, 2),
    limit=st.integers(1, 4),
)
def test_every_cause_is_a_real_counterexample_with_the_ingredients_it_claims(
    variant: str, system: System, max_lost: int, versions: int, limit: int
) -> None:
    """Each story, replayed on the live machines, ends where the explorer found no way back
    (or breaks the safety property on its last step), loses at most max_lost messages, and
    depends on exactly the ingredients its cause lists."""
    e = explore(load_variant(variant), Bounds(versions=versions, max_lost=max_lost), system=system)
    for p in e.properties:
        found = causes(e, p.id, limit)
        assert (p.verdict == "violated") == bool(found) and len(found) <= limit
        assert len({c.ingredients for c in found}) == len(found)
        for cause in found:
            if cause.actions and cause.actions[-1] < 0:
                continue  # suspended-gate's catalogue sweep
            setup_index, world = cause.start
            setup = e.universe.setups[setup_index]
            lost, claimed, broke = 0, set(), set()
            for a in cause.actions:
                action = e.universe.actions[a]
                after, outcome = dsp.step(setup, world, action, e.variant, LIVE)
                claimed |= set(faults_of(action))
                claimed |= {
                    rule_ingredient(r.id, r.source, r.text)
                    for r in applied_rules(setup, world, action, after, outcome, e.variant)
                    if "assumption" in r.source.split(",")
                }
                broke = {
                    v.property for v in violations(setup, e.variant, world, action, after, outcome)
                }
                lost += bool(faults_of(action) and list(faults_of(action)))
                world = after
            assert lost <= max_lost
            assert claimed == set(cause.ingredients)
            if p.id in e.recoverable:
                index = e.lookup(setup_index, world, lost)
                assert index is not None and not e.recoverable[p.id][index]
            else:
                assert p.id in broke
