"""Rebuild ``model/data/applicability.json``: the device types each SRV applies to, each with
the evidence that says so.

Run when the reference data changes:
    python scripts/import_applicability.py ../shared/reference

A type is in a row only with evidence, and each piece of evidence carries its own tag:

- ``duis``, a template: a DUIS reference template of that SRV is addressed to a device of
  that type. The Business Target is the RequestID's target, or for a Non-Device Request
  (addressed to the DCC) the body's ``DeviceID``/``DeviceIDList``. Which type a template
  device ID stands for is itself read from the templates (``TARGETS``, kept in the output
  with its evidence so a test can re-check it).
- ``duis``, a use case: a GBCS use case linked to the SRV names the type in its title
  ("CS08 Read PPMID/HCALCS Firmware Version"). A use case is linked to the SRVs of its own
  templates (file name ``USECASE_SRV_...``); only a use case with no template is linked by
  the mapping table's Service Reference, and then to every variant of it that its Eligible
  User Roles allow. A title that names a type its own templates never address (GCS13a
  "Read GSME Consumption Register", sent to the GPF) names the data, not the target, and
  is not used.
- ``seed:MP178`` and the like: a seed's own words (``SEEDS``).
- ``assumption``, with why: what the model needs where the reference data is silent
  (``ASSUMED``); never inferred from a code prefix.

The Eligible User Roles exclude a meter type when no role of its fuel may send the request
(``Import Tariff (Secondary Element)``, IS only: no gas meter); the row lists them, and a
type they exclude is never added by a use case linked through the mapping table.

A row's ``source`` is the tags of its types' evidence (``duis``, ``duis,assumption``, ...).
The reference data is from a later DUIS release than the seeds; the built-in variants
override rows where the seeds differ (``[applicability]`` in ``model/variants/*.toml``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

OUT = Path(__file__).resolve().parent.parent / "model" / "data" / "applicability.json"
ALL_TYPES = ["ESME", "GSME", "CHF", "GPF", "PPMID", "HCALCS", "IHD", "CAD"]
NS = "{http://www.dccinterface.co.uk/ServiceUserGateway}"
#: The DCC's own ID in the templates: a Non-Device Request's RequestID target.
DCC = "90-B3-D5-1F-30-00-00-02"

#: The device IDs of the templates and the type each stands for, with its evidence:
#: ``device_type_element`` (a body pairs the ID with a DeviceType element), ``bodies`` (a
#: Non-Device Request body named after the type lists the ID), ``use_cases`` (use cases
#: whose titles name the type only, and whose templates are addressed to the ID).
TARGETS: dict[str, dict[str, Any]] = {
    "00-DB-12-34-56-78-90-A0": {
        "device_type": "ESME",
        "source": "duis",
        "device_type_element": True,
        "use_cases": ["ECS01a", "ECS10", "ECS52"],
    },
    "00-DB-12-34-56-78-90-A1": {
        "device_type": "GSME",
        "source": "duis",
        "use_cases": ["GCS01a", "GCS07", "GCS38"],
    },
    "00-DB-12-34-56-78-90-A2": {
        "device_type": "CHF",
        "source": "duis",
        "use_cases": ["CCS01", "DBCH01", "ECS35c", "ECS26n"],
    },
    "00-DB-12-34-56-78-90-A3": {
        "device_type": "GPF",
        "source": "duis",
        "use_cases": ["GCS09", "GCS59"],
    },
    "00-DB-12-34-56-78-90-A4": {
        "device_type": "PPMID",
        "source": "duis",
        "bodies": ["UpdatePPMIDFirmware"],
        "use_cases": ["CS08"],
    },
    "00-DB-12-34-56-78-90-A5": {
        "device_type": "HCALCS",
        "source": "assumption",
        "why": "no template names its type: read as the HCALCS because its one template, "
        "CS03A2 Method A Join (non Meter), Critical, addresses a non-meter Type 1 device "
        "that is neither the CHF (A2), the GPF (A3) nor the PPMID (A4)",
    },
}
#: Device IDs whose type the reference data does not give: their templates are left out.
UNKNOWN_TARGETS = {
    "00-DB-12-34-56-78-90-A6": "ECS46d Set Auxiliary Controller Calendar, APC output: an "
    "Auxiliary Proportional Controller is no DUIS DeviceType (DUIS Schema V5.4)",
}

#: The types a use case title names (whole words).
TITLE_NAMES = {
    "ESME": ("ESME",),
    "GSME": ("GSME",),
    "CHF": ("CHF", "Comms Hub", "Communications Hub"),
    "GPF": ("GPF",),
    "PPMID": ("PPMID",),
    "HCALCS": ("HCALCS",),
}

#: The fuel of each Eligible User Role (DUIS matrix: IS import supplier, ES export
#: supplier, ED electricity distributor, GS gas supplier, GT gas transporter; RSA and OU
#: serve either fuel), and of each meter type.
ROLE_FUELS = {
    "IS": "electricity",
    "ES": "electricity",
    "ED": "electricity",
    "GS": "gas",
    "GT": "gas",
}
TYPE_FUELS = {"ESME": "electricity", "GSME": "gas", "GPF": "gas"}

#: Types a seed's own words put in a row.
SEEDS: dict[tuple[str, str], tuple[str, str]] = {
    ("8.7.2", "ESME"): (
        "seed:MP178",
        "MP178: 'if the Service User sends SR 8.7.2 again to the ESME then this will pass "
        "through the DSP'",
    ),
    ("8.8.2", "ESME"): (
        "seed:MP178",
        "MP178: the Unjoin (SR8.8.1 or SR8.8.2) of a join 'working within the ESME' is "
        "validated against the SMI join status",
    ),
}

_EVERY = "every device type the SMI holds"
#: Types the model needs where the reference data is silent (assumption, each with why).
ASSUMED: dict[str, tuple[list[str], str]] = {
    "8.1.1": (
        ALL_TYPES,
        f"Commission Device commissions {_EVERY}; the templates commission an ESME and a GSME",
    ),
    "8.11": (
        ALL_TYPES,
        "the model sends SR8.11 Update HAN Device Log for the device being "
        "added to the CHF's device log (DUIS targets the CHF), so it applies to every "
        "device type",
    ),
    "8.3": (
        ALL_TYPES,
        f"Decommission Device takes {_EVERY} out of service; the template decommissions an ESME",
    ),
    "8.2": (
        ALL_TYPES,
        f"Read Inventory reads the SMI entry of {_EVERY}; the template reads a CHF's",
    ),
    "8.4": (
        ALL_TYPES,
        f"Update Inventory changes the SMI entry of {_EVERY}; the template names an ESME",
    ),
    "12.2": (
        ALL_TYPES,
        "Device Pre-notification's DeviceType admits every type (DUIS "
        "Schema V5.4); the template pre-notifies an ESME",
    ),
    "8.8.1": (
        ["GSME", "HCALCS"],
        "an Unjoin undoes a Join: SR8.8.1 unjoins what SR8.7.1 "
        "joins (templates: ESME, GSME, HCALCS); its one template unjoins at an ESME",
    ),
    "8.9": (
        ["ESME", "PPMID", "HCALCS"],
        "CS07 Read Device Join Details reads the join "
        "details of a device that joins (SR8.7.x); the templates read a GSME's and the "
        "CHF's",
    ),
    "11.1": (
        ["GSME", "CHF"],
        "GBCS CS05b Distribute Firmware to ESME / GSME and CS05a to "
        "Communications Hub, linked to SR11.1 Update Firmware by name: the mapping "
        "table leaves their Service Reference as 'See GBCS'; the template updates an "
        "ESME",
    ),
    "11.3": (
        ["GSME"],
        "CS06 Activate Firmware names no device type; a GSME activates "
        "what SR11.1 delivers to it (CS05b), as the template's ESME does",
    ),
}
#: Non-Device Requests whose templates name no device: every type (assumption).
NO_DEVICE_WHY = "a Non-Device Request to the DCC whose template names no device"
NO_EVIDENCE_WHY = "no reference template, use case or seed names its device types"


def title_types(title: str) -> list[str]:
    """The device types a use case title names, in ``ALL_TYPES`` order."""
    return [
        t
        for t, names in TITLE_NAMES.items()
        if any(re.search(rf"(?<![A-Za-z]){re.escape(n)}(?![A-Za-z])", title) for n in names)
    ]


def role_excludes(roles: Iterable[str]) -> list[str]:
    """Meter types no Eligible User Role of the request may address (no role of its fuel,
    and no role that serves either fuel); none when the matrix gives no role."""
    roles = list(roles)
    if not roles or any(r not in ROLE_FUELS for r in roles):
        return []
    fuels = {ROLE_FUELS[r] for r in roles}
    return [t for t, fuel in TYPE_FUELS.items() if fuel not in fuels]


def use_case_of(name: str, codes: Iterable[str]) -> str | None:
    """The GBCS use case a template file name starts with (the longest code that its first
    part begins with: ``ECS25r1_6.2.10_...`` is ECS25r), if any."""
    head = re.split(r"_", name, maxsplit=1)[0]
    found = [c for c in codes if head.startswith(c)]
    return max(found, key=len) if found else None


def read_templates(reference: Path, codes: Iterable[str]) -> list[dict[str, Any]]:
    """Every request template: its SRV, RequestID target, body element, body device IDs,
    DeviceType elements, and the use case its file name starts with."""
    codes = list(codes)
    templates = []
    for path in sorted((reference / "duis-templates").glob("*.XML")):
        root = ElementTree.parse(path).getroot()
        if root.tag != f"{NS}Request":
            continue
        found = root.find(f"{NS}Body")
        body = next(iter(list(found)), None) if found is not None else None
        ids = [
            eui
            for e in root.iter()
            if e.tag in (f"{NS}DeviceID", f"{NS}DeviceIDList") and e.text
            for eui in e.text.split()
        ]
        types = [e.text.strip() for e in root.iter(f"{NS}DeviceType") if e.text]
        templates.append(
            {
                "name": path.name,
                "srv": root.findtext(f"{NS}Header/{NS}ServiceReferenceVariant", "").strip(),
                "target": root.findtext(f"{NS}Header/{NS}RequestID", "").split(":")[1],
                "body": body.tag.removeprefix(NS) if body is not None else "",
                "device_ids": ids,
                "device_types": types,
                "use_case": use_case_of(path.name, codes),
            }
        )
    return templates


def business_targets(template: dict[str, Any]) -> list[str]:
    """The device IDs a template is for: the RequestID's target, or for a Non-Device
    Request (addressed to the DCC) the body's device IDs."""
    return template["device_ids"] if template["target"] == DCC else [template["target"]]


def link_use_cases(
    templates: list[dict[str, Any]], mapping: list[dict[str, Any]], requests: list[dict[str, Any]]
) -> dict[str, dict[str, str]]:
    """SRV -> {use case: how the reference data links them}: by the use case's own
    templates, or (a use case with none) by the mapping table's Service Reference."""
    links: dict[str, dict[str, str]] = {}
    for t in templates:
        if t["use_case"]:
            links.setdefault(t["srv"], {})[t["use_case"]] = "template"
    templated = {t["use_case"] for t in templates}
    srvs = {r["srv"] for r in requests}
    by_reference: dict[str, list[str]] = {}
    for r in requests:
        by_reference.setdefault(r["service_reference"], []).append(r["srv"])
    for row in mapping:
        if row["Code"] in templated:
            continue
        for ref in (part.strip() for part in str(row["Service Reference"]).split(",")):
            for srv in [ref] if ref in srvs else by_reference.get(ref, []):
                links.setdefault(srv, {})[row["Code"]] = f"mapping table, Service Reference {ref}"
    return links


def template_evidence(srv: str, templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per template of ``srv`` addressed to a device whose type is known."""
    items = []
    for t in templates:
        for device in business_targets(t) if t["srv"] == srv else []:
            if device in TARGETS:
                item = {
                    "device_type": TARGETS[device]["device_type"],
                    "source": TARGETS[device]["source"],
                }
                item |= {"template": t["name"], "target": device}
                if "why" in TARGETS[device]:
                    item["why"] = (
                        f"template {t['name']}, addressed to {device}: {TARGETS[device]['why']}"
                    )
                items.append(item | ({"use_case": t["use_case"]} if t["use_case"] else {}))
    return items


def use_case_evidence(
    links: dict[str, str],
    titles: dict[str, list[str]],
    addressed: dict[str, set[str]],
    excluded: list[str],
) -> list[dict[str, Any]]:
    """One item per type a linked use case's title names, unless its own templates address
    none of the types its title names (the title then names the data, not the target), or
    the link is the mapping table's and the Eligible User Roles exclude the type."""
    items = []
    for code, how in sorted(links.items()):
        named = sorted(
            {t for title in titles[code] for t in title_types(title)}, key=ALL_TYPES.index
        )
        if addressed.get(code) and not addressed[code] & set(named):
            continue
        for device_type in named:
            if how != "template" and device_type in excluded:
                continue
            items.append(
                {
                    "device_type": device_type,
                    "source": "duis",
                    "use_case": code,
                    "title": titles[code][0],
                    "link": how,
                }
            )
    return items


def row_for(
    request: dict[str, Any], roles: list[str], evidence: list[dict[str, Any]], has_templates: bool
) -> dict[str, Any]:
    """The row of one SRV from its evidence (seeds and assumptions added here)."""
    srv = request["srv"]
    excluded = role_excludes(roles)
    have = {e["device_type"] for e in evidence}
    for (seed_srv, device_type), (tag, words) in SEEDS.items():
        if seed_srv == srv:
            evidence.append({"device_type": device_type, "source": tag, "why": words})
    assumed_types, why = ASSUMED.get(srv, ([], ""))
    if not evidence and not assumed_types:
        assumed_types = ALL_TYPES
        why = NO_DEVICE_WHY if has_templates and request["non_device"] else NO_EVIDENCE_WHY
    have = {e["device_type"] for e in evidence}
    for device_type in assumed_types:
        if device_type not in have and device_type not in excluded:
            evidence.append({"device_type": device_type, "source": "assumption", "why": why})
    types = sorted({e["device_type"] for e in evidence}, key=ALL_TYPES.index)
    order = ["seed:MP105", "seed:MP178", "duis", "assumption"]
    best = {
        t: min(order.index(e["source"]) for e in evidence if e["device_type"] == t) for t in types
    }
    return {
        "srv": srv,
        "device_types": types,
        "source": ",".join(order[i] for i in sorted(set(best.values()))),
        "why": summary(types, best, evidence, order),
        "roles": roles,
        "excluded_by_roles": excluded,
        "evidence": grouped(types, evidence),
    }


def grouped(types: list[str], evidence: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each type's evidence, one entry per source and reason: the templates addressed to a
    device of the type, the use cases whose titles name it, or the words that put it there."""
    result: dict[str, list[dict[str, Any]]] = {}
    for t in types:
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        for e in (e for e in evidence if e["device_type"] == t):
            entry = entries.setdefault((e["source"], e.get("why", "")), {"source": e["source"]})
            if "template" in e:
                entry.setdefault("templates", []).append(e["template"])
            elif "use_case" in e:
                entry.setdefault("titles", []).append(e["use_case"])
            if e.get("why"):
                entry["why"] = e["why"]
        result[t] = list(entries.values())
    return result


def summary(
    types: list[str], best: dict[str, int], evidence: list[dict[str, Any]], order: list[str]
) -> str:
    """One line for a reviewer: each type with what shows it; assumed types with why."""
    parts, assumed = [], [t for t in types if order[best[t]] == "assumption"]
    for t in types:
        if t in assumed:
            continue
        shown = []
        for e in evidence:
            if e["device_type"] == t and order.index(e["source"]) == best[t]:
                shown.append(e.get("use_case") or e.get("template") or e["source"])
        parts.append(f"{t}: " + ", ".join(dict.fromkeys(shown)))
    whys: dict[str, list[str]] = {}
    for t in assumed:
        why = next(
            e["why"] for e in evidence if e["device_type"] == t and e["source"] == "assumption"
        )
        whys.setdefault(why, []).append(t)
    parts += [f"{', '.join(ts)} (assumption): {why}" for why, ts in whys.items()]
    text = "; ".join(parts)
    return text


def build(reference: Path, requests: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole document, from the reference data and the catalogue's requests."""
    matrix = {
        r["Service Reference Variant"]: r for r in read_json(reference / "duis-request-matrix.json")
    }
    mapping = read_json(reference / "gbcs-mapping-table.json")
    titles: dict[str, list[str]] = {}
    for row in mapping:
        titles.setdefault(row["Code"], []).append(row["Use Case Title"])
    templates = read_templates(reference, titles)
    addressed: dict[str, set[str]] = {}
    for t in templates:
        for device in business_targets(t):
            if t["use_case"] and device in TARGETS:
                addressed.setdefault(t["use_case"], set()).add(TARGETS[device]["device_type"])
    links = link_use_cases(templates, mapping, requests)
    rows = []
    for request in requests:
        srv, roles = request["srv"], list(matrix[request["srv"]]["Eligible User Roles"])
        evidence = template_evidence(srv, templates)
        evidence += use_case_evidence(links.get(srv, {}), titles, addressed, role_excludes(roles))
        has_templates = any(t["srv"] == srv for t in templates)
        rows.append(row_for(request, roles, evidence, has_templates))
    return {
        "about": "Device types each DUIS Service Reference Variant applies to, each with its "
        "evidence: the DUIS reference templates addressed to a device of the type (and which "
        "type each template device ID stands for: targets), the GBCS use cases whose titles "
        "name it, the seeds, or an assumption with why; read from SmartDCCInnovation/"
        "duis-templates and duis-parser (GPL-3.0) by scripts/import_applicability.py.",
        "targets": {eui: dict(facts) for eui, facts in TARGETS.items()},
        "unknown_targets": UNKNOWN_TARGETS,
        "requests": rows,
    }


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: import_applicability.py PATH/TO/shared/reference", file=sys.stderr)
        return 2
    requests = read_json(OUT.parent / "catalogue.json")["requests"]
    document = build(Path(argv[1]), requests)
    OUT.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote applicability of {len(document['requests'])} service reference variants to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
