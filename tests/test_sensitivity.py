"""Assumption sensitivity (issue 19, checker/sensitivity.py): each assumption-tagged rule
with an alternative, flipped alone, and the verdicts that change."""

from __future__ import annotations

import re

from checker.explorer import Bounds
from checker.sensitivity import flips, hinging, sensitivity, verdicts
from model.variant import load_variant
from tests.conftest import ROOT, cli, cli_json


def test_every_flip_changes_exactly_one_assumption_tagged_rule() -> None:
    baseline = load_variant("baseline")
    found = flips(baseline)
    rules = [f.rule for f in found]
    assert len(rules) == len(set(rules))
    assert {"cpl.relisting_restores", "joins.reconcile_smi_from_8_9"} <= set(rules)
    assert "e5.commissioned.admits" in rules
    # a seed's rule is never flipped: the Suspended row's SR11.1 decision is seed:MP105
    assert "suspended.non_device[0]" not in rules
    for flip in found:
        assert flip.was != flip.now
        assert flip.variant != baseline


def test_a_flip_that_matters_is_reported_and_one_that_does_not_is_not() -> None:
    """Flipping relisting_restores must change the PPMID verdicts (its only way out of
    Suspended is the re-listing); a wrong flip (one that left the variant as it was) would
    report no change."""
    baseline = load_variant("baseline")
    base, flipped = sensitivity(baseline, Bounds(max_lost=0))
    by_rule = {flip.rule: changes for flip, changes in flipped}
    changed = {(c.property, c.subject) for c in by_rule["cpl.relisting_restores"]}
    assert ("firmware-recoverable", "PPMID") in changed
    relisting = next(f for f, _ in flipped if f.rule == "cpl.relisting_restores")
    again = verdicts(relisting.variant, Bounds(max_lost=0))
    assert (
        again[("firmware-recoverable", "PPMID")]
        == "holds"
        != base[("firmware-recoverable", "PPMID")]
    )
    steady, hinges = hinging(base, flipped)
    assert ("firmware-recoverable", "PPMID") in hinges and not set(steady) & set(hinges)


def test_done_when_the_seeds_meter_verdict_holds_whatever_was_assumed() -> None:
    data = cli_json("check", "--sensitivity", "--variant", "baseline")
    (variant,) = data["variants"]
    steady = {(r["property"], r["subject"]) for r in variant["hold_whatever_assumed"]}
    assert ("suspension-recoverable", "ESME") in steady
    hinge = {(r["property"], r["subject"]): r["assumptions"] for r in variant["hinge_on"]}
    assert hinge[("join-recoverable", "ESME-CAD")] == ["joins.reconcile_smi_from_8_9"]


def test_the_reviewer_doc_example_runs() -> None:
    doc = (ROOT / "docs" / "reviewer.md").read_text(encoding="utf-8")
    block = doc.split("$ smi-spec check --sensitivity --variant baseline\n", 1)[1]
    shown, rest = block.split("$ echo $?\n", 1)
    done = cli("check", "--sensitivity", "--variant", "baseline")
    assert str(done.returncode) == rest.splitlines()[0]
    out = re.sub(r"\s+", " ", done.stdout)
    for line in shown.strip().splitlines():
        assert re.sub(r"\s+", " ", line.strip()) in out, line
