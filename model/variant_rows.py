"""The rulebook's newer tables in a variant file: the pipeline of checks, Eligible User
Roles, message declarations, CPL removal reasons and life-cycle cascades
(docs/formats.md). Each row carries its own source; an unknown key or name is an error at
its own line, a row that can never fire a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from model.alerts import DeviceAlert, dcc_alerts, device_alerts
from model.catalogue import ServiceRequest, catalogue, declare, normalise_srv
from model.device_types import DeviceType, device_types
from model.messages import DOES, OTHER_DEVICES, Message, messages
from model.rule_tables import (
    ACTOR_EVENTS,
    CHECKS,
    CLEARABLE,
    DEFAULT_REJECT_CODES,
    ActorEvent,
    Cascade,
    PipelineCheck,
    RemovalReason,
    RequestRow,
    RoleRow,
)
from model.status_chart import status_events
from model.variant_file import Locator, Merged, check_tags

#: A declared device type's name: it names devices and files (``sapc1``), so only these.
TYPE_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,15}")
#: Every role code the DUIS catalogue names (IS, GS, ES, ED, GT, OU, RSA).
ROLE_CODES = frozenset(role for row in catalogue().values() for role in row.roles)
#: Each row table (``[TABLE."NAME"]``) -> the keys of its rows, and their types.
ROW_KEYS: Final[dict[str, dict[str, type]]] = {
    "requests": {
        "name": str,
        "critical": bool,
        "non_device": bool,
        "roles": list,
        "source": str,
        "why": str,
    },
    "roles": {"roles": list, "source": str, "why": str},
    "messages": {
        "does": str,
        "other_devices": str,
        "multi_device": bool,
        "warnings": dict,
        "source": str,
        "why": str,
    },
    "cpl.reasons": {"suspends": bool, "device_types": list, "source": str, "why": str},
    "cascades": {"unjoin": bool, "alert": str, "source": str, "why": str},
    "device_types": {"kind": str, "cpl_listed": bool, "source": str, "why": str},
    "alerts": {"kind": str, "name": str, "outcomes": dict, "source": str, "why": str},
    "events": {"clears": list, "source": str, "why": str},
}
#: The keys of an entry of ``[pipeline] checks``, and their types.
PIPELINE_KEYS: Final = {"check": str, "source": str, "why": str, "reject_code": str}


def _keys(
    raw: Any, known: Mapping[str, type], where: Locator, table: str, key: str
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise where.error(table, key, "must be a table")
    for name, value in raw.items():
        if name not in known:
            raise where.error(f"{table}.{key}", name, f"unknown key (known: {', '.join(known)})")
        if not isinstance(value, known[name]) or (
            known[name] is not bool and isinstance(value, bool)
        ):
            raise where.error(f"{table}.{key}", name, f"must be {known[name].__name__}")
    return raw


def _source(raw: Mapping[str, Any], default: str, where: Locator, table: str) -> str:
    tag = str(raw.get("source", default))
    check_tags(tag, where, table, "source")
    return tag


def _srv(value: str, where: Locator, table: str, m: Merged | None = None) -> str:
    name = normalise_srv(value)
    declared = m.tables.get("requests", {}) if m is not None else {}
    if name not in catalogue() and name not in declared:
        raise where.error(table, value, f"unknown SRV {value!r}")
    return name


#: A new request's SRV: Service Reference and variant numbers (``11.9``, ``8.15.1``).
NEW_SRV = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){1,2}")


def requests(m: Merged) -> dict[str, RequestRow]:
    """``[requests."SRV"]``: a Service Request the DUIS catalogue does not have, declared with
    its name, whether it is Critical or a Non-Device Request, and its Eligible User Roles.
    It needs an ``[applicability."SRV"]`` row; ``[messages."SRV"]`` says what it does, check
    E5's rows and ``update_smi_on`` name it like any other. Made known to ``lookup``."""
    result = {}
    for srv, raw in m.tables.get("requests", {}).items():
        if not isinstance(raw, dict):
            continue
        where = m.row_files.get(f"requests.{srv}", m.where)
        table = f"requests.{srv}"
        if not NEW_SRV.fullmatch(srv):
            raise where.error("requests", srv, "an SRV is numbers and dots, such as 11.9")
        if srv in catalogue():
            raise where.error("requests", srv, f"SR{srv} is a request of the DUIS catalogue")
        raw = _keys(raw, ROW_KEYS["requests"], where, "requests", srv)
        for key in ("name", "critical", "roles"):
            if key not in raw:
                raise where.error(table, key, "missing")
        if not raw["roles"] or any(r not in ROLE_CODES for r in raw["roles"]):
            raise where.error(
                table, "roles", f"must list role codes ({', '.join(sorted(ROLE_CODES))})"
            )
        if not isinstance(m.tables.get("applicability", {}).get(srv), dict):
            raise where.error("requests", srv, f'needs an [applicability."{srv}"] row')
        request = ServiceRequest(
            srv=srv,
            service_reference=srv.rsplit(".", 1)[0] if srv.count(".") == 2 else srv,
            name=raw["name"][:120],
            critical=raw["critical"],
            non_device=bool(raw.get("non_device", False)),
            on_demand=True,
            future_dated_response="",
            dcc_scheduled=False,
            roles=tuple(raw["roles"]),
        )
        other = declare(request)
        if other is not None:
            raise where.error(
                "requests", srv, f"SR{srv} is declared differently by another variant loaded"
            )
        source = _source(raw, m.key_sources.get(table, "assumption"), where, table)
        result[srv] = RequestRow(request, source, str(raw.get("why", "")))
    return result


def pipeline(m: Merged) -> tuple[PipelineCheck, ...]:
    """``[pipeline] checks``: the DSP's checks in order, each row with its source."""
    table = m.tables.get("pipeline", {})
    where = m.row_files.get("pipeline", m.where)
    default = m.key_sources.get("pipeline.checks", "assumption")
    result: list[PipelineCheck] = []
    for index, entry in enumerate(table.get("checks", [{"check": c} for c in CHECKS])):
        if not isinstance(entry, dict) or set(entry) - set(PIPELINE_KEYS):
            raise where.error(
                "pipeline",
                "checks",
                f"entry {index + 1} must be {{ check = ..., source = ..., why = ... }}",
                index,
            )
        check = entry.get("check")
        if check not in CHECKS:
            raise where.error(
                "pipeline",
                "checks",
                f"entry {index + 1}: unknown check {check!r} (known: {', '.join(CHECKS)})",
                index,
            )
        if any(r.check == check for r in result):
            raise where.error(
                "pipeline", "checks", f"entry {index + 1}: {check} listed twice", index
            )
        code = str(entry.get("reject_code", DEFAULT_REJECT_CODES.get(check, "DSP:REFUSED")))
        if not re.fullmatch(r"E\w+|[A-Z]+:\w+", code):
            raise where.error("pipeline", "checks", f"entry {index + 1}: bad reject_code", index)
        why = str(entry.get("why", ""))
        source = _source(entry, default, where, "pipeline")
        result.append(PipelineCheck(check, source, why, code))
    return tuple(result)


def roles(m: Merged) -> tuple[dict[str, RoleRow], str]:
    """``[roles."SRV"]``: the Eligible User Roles of one request, over the catalogue's."""
    table = m.tables.get("roles", {})
    result = {}
    for srv, raw in table.items():
        if not isinstance(raw, dict):
            continue
        where = m.row_files.get(f"roles.{srv}", m.where)
        name = _srv(srv, where, "roles", m)
        raw = _keys(raw, ROW_KEYS["roles"], where, "roles", srv)
        listed = raw.get("roles")
        if listed is None or any(r not in ROLE_CODES for r in listed):
            raise where.error(
                f"roles.{srv}", "roles", f"must list role codes ({', '.join(sorted(ROLE_CODES))})"
            )
        default = m.key_sources.get(f"roles.{srv}", "assumption")
        source = _source(raw, default, where, f"roles.{srv}")
        result[name] = RoleRow(name, frozenset(listed), source, str(raw.get("why", "")))
    code = table.get("reject_code", "DSP:ROLE_NOT_ELIGIBLE")
    return result, str(code)


def message_rows(m: Merged) -> dict[str, Message]:
    """``[messages."SRV"]``: what a request does (join, unjoin, read-device-log,
    read-firmware), over ``model/data/messages.json``."""
    result = dict(messages())
    for srv, raw in m.tables.get("messages", {}).items():
        if not isinstance(raw, dict):
            continue
        where = m.row_files.get(f"messages.{srv}", m.where)
        name = _srv(srv, where, "messages", m)
        raw = _keys(raw, ROW_KEYS["messages"], where, "messages", srv)
        if raw.get("does") not in (*DOES, None):
            raise where.error(f"messages.{srv}", "does", f"must be one of {', '.join(DOES)}")
        warnings = raw.get("warnings", {})
        if any(c not in CHECKS or not isinstance(w, str) for c, w in warnings.items()):
            raise where.error(
                f"messages.{srv}", "warnings", f"must map checks ({', '.join(CHECKS)}) to names"
            )
        other = raw.get("other_devices", "any")
        if other not in OTHER_DEVICES:
            raise where.error(
                f"messages.{srv}", "other_devices", f"must be one of {', '.join(OTHER_DEVICES)}"
            )
        source = _source(raw, m.key_sources.get(f"messages.{srv}", "assumption"), where, srv)
        why = str(raw.get("why", ""))
        multi = bool(raw.get("multi_device", False))
        result[name] = Message(name, raw.get("does"), other, source, why, multi, dict(warnings))
    return result


def removal_reasons(
    m: Merged, types: Mapping[str, DeviceType], warnings: list[str]
) -> tuple[RemovalReason, ...]:
    """``[cpl.reasons.NAME]``: whether a CPL removal for this reason suspends, and whom
    (``device_types``: these types only). A reason of ``model/data/cpl.json`` or one of the
    variant's own; a listed type that is not on the CPL is never suspended (a warning)."""
    result = []
    for reason, raw in m.tables.get("cpl", {}).get("reasons", {}).items():
        where = m.row_files.get(f"cpl.reasons.{reason}", m.where)
        raw = _keys(raw, ROW_KEYS["cpl.reasons"], where, "cpl.reasons", reason)
        table = f"cpl.reasons.{reason}"
        if "suspends" not in raw:
            raise where.error(table, "suspends", "missing (true or false)")
        whom = raw.get("device_types")
        if whom is not None and any(t not in types for t in whom):
            raise where.error(table, "device_types", f"must list device types ({', '.join(types)})")
        for name in whom or ():
            if not getattr(types[name], "cpl_listed", False):
                warnings.append(
                    f"{where.where(table, 'device_types')}: {name} is not on the CPL: a "
                    "removal never suspends it, this entry can never fire"
                )
        source = _source(raw, m.key_sources.get("cpl.reasons", "assumption"), where, reason)
        result.append(
            RemovalReason(
                reason,
                raw["suspends"],
                source,
                str(raw.get("why", "")),
                frozenset(whom) if whom is not None else None,
            )
        )
    return tuple(result)


def cascades(m: Merged, warnings: list[str]) -> dict[str, Cascade]:
    """``[cascades.EVENT]``: what a status chart event does to the device's joins, and the
    DCC alert it raises."""
    result = {}
    for event, raw in m.tables.get("cascades", {}).items():
        if not isinstance(raw, dict):
            continue
        where = m.row_files.get(f"cascades.{event}", m.where)
        if event not in status_events():
            known = ", ".join(status_events())
            raise where.error("cascades", event, f"unknown status chart event (known: {known})")
        raw = _keys(raw, ROW_KEYS["cascades"], where, "cascades", event)
        alert = raw.get("alert")
        if alert is not None and alert not in dcc_alerts():
            warnings.append(
                f"{where.where(f'cascades.{event}', 'alert')}: {alert} is a DCC alert no data "
                "file declares: the model raises it under this name (assumption)"
            )
        source = _source(raw, m.key_sources.get(f"cascades.{event}", "assumption"), where, event)
        result[event] = Cascade(
            event, bool(raw.get("unjoin", False)), alert, source, str(raw.get("why", ""))
        )
    return result


def device_type_rows(m: Merged) -> dict[str, DeviceType]:
    """``[device_types.NAME]``: a device type the data files do not know, declared as Type 1
    or Type 2, CPL-listed or not (the SMI keeps a status and a firmware version for a Type 1
    Device only). A data file's type cannot be redeclared."""
    result = dict(device_types())
    for name, raw in m.tables.get("device_types", {}).items():
        if not isinstance(raw, dict):
            continue
        where = m.row_files.get(f"device_types.{name}", m.where)
        table = f"device_types.{name}"
        if name in device_types():
            raise where.error("device_types", name, "is a type of model/data/device_types.json")
        if not TYPE_NAME.fullmatch(name):
            raise where.error("device_types", name, "1 to 16 of A-Z 0-9 _, starting with a letter")
        raw = _keys(raw, ROW_KEYS["device_types"], where, "device_types", name)
        if raw.get("kind") not in ("type-1", "type-2"):
            raise where.error(table, "kind", 'must be "type-1" or "type-2"')
        if "cpl_listed" not in raw:
            raise where.error(table, "cpl_listed", "missing (true or false)")
        type_2 = raw["kind"] == "type-2"
        if type_2 and raw["cpl_listed"]:
            raise where.error(table, "cpl_listed", "a Type 2 Device is not on the CPL")
        source = _source(raw, m.key_sources.get(table, "assumption"), where, table)
        result[name] = DeviceType(name, raw["cpl_listed"], type_2, source, str(raw.get("why", "")))
    return result


def alert_rows(m: Merged) -> dict[str, DeviceAlert]:
    """``[alerts.NAME]``: an alert that carries a firmware version, from the device
    (``kind = "device"``) or raised by the DCC (``kind = "dcc"``), with the outcomes it can
    carry for a successful and a failed activation."""
    result = dict(device_alerts())
    for name, raw in m.tables.get("alerts", {}).items():
        if not isinstance(raw, dict):
            continue
        where = m.row_files.get(f"alerts.{name}", m.where)
        table = f"alerts.{name}"
        if name in device_alerts():
            raise where.error("alerts", name, "is an alert of model/data/alerts.json")
        raw = _keys(raw, ROW_KEYS["alerts"], where, "alerts", name)
        if raw.get("kind") not in ("device", "dcc"):
            raise where.error(table, "kind", 'must be "device" or "dcc"')
        outcomes = raw.get("outcomes", {})
        if set(outcomes) - {"success", "failure"} or not all(
            isinstance(v, str) for v in outcomes.values()
        ):
            raise where.error(table, "outcomes", 'must be { success = "...", failure = "..." }')
        source = _source(raw, m.key_sources.get(table, "assumption"), where, table)
        why = str(raw.get("why", ""))
        title = str(raw.get("name", name))
        result[name] = DeviceAlert(name, title, True, source, why, dict(outcomes), raw["kind"])
    return result


def actor_events(m: Merged) -> dict[str, ActorEvent]:
    """``[events.change_of_supplier]``: what a change of supplier clears on the device."""
    result = {}
    for event, raw in m.tables.get("events", {}).items():
        if not isinstance(raw, dict):
            continue
        where = m.row_files.get(f"events.{event}", m.where)
        table = f"events.{event}"
        if event not in ACTOR_EVENTS:
            raise where.error("events", event, f"unknown event (known: {', '.join(ACTOR_EVENTS)})")
        raw = _keys(raw, ROW_KEYS["events"], where, "events", event)
        clears = raw.get("clears", [])
        if any(c not in CLEARABLE for c in clears):
            raise where.error(table, "clears", f"must list settings ({', '.join(CLEARABLE)})")
        source = _source(raw, m.key_sources.get(table, "assumption"), where, table)
        result[event] = ActorEvent(event, tuple(clears), source, str(raw.get("why", "")))
    return result
