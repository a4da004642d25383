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
The rows of each table are built and checked in model/variant_admission.py (check E5,
applicability), model/variant_firmware.py (routes, ``update_smi_on``) and
model/variant_rows.py (the newer tables), with the checks they share in
model/variant_row_checks.py.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from model import variant_rows
from model.alerts import DeviceAlert, device_alerts
from model.catalogue import Applicability, applicability
from model.device_types import DeviceType, device_types
from model.errors import VariantError
from model.inputs import check_name
from model.messages import Message, messages
from model.property_ids import PROPERTY_IDS, VERDICTS
from model.rule_tables import (
    CHECKS,
    CRITICAL_LIFE_CYCLE,
    ActorEvent,
    ApplicabilityRow,
    Cascade,
    CplRules,
    E5Row,
    Exemption,
    FirmwareRoute,
    PipelineCheck,
    RequestRow,
    RoleRow,
    UpdateRule,
)
from model.status_chart import OPERATIONAL
from model.variant_admission import applicability_rows, e5_rows
from model.variant_file import Locator, Merged, merged
from model.variant_firmware import firmware_routes, update_smi_on_rules, warn_unread
from model.variant_row_checks import Rows

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


def _cpl_rules(rows: Rows) -> CplRules:
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
    rows = Rows(m)
    routes = firmware_routes(rows)
    applicable, applicability_code = applicability_rows(rows)
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
    update_rules = update_smi_on_rules(rows, routes)
    warn_unread(rows, routes, update_rules, roles)
    validated = any(row.check == "join-validation" for row in pipeline)
    cascade_rows = variant_rows.cascades(m, rows.warnings)
    return Variant(
        id=variant_id,
        title=m.top.get("title", m.top["id"]),
        path=str(path),
        extends=m.top.get("extends"),
        effective=str(effective) if effective is not None else None,
        sources=tuple(m.top.get("sources", [])),
        e5=e5_rows(rows),
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


def forget_loaded() -> None:
    """Forget every variant file read and warned of: the next load reads the files again
    (``check --watch`` after a save)."""
    _load.cache_clear()
    _warned.clear()


def load_variants(ref: str) -> list[Variant]:
    """``all`` means every built-in variant; anything else is one variant reference."""
    if ref == "all":
        return [load_variant(v) for v in BUILTIN]
    return [load_variant(ref)]
