"""A test pack on disk: an index a harness runs, the DUIS files, a README and a manifest.

The cases are ``checker.testpack``'s; each is told step by step by the narration the
counterexamples use (``checker.narrate.tell``, on the live machines). Every Service
Request step gets a request file in the shape of the DCC's reference template for its SRV
(``model.duis_write``) and, unless its response is lost, the response the DSP must give.
Nothing in a pack depends on the clock, the host or the order of a hash: the same variant,
bounds and reference templates give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from checker import testpack
from checker.explorer import DEFAULT_BOUNDS, Bounds
from checker.narrate import describe_start, tell
from model.catalogue import lookup
from model.device_types import device_types
from model.dsp import step
from model.duis import RequestId, parse_request
from model.duis_write import (
    ORIGINATOR,
    eui64,
    request_xml,
    response_code,
    response_xml,
    template_for,
    templates,
)
from model.machines import LIVE
from model.rulebook import table_rules
from model.variant import Variant
from model.world import Request, Setup, World

#: Version of the pack's layout (index records, manifest keys): docs/formats.md.
PACK_FORMAT = 1
INDEX = "index.jsonl"
MANIFEST = "manifest.json"
README = "README.md"


@dataclass
class Pack:
    """A pack in memory: file name -> bytes, and what the command prints."""

    files: dict[str, bytes] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)


def fingerprint(variant: Variant) -> str:
    """The variant's rules and expectations, hashed: equal for equal rules, whatever the
    file's path or the process (``Variant.fingerprint`` holds a path and unordered sets)."""
    text = json.dumps([table_rules(variant), variant.expect], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def build(
    variant: Variant,
    reference: Path,
    limit: int | None = None,
    property_id: str | None = None,
    bounds: Bounds = DEFAULT_BOUNDS,
) -> Pack:
    """The whole pack for ``variant`` (or, with ``property_id``, the cases about it)."""
    searches = testpack.search_all(variant, bounds)
    if property_id is None:
        cases = testpack.coverage_cases(searches, limit)
    else:
        cases = testpack.property_cases(variant, searches, property_id)[:limit]
    pack = Pack()
    for number, case in enumerate(cases, 1):
        record = _case(variant, reference, searches[case.system_index], case, number, pack)
        pack.cases.append(record)
    covered = frozenset().union(*(c.covers for c in cases))
    pack.manifest = _manifest(variant, bounds, reference, searches, pack.cases, covered)
    pack.manifest["property"] = property_id
    index = "".join(json.dumps(c, sort_keys=True) + "\n" for c in pack.cases)
    pack.files[INDEX] = index.encode()
    pack.files[MANIFEST] = (json.dumps(pack.manifest, indent=1, sort_keys=True) + "\n").encode()
    pack.files[README] = readme(pack.manifest, pack.cases).encode()
    return pack


def _inventory(setup: Setup, world: World) -> dict[str, Any]:
    kinds = list(device_types())
    return {
        "cpl": sorted(world.cpl),
        "devices": [
            {
                "id": spec.id,
                "type": spec.type,
                "smets": spec.smets,
                "compliant": spec.compliant,
                "status": state.status,
                "firmware": state.firmware,
                "eui64": eui64(kinds.index(spec.type) + 1, n + 1),
            }
            for n, (spec, state) in enumerate(zip(setup.devices, world.devices, strict=True))
        ],
        "pairs": [
            {"target": setup.devices[p.target].id, "other": setup.devices[p.other].id}
            for p in setup.pairs
        ],
    }


def _case(
    variant: Variant,
    reference: Path,
    search: testpack.Search,
    case: testpack.Case,
    number: int,
    pack: Pack,
) -> dict[str, Any]:
    """One case's index record; its XML files go into ``pack.files``."""
    name = f"case-{number:03d}"
    setup_index, world = search.universe.starts[case.start_index]
    setup = search.universe.setups[setup_index]
    exploration = testpack.exploration_of(variant, search)
    told = tell(exploration, setup, world, case.actions, None)
    start = describe_start(setup, world)
    inventory = _inventory(setup, world)
    euis = {d["id"]: d["eui64"] for d in inventory["devices"]}
    steps = []
    for n, (a, said) in enumerate(zip(case.actions, told, strict=True), 1):
        action = search.universe.actions[a]
        record: dict[str, Any] = {
            "step": n,
            "actor": said["actor"],
            "action": said["action"],
            "text": said["text"],
            "lose_response": isinstance(action, Request) and action.lose_response,
            "lose_alert": isinstance(action, Request) and action.lose_alert,
            "request": None,
            "response": None,
            "expected": _expected(said),
        }
        if isinstance(action, Request):
            counter = number * 1000 + n
            prefix = f"cases/{name}/{n:02d}-sr{action.srv}"
            request, response = _messages(variant, reference, setup, world, action, euis, counter)
            pack.files[f"{prefix}-request.xml"] = request
            record["request"] = f"{prefix}-request.xml"
            if response is not None:
                pack.files[f"{prefix}-response.xml"] = response
                record["response"] = f"{prefix}-response.xml"
        steps.append(record)
        world, _ = step(setup, world, action, variant, LIVE)
    return {
        "case": name,
        "system": case.system.describe(),
        "purpose": case.purpose,
        "covers": sorted(case.covers),
        "start": start,
        "inventory": inventory,
        "steps": steps,
    }


def _expected(said: dict[str, Any]) -> dict[str, Any]:
    code = said["response_code"]
    return {
        "accepted": said["accepted"],
        "response_code": code,
        "duis_response_code": None if code is None else response_code(code),
        "forwarded": said.get("forwarded"),
        "alerts": said.get("alerts", []),
        "rule": said["rule"],
        "cpl": said["cpl"],
        "devices": said["devices"],
        "joins": said["joins"],
    }


def _messages(
    variant: Variant,
    reference: Path,
    setup: Setup,
    world: World,
    action: Request,
    euis: dict[str, str],
    counter: int,
) -> tuple[bytes, bytes | None]:
    """The request file and (unless lost) the response file of one step.

    The request carries its template's Command Variant (what DUIS allows for the SRV) when
    the DSP decides the same with it as with the explored one; else the explored one."""
    template = template_for(reference, action.srv)
    entry = lookup(action.srv)
    target = euis[setup.devices[action.target].id]
    other = None if action.other is None else euis[setup.devices[action.other].id]
    shaped = parse_request(template.data, template.name)
    addressed = shaped.request_id.target if entry.non_device else target
    request_id = RequestId(ORIGINATOR, addressed, counter)
    cv = shaped.command_variant
    explored = step(setup, world, action, variant, LIVE)
    if step(setup, world, replace(action, command_variant=cv), variant, LIVE) != explored:
        cv = action.command_variant
    request = request_xml(template, request_id, cv, target, other, action.image)
    code = explored[1].response_code
    if code is None:
        return request, None
    return request, response_xml(request_id, code, action.srv)


def _manifest(
    variant: Variant,
    bounds: Bounds,
    reference: Path,
    searches: list[testpack.Search],
    cases: list[dict[str, Any]],
    covered: frozenset[str],
) -> dict[str, Any]:
    rows = testpack.all_rows(variant)
    by_row: dict[str, list[str]] = {}
    for c in cases:
        for rule_id in c["covers"]:
            by_row.setdefault(rule_id, []).append(c["case"])
    unreached = testpack.unreached(variant, searches, covered)
    sent = sorted({s for c in cases for st in c["steps"] if (s := st["action"].get("sr"))})
    return {
        "format": PACK_FORMAT,
        "generator": "smi-spec testpack",
        "variant": {"id": variant.id, "title": variant.title, "fingerprint": fingerprint(variant)},
        "bounds": asdict(bounds),
        "systems": [s.system.describe() for s in searches],
        "states": sum(s.states for s in searches),
        "cases": len(cases),
        "steps": sum(len(c["steps"]) for c in cases),
        "coverage": {
            "rows": len(rows),
            "covered": sum(r["id"] in covered for r in rows),
            "table": [{**r, "cases": by_row.get(r["id"], [])} for r in rows],
            "unreached": unreached,
        },
        "templates": {srv: templates(reference)[srv].name for srv in sent},
        "licence": "the request files are built from the DCC Reference Test Data Set "
        "templates (SmartDCCInnovation/duis-templates, GPL-3.0): a pack is a derived work",
    }


def readme(manifest: dict[str, Any], cases: list[dict[str, Any]]) -> str:
    """The pack's README: what it covers and how to run it."""
    v, cov = manifest["variant"], manifest["coverage"]
    lines = [
        f"# Test pack: {v['id']} ({v['title']})",
        "",
        f"Written by `smi-spec testpack`. Variant fingerprint `{v['fingerprint']}`; bounds "
        f"{json.dumps(manifest['bounds'], sort_keys=True)}; systems: "
        f"{'; '.join(manifest['systems'])}.",
        "",
        f"{manifest['cases']} cases, {manifest['steps']} steps. They exercise {cov['covered']} of "
        f"the {cov['rows']} rule-table rows and machine transitions; the "
        f"{len(cov['unreached'])} others are listed below with why.",
        "",
        "Run it against a system under test: `smi-spec conform DIR --adapter MODULE:FUNCTION`.",
        f"`{INDEX}` holds one case a line (start inventory, then each step's request and "
        "response files, expected codes, DCC alerts and SMI state); `manifest.json` the "
        'variant, bounds and coverage (docs/formats.md, "Test packs").',
        "",
        manifest["licence"] + ".",
        "",
        "## Cases",
        "",
        "| case | system | steps | purpose |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {c['case']} | {c['system']} | {len(c['steps'])} | {_cell(c['purpose'])} |"
        for c in cases
    ]
    lines += ["", "## Not exercised", "", "| row | why |", "|---|---|"]
    lines += [f"| {_cell(u['id'])} | {_cell(u['why'])} |" for u in cov["unreached"]]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
