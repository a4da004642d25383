"""The checks every table of a merged variant shares (docs/formats.md): an SRV in either
spelling, a provenance tag, an exception or deny list of check E5, Non-Device Request rules,
a DUIS response code, and the device types an ``[applicability]`` row names. Errors are
:class:`VariantError` at the key's line; a row that can never fire adds a warning.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, Final

from model import variant_rows
from model.catalogue import applicability, catalogue, lookup, normalise_srv
from model.rule_tables import (
    Exemption,
    NonDeviceRule,
)
from model.variant_file import PARENT_ROW, Locator, Merged, check_tags, is_a, type_name

#: The keys of an entry of an exception or deny list of check E5, and their types.
EXEMPTION_KEYS: Final = {"srv": str, "command_variant": int, "smets": int, "source": str}
#: The keys of a ``non_device`` entry of check E5, and their types.
NON_DEVICE_KEYS: Final = {"srv": str, "gated": bool, "source": str, "why": str}


def is_device_type(value: Any, known: Collection[str]) -> bool:
    """A known device type's name; a list or table there is refused, not hashed."""
    return isinstance(value, str) and value in known


# ---------------------------------------------------------------------------------------
# Rows of each table, validated


class Rows:
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
        keys = EXEMPTION_KEYS
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
        return device_type in raw_types(srv, self.m.tables.get("applicability", {}).get(srv))

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
        keys = NON_DEVICE_KEYS
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


def raw_types(srv: str, row: Any) -> set[str]:
    """The device types a merged, not yet checked ``[applicability]`` row names, the
    parent's row's (else the DUIS reference data's) and its own additions included."""
    if isinstance(row, dict) and isinstance(row.get("device_types"), list):
        return set(row["device_types"])
    added = row.get("add_device_types") if isinstance(row, dict) else None
    parent = row.get(PARENT_ROW) if isinstance(row, dict) else None
    if isinstance(parent, dict):
        base = raw_types(srv, parent)
    else:
        data = applicability().get(normalise_srv(srv))
        base = set(data.device_types) if data is not None else set()
    return base | set(added if isinstance(added, list) else ())
