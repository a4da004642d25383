"""Rule variants: the legal text as data (TOML files; format in docs/formats.md).

A variant says every rule a SEC modification can change: check E5 as a table of SMI status
× request (``[suspended]`` is the Suspended row the seeds describe, ``[e5.STATUS]`` the
others), which device types a request applies to (``[applicability]``), each device type's
firmware route and which messages update the SMI firmware version (``[firmware]``), what a
CPL change does (``[cpl]``), and how the DSP validates an Unjoin (``[joins]``). ``extends``
names a parent (a built-in id or a path relative to the file). Any path to a ``.toml`` file
works wherever a built-in id does.

Errors name the file, the key and the line, and are :class:`VariantError` (exit code 2).
Rules that can never fire are warnings, also with file and line (``Variant.warnings``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from model import variant_rows
from model.alerts import DeviceAlert, device_alerts
from model.catalogue import Applicability, applicability, catalogue, lookup, normalise_srv
from model.device_types import DeviceType, device_types
from model.errors import VariantError
from model.inputs import check_name
from model.messages import Message, messages, srvs_doing
from model.property_ids import PROPERTY_IDS, VERDICTS
from model.rule_tables import (
    ADMITS,
    CHECKS,
    CRITICAL_LIFE_CYCLE,
    ActorEvent,
    ApplicabilityRow,
    Cascade,
    CplRules,
    E5Row,
    Exemption,
    FirmwareRoute,
    NonDeviceRule,
    PipelineCheck,
    RequestRow,
    RoleRow,
    UpdateRule,
    report_alert,
)
from model.status_chart import OPERATIONAL, STATUSES
from model.variant_file import PARENT_ROW, Locator, Merged, check_tags, is_a, merged, type_name

__all__ = ["BUILTIN", "Exemption", "UpdateRule", "Variant", "load_variant", "load_variants"]

BUILTIN: Final = ("baseline", "mp105", "mp178")
#: A variant id: it names files (diagrams, ITF traces, report pages), so only these characters
#: (docs/formats.md); a file may not take a built-in id.
ID_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@dataclass(frozen=True, slots=True)
class Variant:
    """One rule set, merged with its parents and validated."""

    id: str
    title: str
    path: str
    extends: str | None
    effective: str | None
    sources: tuple[str, ...]
    e5: Mapping[str, E5Row]
    applicability: Mapping[str, ApplicabilityRow | Applicability]
    applicability_reject_code: str
    update_smi_on: tuple[UpdateRule, ...]
    routes: Mapping[str, FirmwareRoute]
    cpl: CplRules
    critical_life_cycle: str
    unjoin_requires_smi_join: bool
    unjoin_reject_code: str
    reconcile_smi_from_8_9: bool
    #: property -> verdict for every device type, or -> {device type or pair: verdict}.
    expect: Mapping[str, str | Mapping[str, str]]
    #: For each rule key ("suspended.exceptions", ...), the provenance of the file defining it.
    key_sources: Mapping[str, str] = field(default_factory=dict)
    #: The why of each key written with its own source (``{ value, source, why }``).
    key_whys: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    #: The DSP's checks in order (``[pipeline]``), each row with its source.
    pipeline: tuple[PipelineCheck, ...] = tuple(PipelineCheck(c, "assumption", "") for c in CHECKS)
    #: Eligible User Roles the variant sets over the catalogue's (``[roles."SRV"]``).
    roles: Mapping[str, RoleRow] = field(default_factory=dict)
    role_reject_code: str = "DSP:ROLE_NOT_ELIGIBLE"
    #: What each request does beyond its status effect and firmware route (``[messages]``).
    messages: Mapping[str, Message] = field(default_factory=messages)
    #: What a status chart event does to the device's joins (``[cascades.EVENT]``).
    cascades: Mapping[str, Cascade] = field(default_factory=dict)
    #: Rules attached to events among Service Users (``[events.change_of_supplier]``).
    events: Mapping[str, ActorEvent] = field(default_factory=dict)
    #: Every device type: the data file's and the variant's own ``[device_types]``.
    device_types: Mapping[str, DeviceType] = field(default_factory=device_types)
    #: Every alert that can report firmware: the data file's and ``[alerts]``.
    alerts: Mapping[str, DeviceAlert] = field(default_factory=device_alerts)
    #: Service Requests the variant declares (``[requests."SRV"]``), not in the catalogue.
    requests: Mapping[str, RequestRow] = field(default_factory=dict)
    #: Decisions already taken (``model.access.authorise``): a variant never changes, and the
    #: explorer asks the same question many times.
    decisions: dict[tuple[object, ...], object] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    # The Suspended row, under the names the first variant format gave it.
    @property
    def allow_critical(self) -> bool:
        return self.e5["suspended"].admits == "critical"

    @property
    def reject_code(self) -> str:
        return self.e5["suspended"].reject_code

    @property
    def exceptions(self) -> tuple[Exemption, ...]:
        return self.e5["suspended"].exceptions

    @property
    def fingerprint(self) -> tuple[str, str]:
        """The file and every rule, as text: two loads of the same rules share it, and a file
        edited and read again gives a new one. Results computed from a variant (explorations
        in ``diff`` and ``diagrams``) are cached by it."""
        return self.path, repr(self)

    def expected(self, property_id: str, subject: str | None = None) -> str:
        """The verdict this variant expects for a property, for one device type or pair
        (``subject``) or, with none, for the variant as a whole: 'holds' unless [expect]
        says otherwise."""
        said = self.expect.get(property_id, "holds")
        if isinstance(said, str):
            return said
        if subject is not None:
            return said.get(subject, "holds")
        return "violated" if "violated" in said.values() else "holds"

    def expected_subjects(self, property_id: str) -> Mapping[str, str] | None:
        """The per-subject verdicts [expect] gives for a property, if it gives them per type."""
        said = self.expect.get(property_id)
        return None if said is None or isinstance(said, str) else said

    def source_of(self, key: str) -> str:
        """The provenance of a rule key. A key no file sets takes the model's default value,
        which is the model's choice: ``assumption``, never the variant's own sources (issue
        19: provenance is never inherited silently)."""
        return self.key_sources.get(key, "assumption")

    def why_of(self, key: str) -> str:
        """The why written with a key's own source, if any."""
        return self.key_whys.get(key, "")

    def applies(self, srv: str, device_type: str) -> tuple[bool, Applicability | ApplicabilityRow]:
        """Does ``srv`` apply to ``device_type``, and which row says so (the variant's own
        row, or the DUIS reference data's)?"""
        row: Applicability | ApplicabilityRow = self.applicability.get(srv) or applicability()[srv]
        return device_type in row.device_types, row

    @property
    def checks_images(self) -> bool:
        """The pipeline has the CPL check on a firmware image (``cpl-image``)."""
        return any(row.check == "cpl-image" for row in self.pipeline)

    @property
    def checks_suppliers(self) -> bool:
        """The pipeline compares the sender with the responsible supplier."""
        return any(row.check == "responsible-supplier" for row in self.pipeline)

    def route(self, device_type: str, smets: int | None = None) -> FirmwareRoute | None:
        """The type's firmware route, for a device of SMETS generation ``smets`` where the
        route has a row of its own for it."""
        route = self.routes.get(device_type)
        return route if route is None or smets is None else route.for_smets(smets)


def _builtin_path(variant_id: str) -> Path:
    return Path(str(resources.files("model").joinpath(f"variants/{variant_id}.toml")))


def _is_device_type(value: Any, known: Collection[str]) -> bool:
    """A known device type's name; a list or table there is refused, not hashed."""
    return isinstance(value, str) and value in known


def resolve(ref: str, relative_to: Path | None = None) -> Path:
    """The file a variant reference names: a built-in id, or a path to a TOML file."""
    if ref in BUILTIN:
        return _builtin_path(ref)
    check_name(ref)
    path = Path(ref)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if path.suffix != ".toml":
        raise VariantError(
            f"unknown variant {ref!r}: not one of {', '.join(BUILTIN)} and not a .toml file"
        )
    if not path.exists():
        raise VariantError(f"{path}: cannot read the variant file: no such file")
    return path


# ---------------------------------------------------------------------------------------
# Rows of each table, validated


class _Rows:
    """Builds the rule rows of one merged variant, raising errors and collecting warnings."""

    def __init__(self, m: Merged) -> None:
        self.m = m
        #: Every device type: the data file's and the variant's own ``[device_types]``.
        self.types = variant_rows.device_type_rows(m)
        #: Every alert: the data file's and the variant's own ``[alerts]``.
        self.alerts = variant_rows.alert_rows(m)
        #: The variant's new Service Requests (``[requests]``), known before any row names one.
        self.requests = variant_rows.requests(m)
        #: Every message declaration: the data file's and ``[messages]``.
        self.messages = variant_rows.message_rows(m)
        self.routed: set[str] = set()
        self.where = m.where
        self.warnings: list[str] = []

    def file_of(self, row_key: str) -> Locator:
        return self.m.row_files.get(row_key, self.where)

    def source(self, raw: Mapping[str, Any], default: str, where: Locator, table: str) -> str:
        tag = raw.get("source", default)
        if not isinstance(tag, str):
            raise where.error(table, "source", "must be a string")
        check_tags(tag, where, table, "source")
        return tag

    def srv(self, value: Any, where: Locator, table: str, key: str, item: int | None) -> str:
        """An SRV in either spelling (``11.2``, ``SR11.2``), as the catalogue writes it."""
        known = isinstance(value, str) and (
            normalise_srv(value) in catalogue() or normalise_srv(value) in self.requests
        )
        if not known:
            label = f"entry {item + 1}: " if item is not None else ""
            raise where.error(table, key, f"{label}unknown SRV {value!r}", item)
        return normalise_srv(value)

    def exemptions(
        self, raw: list[Any], where: Locator, table: str, key: str = "exceptions"
    ) -> tuple[Exemption, ...]:
        """An exception list (or, with ``key = "deny"``, a deny list) of a row of check E5."""
        if not isinstance(raw, list):
            raise where.error(table, key, "must be a list")
        keys = {"srv": str, "command_variant": int, "smets": int, "source": str}
        entries = []
        for index, entry in enumerate(raw):
            entry = self.entry(entry, keys, where, table, key, index, '{ srv = "11.1" }')
            srv = self.srv(entry.get("srv"), where, table, key, index)
            if entry.get("smets", 1) not in (1, 2):
                raise where.error(table, key, f"entry {index + 1}: smets must be 1 or 2", index)
            source = entry.get("source", "")
            if source:
                check_tags(source, where, table, key)
            entries.append(Exemption(srv, entry.get("command_variant"), entry.get("smets"), source))
            self.warn_unreceivable(srv, where, table, index, key)
        return tuple(entries)

    def warn_unreceivable(
        self, srv: str, where: Locator, table: str, index: int, key: str = "exceptions"
    ) -> None:
        """An entry for a request no device type the row can judge receives never fires:
        the Suspended row judges CPL-listed types; another status's row, every type a closed
        system of ``check`` holds with an SMI status (CPL-listed, or with a firmware route)."""
        suspended = table == "suspended"
        types = self.cpl_listed() if suspended else (*self.cpl_listed(), *sorted(self.routed))
        if not any(self.applies(srv, t) for t in types):
            what = "exception" if key == "exceptions" else "deny entry"
            whom = "that can be Suspended" if suspended else "the closed systems hold"
            self.warnings.append(
                f"{where.where(table, key, index)}: SR{srv} applies to no device type "
                f"{whom}: this {what} can never fire"
            )

    def cpl_listed(self) -> tuple[str, ...]:
        return tuple(t for t, facts in self.types.items() if facts.cpl_listed)

    def applies(self, srv: str, device_type: str) -> bool:
        return device_type in _raw_types(srv, self.m.tables.get("applicability", {}).get(srv))

    def entry(
        self,
        entry: Any,
        keys: Mapping[str, type | tuple[type, ...]],
        where: Locator,
        table: str,
        key: str,
        index: int,
        example: str,
    ) -> dict[str, Any]:
        if not isinstance(entry, dict):
            raise where.error(
                table, key, f"entry {index + 1} must be a table like {example}", index
            )
        for name, value in entry.items():
            if name not in keys:
                known = ", ".join(keys)
                raise where.error(
                    table, key, f"entry {index + 1}: unknown key {name!r} (known: {known})", index
                )
            if not is_a(value, keys[name]):
                raise where.error(
                    table,
                    key,
                    f"entry {index + 1}: {name} must be {type_name(keys[name])}",
                    index,
                )
        return entry

    def non_device(self, raw: list[Any], where: Locator, table: str) -> tuple[NonDeviceRule, ...]:
        keys = {"srv": str, "gated": bool, "source": str, "why": str}
        rules = []
        for index, entry in enumerate(raw):
            example = '{ srv = "8.3", gated = false, source = "assumption", why = "..." }'
            entry = self.entry(entry, keys, where, table, "non_device", index, example)
            srv = self.srv(entry.get("srv"), where, table, "non_device", index)
            if not lookup(srv).non_device:
                raise where.error(
                    table, "non_device", f"entry {index + 1}: SR{srv} is not a Non-Device Request"
                )
            if "gated" not in entry:
                raise where.error(table, "non_device", f"entry {index + 1}: missing gated", index)
            source = entry.get("source", "assumption")
            check_tags(source, where, table, "non_device")
            rules.append(NonDeviceRule(srv, entry["gated"], source, entry.get("why", "")))
        return tuple(rules)

    def code(self, value: Any, where: Locator, table: str, key: str) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"E\w+|[A-Z]+:\w+", value):
            raise where.error(
                table,
                key,
                'must be a DUIS response code such as "E51", or the model\'s own '
                'name such as "DSP:NOT_FOR_DEVICE_TYPE"',
            )
        return value


def _suspended_row(rows: _Rows) -> E5Row:
    table = rows.m.tables["suspended"]
    where = rows.where
    for key in ("allow_critical", "reject_code", "exceptions"):
        if key not in table:
            raise where.error("suspended", key, "missing (and not inherited through extends)")
    return E5Row(
        "suspended",
        "critical" if table["allow_critical"] else "none",
        rows.code(table["reject_code"], where, "suspended", "reject_code"),
        rows.exemptions(table["exceptions"], rows.file_of("suspended.exceptions"), "suspended"),
        rows.non_device(table.get("non_device", []), where, "suspended"),
        rows.m.key_sources.get("suspended.allow_critical", "assumption"),
        "check E5 for a Suspended device (DP105)",
        rows.exemptions(table.get("deny", []), rows.file_of("suspended.deny"), "suspended", "deny"),
    )


def _e5_rows(rows: _Rows) -> dict[str, E5Row]:
    """Every SMI status's row: the Suspended row from ``[suspended]``, the others from
    ``[e5.STATUS]``. A status with no row admits everything (a warning says so)."""
    table = rows.m.tables.get("e5", {})
    result = {"suspended": _suspended_row(rows)}
    for status, raw in table.items():
        where = rows.file_of(f"e5.{status}")
        name = f"e5.{status}"
        if status not in STATUSES or status == "suspended":
            why = "the Suspended row is [suspended]" if status == "suspended" else "unknown status"
            raise where.error("e5", status, f"{why} (statuses: {', '.join(STATUSES)})")
        known = {"admits", "reject_code", "exceptions", "deny", "non_device", "source", "why"}
        for key in raw:
            if key not in known:
                raise where.error(name, key, f"unknown key (known: {', '.join(sorted(known))})")
        admits = raw.get("admits")
        if admits not in ADMITS:
            raise where.error(name, "admits", f"must be one of {', '.join(ADMITS)}")
        result[status] = E5Row(
            status,
            admits,
            rows.code(
                raw.get("reject_code", result["suspended"].reject_code), where, name, "reject_code"
            ),
            rows.exemptions(raw.get("exceptions", []), where, name),
            rows.non_device(raw.get("non_device", []), where, name),
            rows.source(raw, rows.m.key_sources.get(f"e5.{status}", "assumption"), where, name),
            str(raw.get("why", "")),
            rows.exemptions(raw.get("deny", []), where, name, "deny"),
        )
    for status in STATUSES:
        if status not in result:
            result[status] = E5Row(
                status,
                "all",
                result["suspended"].reject_code,
                (),
                (),
                "assumption",
                "no [e5] row for this status: check E5 admits every request",
            )
    return result


def _raw_types(srv: str, row: Any) -> set[str]:
    """The device types a merged, not yet checked ``[applicability]`` row names, the
    parent's row's (else the DUIS reference data's) and its own additions included."""
    if isinstance(row, dict) and isinstance(row.get("device_types"), list):
        return set(row["device_types"])
    added = row.get("add_device_types") if isinstance(row, dict) else None
    parent = row.get(PARENT_ROW) if isinstance(row, dict) else None
    if isinstance(parent, dict):
        base = _raw_types(srv, parent)
    else:
        data = applicability().get(normalise_srv(srv))
        base = set(data.device_types) if data is not None else set()
    return base | set(added if isinstance(added, list) else ())


def _applicability_rows(
    rows: _Rows,
) -> tuple[dict[str, ApplicabilityRow | Applicability], str]:
    table = rows.m.tables.get("applicability", {})
    result: dict[str, ApplicabilityRow | Applicability] = {}
    for srv, raw in table.items():
        if not isinstance(raw, dict):
            continue
        where = rows.file_of(f"applicability.{srv}")
        rows.srv(srv, where, "applicability", srv, None)
        result[srv] = _applicability_row(rows, normalise_srv(srv), raw, where)
    code = table.get("reject_code", "DSP:NOT_FOR_DEVICE_TYPE")
    return result, rows.code(code, rows.where, "applicability", "reject_code")


def _applicability_row(
    rows: _Rows, srv: str, raw: dict[str, Any], where: Locator
) -> ApplicabilityRow | Applicability:
    """One ``[applicability."SRV"]`` row: the whole row (``device_types``), or the parent's
    row (else the DUIS reference data's) with ``add_device_types`` added."""
    name = f"applicability.{srv}"
    known = ("device_types", "add_device_types", "source", "why")
    for key in raw:
        if key not in (*known, PARENT_ROW):
            raise where.error(name, key, f"unknown key (known: {', '.join(known)})")
    if ("device_types" in raw) == ("add_device_types" in raw):
        raise where.error(
            name, "device_types", "give device_types or add_device_types, one of them"
        )
    key = "device_types" if "device_types" in raw else "add_device_types"
    types = raw[key]
    if not isinstance(types, list) or not all(_is_device_type(t, rows.types) for t in types):
        raise where.error(name, key, f"must be a list of device types ({', '.join(rows.types)})")
    source = rows.source(
        raw, rows.m.key_sources.get(f"applicability.{srv}", "assumption"), where, name
    )
    why = str(raw.get("why", ""))
    if key == "device_types":
        return ApplicabilityRow(srv, frozenset(types), source, why)
    parent = raw.get(PARENT_ROW)
    base = (
        _applicability_row(rows, srv, parent, where)
        if isinstance(parent, dict)
        else applicability().get(srv)
    )
    return _added_types(srv, base, frozenset(types), source, why)


def _added_types(
    srv: str,
    base: ApplicabilityRow | Applicability | None,
    added: frozenset[str],
    source: str,
    why: str,
) -> Applicability:
    """``base`` with ``added`` types (``add_device_types``): each type already there keeps
    its own evidence and tag, each added one cites this row's (docs/formats.md,
    ``[applicability]``)."""
    if base is None:
        base = Applicability(srv, frozenset(), "assumption", "")

    def shown(t: str) -> tuple[str, str, str]:
        if isinstance(base, Applicability):
            return (t, base.source_for(t), base.why_for(t))
        return (t, base.source, base.why)

    kept = tuple(shown(t) for t in sorted(base.device_types))
    new = tuple((t, source, why) for t in sorted(added - base.device_types))
    tags = ",".join(dict.fromkeys(t for _, s, _ in kept + new for t in s.split(",")))
    return Applicability(
        srv,
        base.device_types | added,
        tags or source,
        "; ".join(f"{t}: {w}" for t, _, w in kept + new if w),
        kept + new,
    )


def _routes(rows: _Rows) -> dict[str, FirmwareRoute]:
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
        generations = ("smets1", "smets2")
        by_smets = tuple(
            (int(key.removeprefix("smets")), _route(rows, f"{device_type}.{key}", raw[key]))
            for key in generations
            if key in raw
        )
        route = _route(rows, device_type, {k: v for k, v in raw.items() if k not in generations})
        result[device_type] = replace(route, by_smets=by_smets)
        if route.exists or any(r.exists for _, r in by_smets):
            rows.routed.add(device_type)
    return result


def _route(rows: _Rows, row: str, raw: Any) -> FirmwareRoute:
    """One route row (``[firmware.routes.TYPE]``, or its ``smets1``/``smets2`` row)."""
    device_type = row.split(".")[0]
    where = rows.file_of(f"firmware.routes.{device_type}")
    name = f"firmware.routes.{row}"
    if not isinstance(raw, dict):
        raise where.error("firmware.routes", row, "must be a table")
    known = ("deliver", "activate", "report", "report_failure", "source", "why")
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


def _update_rules(rows: _Rows, routes: Mapping[str, FirmwareRoute]) -> tuple[UpdateRule, ...]:
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
        keys = {
            "message": str,
            "statuses": list,
            "device_types": list,
            "outcome": str,
            "source": str,
        }
        entry = rows.entry(
            entry,
            keys,
            where,
            "firmware",
            "update_smi_on",
            index,
            '"11.2:with-version" or { message = "11.2:with-version", statuses = ["suspended"] }',
        )
        rule = _update_rule(rows, entry, index, default_source)
        _warn_never_fires(rows, rule, routes, index)
        result.append(rule)
    return tuple(result)


def _update_rule(rows: _Rows, entry: dict[str, Any], index: int, default_source: str) -> UpdateRule:
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
    if types is not None and not all(_is_device_type(t, rows.types) for t in types):
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


def _warn_never_fires(
    rows: _Rows, rule: UpdateRule, routes: Mapping[str, FirmwareRoute], index: int
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


def _warn_unread(
    rows: _Rows,
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


def _cpl_rules(rows: _Rows) -> CplRules:
    table = rows.m.tables.get("cpl", {})
    where = rows.where
    suspends = table.get("removal_suspends", list(OPERATIONAL))
    if any(s not in OPERATIONAL for s in suspends):
        raise where.error(
            "cpl", "removal_suspends", f"must list operational statuses ({', '.join(OPERATIONAL)})"
        )
    return CplRules(
        frozenset(suspends),
        bool(table.get("relisting_restores", False)),
        bool(table.get("off_cpl_update_suspends", True)),
    )


def _expect(m: Merged) -> dict[str, str | dict[str, str]]:
    table = m.tables.get("expect", {})
    where = m.where
    result: dict[str, str | dict[str, str]] = {}
    for prop, verdict in table.items():
        if isinstance(verdict, dict):
            subjects = {}
            for subject, value in verdict.items():
                if subject == "because":
                    continue
                if value not in VERDICTS:
                    raise where.error(f"expect.{prop}", subject, 'must be "holds" or "violated"')
                subjects[subject] = value
            result[prop] = subjects
        elif verdict in VERDICTS:
            result[prop] = verdict
        else:
            raise where.error(
                "expect", prop, 'must be "holds", "violated" or a table of device types'
            )
    return result


def _check_id(top: Mapping[str, Any], where: Locator, path: Path) -> str:
    variant_id = str(top["id"])
    if not ID_PATTERN.fullmatch(variant_id):
        raise where.error(
            None,
            "id",
            f"{variant_id[:80]!r}: 1 to 64 of a-z 0-9 . _ - starting with a letter or digit",
        )
    if variant_id in BUILTIN and path.resolve() != _builtin_path(variant_id).resolve():
        raise where.error(None, "id", f"{variant_id!r} is a built-in variant's id; choose another")
    return variant_id


@cache
def _baseline_tables() -> Merged:
    return merged(_builtin_path("baseline").resolve(), (), resolve, PROPERTY_IDS)


@cache
def _load(path: Path) -> Variant:
    is_baseline = path == _builtin_path("baseline").resolve()
    defaults = None if is_baseline else _baseline_tables()
    m = merged(path, (), resolve, PROPERTY_IDS, defaults)
    variant_id = _check_id(m.top, m.where, path)
    if path == _builtin_path(variant_id).resolve() and m.unsourced:
        key = sorted(m.unsourced)[0]
        table, _, name = key.partition(".")
        raise m.where.error(
            table,
            name,
            "a key of a built-in variant needs its own source (a `source` in its table, or "
            '{ value = ..., source = "...", why = "..." }), not the file\'s `sources`',
        )
    for name in ("suspended", "firmware", "joins"):
        if not m.tables.get(name):
            raise m.where.error(None, name, "missing table (and not inherited through extends)")
    rows = _Rows(m)
    routes = _routes(rows)
    applicable, applicability_code = _applicability_rows(rows)
    joins = m.tables["joins"]
    for key in ("unjoin_requires_smi_join", "unjoin_reject_code"):
        if key not in joins:
            raise m.where.error("joins", key, "missing (and not inherited through extends)")
    life_cycle = m.tables["suspended"].get("critical_life_cycle", "to-history")
    if life_cycle not in CRITICAL_LIFE_CYCLE:
        raise m.where.error(
            "suspended", "critical_life_cycle", f"must be one of {', '.join(CRITICAL_LIFE_CYCLE)}"
        )
    effective = m.top.get("effective")
    pipeline = variant_rows.pipeline(m)
    roles, role_code = variant_rows.roles(m)
    update_rules = _update_rules(rows, routes)
    _warn_unread(rows, routes, update_rules, roles)
    validated = any(row.check == "join-validation" for row in pipeline)
    cascade_rows = variant_rows.cascades(m, rows.warnings)
    return Variant(
        id=variant_id,
        title=m.top.get("title", m.top["id"]),
        path=str(path),
        extends=m.top.get("extends"),
        effective=str(effective) if effective is not None else None,
        sources=tuple(m.top.get("sources", [])),
        e5=_e5_rows(rows),
        applicability=applicable,
        applicability_reject_code=applicability_code,
        update_smi_on=update_rules,
        routes=routes,
        cpl=replace(
            _cpl_rules(rows),
            reasons=variant_rows.removal_reasons(m, rows.types, rows.warnings),
        ),
        critical_life_cycle=life_cycle,
        unjoin_requires_smi_join=joins["unjoin_requires_smi_join"] and validated,
        unjoin_reject_code=rows.code(
            joins["unjoin_reject_code"], m.where, "joins", "unjoin_reject_code"
        ),
        reconcile_smi_from_8_9=bool(joins.get("reconcile_smi_from_8_9", False)),
        expect=_expect(m),
        key_sources=m.key_sources,
        key_whys=m.key_whys,
        warnings=tuple(dict.fromkeys(rows.warnings)),
        pipeline=pipeline,
        roles=roles,
        role_reject_code=rows.code(role_code, m.where, "roles", "reject_code"),
        messages=rows.messages,
        cascades=cascade_rows,
        device_types=rows.types,
        events=variant_rows.actor_events(m),
        alerts=rows.alerts,
        requests=rows.requests,
    )


_warned: set[str] = set()


def load_variant(ref: str) -> Variant:
    """Load a variant by built-in id or by path; raises VariantError on bad input. Its
    warnings go to standard error, once per file."""
    variant = _load(resolve(ref).resolve())
    if variant.path not in _warned:
        _warned.add(variant.path)
        for warning in variant.warnings:
            print(f"smi-spec: warning: {warning}", file=sys.stderr)
    return variant


def load_variants(ref: str) -> list[Variant]:
    """``all`` means every built-in variant; anything else is one variant reference."""
    if ref == "all":
        return [load_variant(v) for v in BUILTIN]
    return [load_variant(ref)]
