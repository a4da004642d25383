"""The JSON Schema of a variant file (docs/variant.schema.json), for editors: taplo and VS
Code's Even Better TOML complete and check a variant's keys with it (docs/spec-author.md).

It is generated from what the loader knows, so the two cannot drift apart: the tables and
their keys (model/variant_file.py ``SCHEMA``, ``TOP``), the keys of each row table
(model/variant_rows.py ``ROW_KEYS``, model/variant_admission.py, model/variant_firmware.py,
model/variant_row_checks.py), the SMI status names, the property ids and the provenance
tags. The loader still has the last word: the schema cannot know, for one, that an SRV is in
the DUIS catalogue. Draft-07, with only the keywords of draft 4, which is what taplo reads
(taplo.tamasfe.dev, "Developing Schemas")::

    python -m model.variant_schema > docs/variant.schema.json
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from model.messages import DOES, OTHER_DEVICES
from model.property_ids import PROPERTY_IDS, VERDICTS
from model.provenance import TAGS
from model.rule_tables import ACTOR_EVENTS, ADMITS, CHECKS, CLEARABLE, CRITICAL_LIFE_CYCLE
from model.status_chart import OPERATIONAL, STATUSES, status_events
from model.variant import ID_PATTERN
from model.variant_admission import APPLICABILITY_ROW_KEYS, E5_ROW_KEYS
from model.variant_file import SCHEMA, SOURCED, TOP
from model.variant_firmware import GENERATIONS, ROUTE_KEYS, UPDATE_RULE_KEYS
from model.variant_row_checks import EXEMPTION_KEYS, NON_DEVICE_KEYS
from model.variant_rows import PIPELINE_KEYS, ROW_KEYS

Schema = dict[str, Any]

DRAFT: Final = "http://json-schema.org/draft-07/schema#"
_JSON_TYPES: Final[dict[type, str]] = {
    bool: "boolean",
    str: "string",
    list: "array",
    int: "integer",
    dict: "object",
    dt.date: "string",  # a TOML date; editors show it as a string
}
#: What each table is for, shown by an editor (docs/formats.md has the whole story).
TABLE_DOCS: Final = {
    "suspended": "Check E5 for a Suspended device (DP105): what it admits, its exceptions.",
    "e5": "Check E5 for every other SMI status, one row [e5.STATUS] each.",
    "applicability": 'Which device types a request applies to, one row [applicability."SRV"].',
    "firmware": "Each device type's firmware route, and which messages update the SMI.",
    "cpl": "What a CPL change does to the SMI status.",
    "joins": "How the DSP validates an Unjoin.",
    "pipeline": "The DSP's checks, in order.",
    "roles": "Eligible User Roles over the catalogue's, one row per request.",
    "messages": "What each request does beyond its status effect and firmware route.",
    "cascades": "What a status chart event does to the device's joins.",
    "device_types": "Device types the variant declares.",
    "alerts": "Device alerts the variant declares.",
    "events": "Rules attached to events among Service Users.",
    "requests": "Service Requests the variant declares, not in the DUIS catalogue.",
    "expect": "The verdict the variant expects for each property (never inherited).",
}


def _typed(expected: type | tuple[type, ...]) -> Schema:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    names = list(dict.fromkeys(_JSON_TYPES[k] for k in kinds))
    return {"type": names[0] if len(names) == 1 else names}


def _enum(values: Iterable[object]) -> Schema:
    return {"enum": list(values)}


def _list_of(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def _ref(name: str) -> Schema:
    """A schema written once, under ``definitions``, and used wherever it is named."""
    return {"$ref": f"#/definitions/{name}"}


def tags() -> Schema:
    return _ref("tags")


def _tags() -> Schema:
    """One provenance tag or several, comma-separated (``check_tags``)."""
    one = "(" + "|".join(t.replace(".", "\\.") for t in TAGS) + ")"
    return {"type": "string", "pattern": f"^\\s*{one}\\s*(,\\s*{one}\\s*)*$"}


def _row(keys: Mapping[str, type] | Iterable[str], **special: Schema) -> Schema:
    """A table of exactly these keys, each of its type unless ``special`` says more."""
    typed = keys if isinstance(keys, Mapping) else dict.fromkeys(keys, str)
    properties = {
        key: special.get(key) or (tags() if key == "source" else _typed(kind))
        for key, kind in typed.items()
    }
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _sourced(schema: Schema) -> Schema:
    """The key, or the key written with its own source: ``{ value, source, why }``."""
    own = _row(dict.fromkeys(sorted(SOURCED, reverse=True), str), value=schema)
    own["required"] = ["value", "source"]
    return {"anyOf": [schema, own]}


def _definitions() -> dict[str, Schema]:
    """The schemas used in many places: a provenance tag list, check E5's lists and rows,
    a firmware route."""
    exemptions, non_device = _ref("exemptions"), _ref("non_device")
    route_keys = dict.fromkeys(ROUTE_KEYS, str) | {"report_failure": bool}
    route = _row(route_keys)
    route["properties"].update(dict.fromkeys(GENERATIONS, _row(route_keys)))
    return {
        "tags": _tags(),
        "exemptions": _list_of(_row(EXEMPTION_KEYS, smets=_enum((1, 2)))),
        "non_device": _list_of(_row(NON_DEVICE_KEYS)),
        "e5_row": _row(
            dict.fromkeys(sorted(E5_ROW_KEYS), str),
            admits=_enum(ADMITS),
            exceptions=exemptions,
            deny=exemptions,
            non_device=non_device,
        ),
        "route": route,
    }


def _check_e5_rows() -> dict[str, Schema]:
    exemptions, non_device, row = _ref("exemptions"), _ref("non_device"), _ref("e5_row")
    return {
        "suspended": {
            "critical_life_cycle": _enum(CRITICAL_LIFE_CYCLE),
            "exceptions": exemptions,
            "deny": exemptions,
            "non_device": non_device,
        },
        "e5": {status: row for status in STATUSES if status != "suspended"},
    }


def _firmware_keys() -> Schema:
    rule = _row(
        UPDATE_RULE_KEYS,
        statuses=_list_of(_enum(STATUSES)),
        device_types=_list_of({"type": "string"}),
    )
    return {
        "update_smi_on": _list_of({"anyOf": [{"type": "string"}, rule]}),
        "routes": {"type": "object", "additionalProperties": _ref("route")},
    }


def _keys_of_tables() -> dict[str, Schema]:
    """table -> key -> what the loader knows of that key beyond its type."""
    check_e5 = _check_e5_rows()
    return {
        "suspended": check_e5["suspended"],
        "e5": check_e5["e5"],
        "firmware": _firmware_keys(),
        "cpl": {
            "removal_suspends": _list_of(_enum(OPERATIONAL)),
            "reasons": {"type": "object", "additionalProperties": _row(ROW_KEYS["cpl.reasons"])},
        },
        "pipeline": {"checks": _list_of(_row(PIPELINE_KEYS, check=_enum(CHECKS)))},
        "cascades": dict.fromkeys(status_events(), _row(ROW_KEYS["cascades"])),
        "events": dict.fromkeys(
            ACTOR_EVENTS, _row(ROW_KEYS["events"], clears=_list_of(_enum(CLEARABLE)))
        ),
    }


#: Row tables whose rows are named by the variant (an SRV, a device type, an alert).
_OPEN_ROWS: Final = {
    "applicability": _row(
        APPLICABILITY_ROW_KEYS,
        device_types=_list_of({"type": "string"}),
        add_device_types=_list_of({"type": "string"}),
    ),
    "roles": _row(ROW_KEYS["roles"]),
    "messages": _row(ROW_KEYS["messages"], does=_enum(DOES), other_devices=_enum(OTHER_DEVICES)),
    "device_types": _row(ROW_KEYS["device_types"]),
    "alerts": _row(ROW_KEYS["alerts"]),
    "requests": _row(ROW_KEYS["requests"]),
}


def _table(name: str, known: Mapping[str, Schema]) -> Schema:
    """One table of ``SCHEMA``: its keys (each may carry its own source), its rows."""
    properties: dict[str, Schema] = {}
    for key, kind in SCHEMA[name].items():
        if key == "*":
            continue
        plain = known.get(key) or (tags() if key == "source" else _typed(kind))
        properties[key] = plain if kind is dict else _sourced(plain)
    for row, schema in known.items():
        properties.setdefault(row, schema)
    table: Schema = {"type": "object", "description": TABLE_DOCS[name], "properties": properties}
    table["additionalProperties"] = _OPEN_ROWS.get(name, False)
    return table


def _expect() -> Schema:
    verdict = _enum(VERDICTS)
    per_subject = {
        "type": "object",
        "properties": {"because": {"type": "string"}},
        "additionalProperties": verdict,
    }
    return {
        "type": "object",
        "description": TABLE_DOCS["expect"],
        "properties": {p: {"anyOf": [verdict, per_subject]} for p in PROPERTY_IDS},
        "additionalProperties": False,
    }


def variant_schema() -> Schema:
    """The JSON Schema of a variant file."""
    properties: dict[str, Schema] = {key: _typed(kind) for key, kind in TOP.items()}
    properties["id"] = {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"}
    properties["sources"] = _list_of(_enum(TAGS))
    known = _keys_of_tables()
    properties.update({name: _table(name, known.get(name, {})) for name in SCHEMA})
    properties["expect"] = _expect()
    return {
        "$schema": DRAFT,
        "title": "smi-spec variant file",
        "description": "A rule variant of the DCC DSP's SMI rules (docs/formats.md).",
        "type": "object",
        "properties": properties,
        "required": ["id"],
        "additionalProperties": False,
        "definitions": _definitions(),
    }


def schema_text() -> str:
    """The schema as docs/variant.schema.json holds it."""
    return json.dumps(variant_schema(), indent=2) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
