"""A variant's firmware rules (docs/formats.md, ``[firmware]``): each device type's route
(``[firmware.routes.TYPE]``), the messages that update the SMI firmware version
(``update_smi_on``), and the warnings for routes, rules and rows that can never fire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from model.catalogue import normalise_srv
from model.messages import srvs_doing
from model.rule_tables import (
    FirmwareRoute,
    RoleRow,
    UpdateRule,
    report_alert,
)
from model.status_chart import STATUSES
from model.variant_file import check_tags, type_name
from model.variant_row_checks import Rows, is_device_type

#: The keys of a firmware route row (``[firmware.routes.TYPE]``, its ``smets1``/``smets2``).
ROUTE_KEYS: Final = ("deliver", "activate", "report", "report_failure", "source", "why")
#: The rows of a route for one SMETS generation.
GENERATIONS: Final = ("smets1", "smets2")
#: The keys of an ``update_smi_on`` entry written as a table, and their types.
UPDATE_RULE_KEYS: Final = {
    "message": str,
    "statuses": list,
    "device_types": list,
    "outcome": str,
    "source": str,
}


def firmware_routes(rows: Rows) -> dict[str, FirmwareRoute]:
    table = rows.m.tables.get("firmware", {}).get("routes", {})
    result = {}
    for device_type, raw in table.items():
        where = rows.file_of(f"firmware.routes.{device_type}")
        firmware_types = [t for t, facts in rows.types.items() if facts.smi_firmware]
        if device_type not in firmware_types:
            raise where.error(
                "firmware.routes",
                device_type,
                "routes are for device types the SMI keeps a firmware version for "
                f"({', '.join(firmware_types)})",
            )
        if not isinstance(raw, dict):
            raise where.error("firmware.routes", device_type, "must be a table")
        generations = GENERATIONS
        by_smets = tuple(
            (int(key.removeprefix("smets")), route_row(rows, f"{device_type}.{key}", raw[key]))
            for key in generations
            if key in raw
        )
        route = route_row(rows, device_type, {k: v for k, v in raw.items() if k not in generations})
        result[device_type] = replace(route, by_smets=by_smets)
        if route.exists or any(r.exists for _, r in by_smets):
            rows.routed.add(device_type)
    return result


def route_row(rows: Rows, row: str, raw: Any) -> FirmwareRoute:
    """One route row (``[firmware.routes.TYPE]``, or its ``smets1``/``smets2`` row)."""
    device_type = row.split(".")[0]
    where = rows.file_of(f"firmware.routes.{device_type}")
    name = f"firmware.routes.{row}"
    if not isinstance(raw, dict):
        raise where.error("firmware.routes", row, "must be a table")
    known = ROUTE_KEYS
    for key, value in raw.items():
        if key not in known:
            raise where.error(name, key, f"unknown key (known: {', '.join(known)})")
        if not isinstance(value, bool if key == "report_failure" else str):
            raise where.error(
                name, key, "must be " + type_name(type(True if key == "report_failure" else ""))
            )
    deliver = raw.get("deliver") and rows.srv(raw["deliver"], where, name, "deliver", None)
    activate = raw.get("activate") and rows.srv(raw["activate"], where, name, "activate", None)
    if bool(deliver) != bool(activate):
        raise where.error(name, "deliver", "a route names both deliver and activate, or neither")
    report = raw.get("report", "response")
    if report != "response" and report_alert(report) not in rows.alerts:
        raise where.error(
            name,
            "report",
            'must be "response", "alert:CODE" or "dcc-alert:NAME" with a known alert '
            f"({', '.join(rows.alerts)})",
        )
    for srv in (deliver, activate):
        if srv and not rows.applies(srv, device_type):
            rows.warnings.append(
                f"{where.where(name, 'deliver' if srv == deliver else 'activate')}: "
                f"SR{srv} does not apply to {device_type}: this route can never run"
            )
    source = rows.source(raw, rows.m.key_sources.get("firmware.routes", "assumption"), where, name)
    return FirmwareRoute(
        device_type,
        deliver or None,
        activate or None,
        report,
        source,
        str(raw.get("why", "")),
        bool(raw.get("report_failure", False)),
    )


def update_smi_on_rules(rows: Rows, routes: Mapping[str, FirmwareRoute]) -> tuple[UpdateRule, ...]:
    table = rows.m.tables["firmware"]
    where = rows.where
    if "update_smi_on" not in table:
        raise where.error(
            "firmware", "update_smi_on", "missing (and not inherited through extends)"
        )
    default_source = rows.m.key_sources.get("firmware.update_smi_on", "assumption")
    result = []
    for index, entry in enumerate(table["update_smi_on"]):
        if isinstance(entry, str):
            entry = {"message": entry}
        keys = UPDATE_RULE_KEYS
        entry = rows.entry(
            entry,
            keys,
            where,
            "firmware",
            "update_smi_on",
            index,
            '"11.2:with-version" or { message = "11.2:with-version", statuses = ["suspended"] }',
        )
        rule = update_smi_on_rule(rows, entry, index, default_source)
        warn_never_fires(rows, rule, routes, index)
        result.append(rule)
    return tuple(result)


def update_smi_on_rule(
    rows: Rows, entry: dict[str, Any], index: int, default_source: str
) -> UpdateRule:
    where = rows.where
    message = entry.get("message", "")
    label = f"entry {index + 1}"
    if report_alert(message) is not None:
        name, kind = str(report_alert(message)), "alert"
        if name not in rows.alerts:
            raise where.error(
                "firmware",
                "update_smi_on",
                f"{label}: unknown alert {name!r} (known: {', '.join(rows.alerts)})",
            )
    else:
        if message.count(":") != 1:
            raise where.error(
                "firmware",
                "update_smi_on",
                f'{label}: expected "SRV:success", "SRV:with-version" or "alert:CODE"',
            )
        name, kind = message.split(":")
        name = rows.srv(name, where, "firmware", "update_smi_on", index)
        if kind not in ("success", "with-version"):
            raise where.error(
                "firmware",
                "update_smi_on",
                f"{label}: unknown response kind {kind!r} (known: success, with-version)",
            )
    statuses = entry.get("statuses")
    if statuses is not None and any(s not in STATUSES for s in statuses):
        raise where.error(
            "firmware", "update_smi_on", f"{label}: statuses must be SMI statuses", index
        )
    types = entry.get("device_types")
    if types is not None and not all(is_device_type(t, rows.types) for t in types):
        raise where.error(
            "firmware", "update_smi_on", f"{label}: unknown device type in {types}", index
        )
    source = entry.get("source", default_source)
    check_tags(source, where, "firmware", "update_smi_on")
    outcome = entry.get("outcome")
    outcomes = rows.alerts[name].outcomes.values() if kind == "alert" else ()
    if outcome is not None and outcome not in outcomes:
        raise where.error(
            "firmware",
            "update_smi_on",
            f"{label}: unknown outcome {outcome!r} for {message} "
            f"(known: {', '.join(outcomes) or 'none: only a device alert names an outcome'})",
            index,
        )
    return UpdateRule(
        name,
        kind,  # type: ignore[arg-type]
        frozenset(statuses) if statuses is not None else None,
        frozenset(types) if types is not None else None,
        source,
        outcome,
        message.startswith("dcc-alert:"),
    )


def warn_never_fires(
    rows: Rows, rule: UpdateRule, routes: Mapping[str, FirmwareRoute], index: int
) -> None:
    """A rule whose message never carries a firmware version, for any type it covers."""
    types = rule.device_types or frozenset(rows.cpl_listed()) | rows.routed
    carriers = set()
    for device_type in types:
        route = routes.get(device_type)
        for each in () if route is None else (route, *(r for _, r in route.by_smets)):
            if each.exists:
                carriers.add(f"alert:{each.alert}" if each.alert else f"{each.activate}:response")
        for srv in srvs_doing(rows.messages, "read-firmware"):
            if rows.applies(srv, device_type):
                carriers.add(f"{srv}:response")
    wanted = f"alert:{rule.message}" if rule.kind == "alert" else f"{rule.message}:response"
    if wanted not in carriers:
        rows.warnings.append(
            f"{rows.file_of('firmware.update_smi_on').where('firmware', 'update_smi_on', index)}: "
            f"{rule} can never fire: "
            "no device type it covers receives a message from it that carries a firmware version"
        )


def warn_unread(
    rows: Rows,
    routes: Mapping[str, FirmwareRoute],
    rules: tuple[UpdateRule, ...],
    roles: Mapping[str, RoleRow],
) -> None:
    """Rows that can never fire: a route whose alert no ``update_smi_on`` rule reads, and a
    ``[messages]`` or ``[roles]`` row of the variant's own for a request that applies to no
    device type the closed systems hold (CPL-listed, or with a firmware route)."""
    read = {rule.message for rule in rules if rule.kind == "alert"}
    for device_type, route in routes.items():
        for each in (route, *(r for _, r in route.by_smets)):
            if each.exists and each.alert is not None and each.alert not in read:
                where = rows.file_of(f"firmware.routes.{device_type}")
                rows.warnings.append(
                    f"{where.where(f'firmware.routes.{device_type}', 'report')}: no "
                    f"update_smi_on rule reads {each.alert}: the SMI never follows this route"
                )
    explored = set(rows.cpl_listed()) | rows.routed
    for name, raw in rows.m.tables.get("device_types", {}).items():
        if isinstance(raw, dict) and raw.get("kind") == "type-1" and name not in explored:
            where = rows.file_of(f"device_types.{name}")
            rows.warnings.append(
                f"{where.where('device_types', name)}: no closed system of check contains "
                f"{name} (not on the CPL, no firmware route): only a scenario exercises it"
            )
    names = ("messages", "roles", "requests")
    own = tuple(rows.m.tables.get(name, {}) for name in names)
    for table, declared in zip(names, own, strict=True):
        for srv in declared:
            if (table == "roles" and srv not in roles) or (
                table != "roles" and not isinstance(declared[srv], dict)
            ):
                continue
            if not any(rows.applies(normalise_srv(srv), t) for t in explored):
                where = rows.file_of(f"{table}.{srv}")
                rows.warnings.append(
                    f"{where.where(table, srv)}: SR{normalise_srv(srv)} applies to no device "
                    "type the closed systems hold: nobody sends it, this row can never fire"
                )
