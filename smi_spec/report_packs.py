"""The report's test-pack section: per variant, the coverage table of the pack
``smi-spec testpack`` would write, and each case told as a story.

The cases are ``checker.testpack``'s (the same search, the same greedy cover); their
steps are told by ``checker.narrate.tell`` and drawn by the report's own story lanes
(passed in as ``step_view``, so this module does not import the report).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from checker import testpack
from checker.narrate import action_label, describe_start, tell
from model.variant import Variant

StepView = Callable[[dict[str, Any], str | None], dict[str, Any]]


def pack_data(v: Variant, step_view: StepView) -> dict[str, Any]:
    """The pack's coverage by table, and its cases with their steps."""
    searches = testpack.search_all(v)
    cases = testpack.coverage_cases(searches)
    covered = frozenset().union(*(c.covers for c in cases))
    names = {case: f"case-{n:03d}" for n, case in enumerate(cases, 1)}
    tables: dict[str, dict[str, Any]] = {}
    for row in testpack.all_rows(v):
        entry = tables.setdefault(row["table"] or row["kind"], {"rows": 0, "exercised": 0})
        entry["rows"] += 1
        entry["exercised"] += row["id"] in covered
    rows = testpack.all_rows(v)
    return {
        "command": f"smi-spec testpack --variant {v.id} --out DIR",
        "tables": sorted(tables.items()),
        "covered": sum(r["id"] in covered for r in rows),
        "rows": len(rows),
        "cases": [_case(v, searches[c.system_index], c, names[c], step_view) for c in cases],
    }


def _case(
    v: Variant, search: testpack.Search, case: testpack.Case, name: str, step_view: StepView
) -> dict[str, Any]:
    setup_index, world = search.universe.starts[case.start_index]
    setup = search.universe.setups[setup_index]
    told = tell(testpack.exploration_of(v, search), setup, world, case.actions, None)
    labels = [action_label(setup, search.universe.actions[a]) for a in case.actions]
    return {
        "name": name,
        "anchor": f"pack-{name}",
        "system": case.system.describe(),
        "purpose": case.purpose,
        "start": describe_start(setup, world),
        "steps": [step_view(s, label) for s, label in zip(told, labels, strict=True)],
    }
