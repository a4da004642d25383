"""Reading a variant file: TOML, its shape, ``extends`` merging, and errors with lines.

The format is that of docs/design.md, grown compatibly (docs/formats.md lists every key). A
table's keys replace the parent's; the row tables (``[e5.STATUS]``, ``[applicability."SRV"]``,
``[firmware.routes.TYPE]``) replace the parent's rows one by one. ``[expect]`` is never
inherited. Errors are :class:`VariantError` naming the file, the key and the line (found by
:class:`model.toml_lines.Locator`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from model import inputs
from model.errors import InputError, VariantError
from model.provenance import TAGS
from model.toml_lines import Locator

_SCALAR: Final = (str, bool, int, list, dict)
#: table -> key -> python type; ``*`` names the table's rows (each a table of its own).
SCHEMA: Final[dict[str, dict[str, type]]] = {
    "suspended": {
        "allow_critical": bool,
        "reject_code": str,
        "exceptions": list,
        "deny": list,
        "non_device": list,
        "critical_life_cycle": str,
        "source": str,
        "why": str,
    },
    "e5": {"source": str, "*": dict},
    "applicability": {"reject_code": str, "source": str, "why": str, "*": dict},
    "firmware": {"update_smi_on": list, "routes": dict, "source": str, "why": str},
    "cpl": {
        "removal_suspends": list,
        "relisting_restores": bool,
        "off_cpl_update_suspends": bool,
        "reasons": dict,
        "source": str,
        "why": str,
    },
    "joins": {
        "unjoin_requires_smi_join": bool,
        "unjoin_reject_code": str,
        "reconcile_smi_from_8_9": bool,
        "source": str,
        "why": str,
    },
    "pipeline": {"checks": list, "source": str, "why": str},
    "roles": {"reject_code": str, "source": str, "why": str, "*": dict},
    "messages": {"source": str, "why": str, "*": dict},
    "cascades": {"source": str, "why": str, "*": dict},
    "device_types": {"source": str, "why": str, "*": dict},
    "alerts": {"source": str, "why": str, "*": dict},
    "events": {"source": str, "why": str, "*": dict},
    "requests": {"source": str, "why": str, "*": dict},
}
TOP: Final[dict[str, type | tuple[type, ...]]] = {
    "id": str,
    "title": str,
    "extends": str,
    "effective": (str, dt.date),
    "sources": list,
}
#: Tables whose rows (sub-tables) merge one by one through ``extends``.
ROW_TABLES: Final = {
    "e5": None,
    "applicability": None,
    "firmware": "routes",
    "cpl": "reasons",
    "roles": None,
    "messages": None,
    "cascades": None,
    "device_types": None,
    "alerts": None,
    "events": None,
    "requests": None,
}
#: How many files an ``extends`` chain may hold before it is refused (assumption: real
#: variants extend one or two others).
MAX_EXTENDS: Final = 16


def type_name(expected: type | tuple[type, ...]) -> str:
    names = {
        bool: "true or false",
        str: "a string",
        list: "a list",
        int: "an integer",
        dict: "a table",
        dt.date: "a date",
    }
    if isinstance(expected, tuple):
        return " or ".join(names[t] for t in expected)
    return names[expected]


def is_a(value: Any, expected: type | tuple[type, ...]) -> bool:
    """isinstance, except that a bool is never an int (TOML keeps them apart)."""
    if isinstance(value, bool) and expected is not bool and bool not in _as_tuple(expected):
        return False
    return isinstance(value, expected)


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def check_tags(value: str, where: Locator, table: str | None, key: str) -> None:
    if any(t.strip() not in TAGS for t in value.split(",")):
        raise where.error(
            table, key, f"unknown provenance tag in {value!r} (known: {', '.join(TAGS)})"
        )


def read(path: Path) -> tuple[dict[str, Any], Locator]:
    """Read through the input boundary: a regular file, size-capped, bounded when parsed."""
    try:
        text = inputs.read_text(path, inputs.MAX_VARIANT_BYTES)
        data = inputs.parse_toml(text, str(path), dates=True)
    except VariantError:
        raise
    except InputError as exc:
        raise VariantError(str(exc)) from None
    return data, Locator(str(path), text)


def check_shape(data: dict[str, Any], where: Locator, property_ids: tuple[str, ...]) -> None:
    """Every top-level key, table and key is known and of the right type."""
    for key, value in data.items():
        if key in SCHEMA:
            _check_table(key, value, where)
        elif key == "expect":
            if not isinstance(value, dict):
                raise where.error(None, key, "must be a table")
            for prop in value:
                if prop not in property_ids:
                    known = ", ".join(property_ids)
                    raise where.error("expect", prop, f"unknown property (known: {known})")
        elif key in TOP:
            if not is_a(value, TOP[key]):
                raise where.error(None, key, f"must be {type_name(TOP[key])}")
        else:
            known = ", ".join([*TOP, *SCHEMA, "expect"])
            what = "table" if isinstance(value, dict) else "key"
            raise where.error(None, key, f"unknown {what} (known: {known})")
    if "id" not in data:
        raise where.error(None, "id", "missing: every variant names its id")
    for tag in data.get("sources", []):
        if tag not in TAGS:
            raise where.error(None, "sources", f"unknown provenance tag {tag!r}")


#: The keys of a key written with its own source: ``key = { value = ..., source = "...",
#: why = "..." }`` (docs/formats.md, "A key with its own source").
SOURCED: Final = frozenset({"value", "source", "why"})


def sourced(value: Any) -> bool:
    """Is ``value`` a key written with its own source (a table of ``value``, ``source`` and
    an optional ``why``)?"""
    return (
        isinstance(value, dict) and "value" in value and "source" in value and set(value) <= SOURCED
    )


def _check_table(name: str, value: Any, where: Locator) -> None:
    if not isinstance(value, dict):
        raise where.error(None, name, "must be a table")
    schema = SCHEMA[name]
    for sub, sub_value in value.items():
        if sourced(sub_value) and sub in schema and schema[sub] is not dict:
            check_tags(str(sub_value["source"]), where, name, sub)
            sub_value = sub_value["value"]
        expected = schema.get(sub, schema.get("*") if isinstance(sub_value, dict) else None)
        if expected is None:
            known = ", ".join(k for k in schema if k != "*")
            rows = " and row tables" if "*" in schema else ""
            raise where.error(name, sub, f"unknown key (known: {known}{rows})")
        if not is_a(sub_value, expected):
            raise where.error(name, sub, f"must be {type_name(expected)}")
        if sub == "source":
            check_tags(sub_value, where, name, sub)


@dataclass
class Merged:
    """A variant file merged with its parents: tables, top-level keys, per-key sources."""

    tables: dict[str, dict[str, Any]]
    top: dict[str, Any]
    key_sources: dict[str, str]
    where: Locator
    #: For each row ("e5.suspended", "firmware.routes.PPMID"), the locator of the file
    #: that defined it, so that a warning about a row names its own file and line.
    row_files: dict[str, Locator] = field(default_factory=dict)
    #: The why of each key written with its own source (``table.key``).
    key_whys: dict[str, str] = field(default_factory=dict)
    #: Keys whose source came only from the file's ``sources`` list: neither a ``source``
    #: in their table nor their own (an error in built-in variants, issue 19).
    unsourced: set[str] = field(default_factory=set)


#: Keys a file without ``extends`` takes from the built-in baseline when it leaves them out:
#: the tables the first variant format did not have, so that such a file means what it did.
DEFAULTED: Final = {
    "suspended": ("non_device", "critical_life_cycle"),
    "e5": None,
    "applicability": None,
    "firmware": ("routes",),
    "cpl": None,
    "pipeline": None,
    "roles": None,
    "messages": None,
    "cascades": None,
    "device_types": None,
    "alerts": None,
    "events": None,
    "requests": None,
}


#: In a merged ``[applicability."SRV"]`` row that adds device types, the parent's row.
PARENT_ROW: Final = "_parent_row"


def merged(
    path: Path,
    chain: tuple[Path, ...],
    resolve: Any,
    property_ids: tuple[str, ...],
    defaults: Merged | None = None,
) -> Merged:
    """The merged tables of ``path`` and its ``extends`` chain. A file without ``extends``
    starts from ``defaults``' newer tables (``DEFAULTED``)."""
    resolved = path.resolve()
    data, where = read(path)
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise where.error(None, "extends", f"a cycle in extends: {cycle}")
    if len(chain) >= MAX_EXTENDS:
        raise where.error(None, "extends", f"a chain of more than {MAX_EXTENDS} variants")
    check_shape(data, where, property_ids)
    if "extends" in data:
        try:
            parent_path = resolve(data["extends"], relative_to=path.parent)
        except VariantError as exc:
            raise where.error(None, "extends", str(exc)) from None
        result = merged(parent_path, (*chain, resolved), resolve, property_ids, defaults)
        result.tables = {name: _copy(t) for name, t in result.tables.items()}
        result.tables["expect"] = {}  # expectations are the variant's own, never inherited
        result.top, result.where = data, where
    else:
        result = Merged({}, data, {}, where)
        if defaults is not None:
            _take_defaults(result, defaults)
    own_sources = ",".join(data.get("sources", [])) or "assumption"
    for name in (*SCHEMA, "expect"):
        table = data.get(name, {})
        table_source = table.get("source", own_sources)
        target = result.tables.setdefault(name, {})
        rows_key = ROW_TABLES.get(name, "") if name in ROW_TABLES else ""
        for key, value in table.items():
            if key in ("source", "why"):
                continue
            own_source = None
            if sourced(value) and SCHEMA.get(name, {}).get(key) not in (None, dict):
                own_source, why = str(value["source"]), str(value.get("why", ""))
                value = value["value"]
                result.key_whys[f"{name}.{key}"] = why
            if name in ROW_TABLES and rows_key is None and isinstance(value, dict):
                if name == "applicability" and "add_device_types" in value and key in target:
                    # a row that adds types adds them to the parent's row, kept beside it
                    value = {**value, PARENT_ROW: target[key]}
                target[key] = value
                result.row_files[f"{name}.{key}"] = where
            elif name in ROW_TABLES and key == rows_key:
                rows = target.setdefault(key, {})
                for row, row_value in value.items():
                    rows[row] = row_value
                    result.row_files[f"{name}.{key}.{row}"] = where
            else:
                target[key] = value
                result.row_files[f"{name}.{key}"] = where
                if name == "pipeline":
                    result.row_files[name] = where
            result.key_sources[f"{name}.{key}"] = own_source or table_source
            rows_sourced = isinstance(value, dict) or (
                isinstance(value, list)
                and all(isinstance(row, dict) and "source" in row for row in value)
            )
            if (
                own_source is None
                and "source" not in table
                and name != "expect"
                and not rows_sourced
            ):
                result.unsourced.add(f"{name}.{key}")
            else:
                result.unsourced.discard(f"{name}.{key}")
    return result


def _take_defaults(result: Merged, defaults: Merged) -> None:
    for table, keys in DEFAULTED.items():
        source = defaults.tables.get(table, {})
        for key, value in source.items():
            if keys is None or key in keys:
                result.tables.setdefault(table, {})[key] = (
                    _copy(value) if isinstance(value, dict) else value
                )
                name = f"{table}.{key}"
                if name in defaults.key_sources:
                    result.key_sources[name] = defaults.key_sources[name]
                if name in defaults.key_whys:
                    result.key_whys[name] = defaults.key_whys[name]
        for row, locator in defaults.row_files.items():
            if row.startswith(table):
                result.row_files[row] = locator


def _copy(table: dict[str, Any]) -> dict[str, Any]:
    return {k: dict(v) if isinstance(v, dict) else v for k, v in table.items()}
