"""Rule variants: the legal text as data (TOML files in the format of design.md).

A variant says what differs between rule sets: the check E5 exception list, which responses
update the SMI firmware version, and how the DSP validates an Unjoin. ``extends`` names a
parent (a built-in id or a path relative to the file); each table's keys replace the
parent's. Any path to a ``.toml`` file works wherever a built-in id does.

Errors name the file, the key and the line, and are :class:`VariantError` (exit code 2).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

from model.catalogue import catalogue, normalise_srv
from model.errors import VariantError
from model.provenance import TAGS
from properties.ids import PROPERTY_IDS, VERDICTS

BUILTIN: Final = ("baseline", "mp105", "mp178")

UpdateKind = Literal["success", "with-version"]


@dataclass(frozen=True, slots=True)
class Exemption:
    """A Non-Critical SRV still accepted for a Suspended device, with its conditions."""

    srv: str
    command_variant: int | None
    smets: int | None
    source: str

    def matches(self, srv: str, command_variant: int | None, smets: int | None) -> bool:
        """True when a request meets this entry, Command Variant and SMETS included."""
        return (
            srv == self.srv
            and (self.command_variant is None or command_variant == self.command_variant)
            and (self.smets is None or smets == self.smets)
        )

    def describe(self) -> str:
        conditions = []
        if self.command_variant is not None:
            conditions.append(f"Command Variant {self.command_variant}")
        if self.smets is not None:
            conditions.append(f"SMETS{self.smets} only")
        return f"SR{self.srv}" + (f" ({', '.join(conditions)})" if conditions else "")


@dataclass(frozen=True, slots=True)
class UpdateRule:
    """A response that updates the SMI firmware version: ``SRV:success`` or ``SRV:with-version``."""

    srv: str
    kind: UpdateKind

    def applies(self, srv: str, success: bool, version: str | None) -> bool:
        if srv != self.srv or version is None:
            return False
        return success or self.kind == "with-version"

    def __str__(self) -> str:
        return f"{self.srv}:{self.kind}"


@dataclass(frozen=True, slots=True)
class Variant:
    """One rule set, merged with its parents and validated."""

    id: str
    title: str
    path: str
    extends: str | None
    effective: str | None
    sources: tuple[str, ...]
    allow_critical: bool
    reject_code: str
    exceptions: tuple[Exemption, ...]
    update_smi_on: tuple[UpdateRule, ...]
    unjoin_requires_smi_join: bool
    unjoin_reject_code: str
    reconcile_smi_from_8_9: bool
    expect: Mapping[str, str]
    #: For each rule key ("suspended.exceptions", ...), the provenance of the file defining it.
    key_sources: Mapping[str, str] = field(default_factory=dict)

    def expected(self, property_id: str) -> str:
        """The verdict this variant expects for a property: 'holds' unless [expect] says so."""
        return self.expect.get(property_id, "holds")

    def source_of(self, key: str) -> str:
        return self.key_sources.get(key, ",".join(self.sources) or "assumption")


# The schema: table -> key -> (python type, required in a variant without ``extends``).
_TOP: Final[dict[str, type | tuple[type, ...]]] = {
    "id": str,
    "title": str,
    "extends": str,
    "effective": (str, dt.date),
    "sources": list,
}
_TABLES: Final[dict[str, dict[str, tuple[type | tuple[type, ...], bool]]]] = {
    "suspended": {
        "allow_critical": (bool, True),
        "reject_code": (str, True),
        "exceptions": (list, True),
        "source": (str, False),
    },
    "firmware": {"update_smi_on": (list, True), "source": (str, False)},
    "joins": {
        "source": (str, False),
        "unjoin_requires_smi_join": (bool, True),
        "unjoin_reject_code": (str, True),
        "reconcile_smi_from_8_9": (bool, False),
    },
}
_DEFAULTS: Final = {"joins.reconcile_smi_from_8_9": False}
# Each rule table may carry ``source``: the provenance of its keys (default: ``sources``).
_EXEMPTION_KEYS: Final = {"srv": str, "command_variant": int, "smets": int, "source": str}
_RESPONSE_KINDS: Final = ("success", "with-version")


class _Locator:
    """Finds the line of a key in a TOML text, so errors can name it."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, table: str | None, key: str, item: int | None = None) -> int:
        current: str | None = None
        key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number, line in enumerate(self.lines, start=1):
            header = re.match(r"^\s*\[([^\]]+)\]", line)
            if header:
                current = header.group(1).strip()
                continue
            if current == table and key_re.match(line):
                return self._item_line(number, item) if item is not None else number
        return 1

    def _item_line(self, start: int, item: int) -> int:
        """The line of the ``item``-th inline table ``{ ... }`` from line ``start`` on."""
        seen = -1
        for number in range(start, len(self.lines) + 1):
            seen += self.lines[number - 1].split("#", 1)[0].count("{")
            if seen >= item:
                return number
        return start

    def error(
        self, table: str | None, key: str, message: str, item: int | None = None
    ) -> VariantError:
        name = f"{table}.{key}" if table else key
        line = self.line_of(table, key, item)
        return VariantError(f"{self.path}:{line}: {name}: {message}")


def _builtin_path(variant_id: str) -> Path:
    return Path(str(resources.files("model").joinpath(f"variants/{variant_id}.toml")))


def resolve(ref: str, relative_to: Path | None = None) -> Path:
    """The file a variant reference names: a built-in id, or a path to a TOML file."""
    if ref in BUILTIN:
        return _builtin_path(ref)
    path = Path(ref)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if path.suffix != ".toml" or not path.is_file():
        raise VariantError(
            f"unknown variant {ref!r}: not one of {', '.join(BUILTIN)} and not a .toml file"
        )
    return path


def _read(path: Path) -> tuple[dict[str, Any], _Locator]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VariantError(f"{path}: cannot read the variant file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise VariantError(f"{path}: not valid TOML: {exc}") from None
    return data, _Locator(str(path), text)


def _check_shape(data: dict[str, Any], where: _Locator) -> None:
    for key, value in data.items():
        if key in _TABLES:
            if not isinstance(value, dict):
                raise where.error(None, key, "must be a table")
            for sub, sub_value in value.items():
                if sub not in _TABLES[key]:
                    known = ", ".join(_TABLES[key])
                    raise where.error(key, sub, f"unknown key (known: {known})")
                expected, _ = _TABLES[key][sub]
                if not isinstance(sub_value, expected) or (
                    expected is not bool and isinstance(sub_value, bool)
                ):
                    raise where.error(key, sub, f"must be {_type_name(expected)}")
                if sub == "source" and any(
                    t.strip() not in TAGS for t in str(sub_value).split(",")
                ):
                    raise where.error(key, sub, f"unknown provenance tag in {sub_value!r}")
        elif key == "expect":
            if not isinstance(value, dict):
                raise where.error(None, key, "must be a table")
            for prop, verdict in value.items():
                if prop not in PROPERTY_IDS:
                    raise where.error(
                        "expect", prop, f"unknown property (known: {', '.join(PROPERTY_IDS)})"
                    )
                if verdict not in VERDICTS:
                    raise where.error("expect", prop, 'must be "holds" or "violated"')
        elif key in _TOP:
            if not isinstance(value, _TOP[key]):
                raise where.error(None, key, f"must be {_type_name(_TOP[key])}")
        else:
            known = ", ".join([*_TOP, *_TABLES, "expect"])
            raise where.error(None, key, f"unknown key (known: {known})")
    if "id" not in data:
        raise where.error(None, "id", "missing: every variant names its id")
    for tag in data.get("sources", []):
        if tag not in TAGS:
            raise where.error(None, "sources", f"unknown provenance tag {tag!r}")


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {
        bool: "true or false",
        str: "a string",
        list: "a list",
        int: "an integer",
        dt.date: "a date",
    }
    if isinstance(expected, tuple):
        return " or ".join(names[t] for t in expected)
    return names[expected]


def _exemptions(raw: list[Any], where: _Locator) -> tuple[Exemption, ...]:
    entries = []
    known_srvs = catalogue()
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise where.error(
                "suspended",
                "exceptions",
                f'entry {index + 1} must be a table like {{ srv = "11.1" }}',
                index,
            )
        for key, value in entry.items():
            if key not in _EXEMPTION_KEYS:
                raise where.error(
                    "suspended", "exceptions", f"entry {index + 1}: unknown key {key!r}", index
                )
            if not isinstance(value, _EXEMPTION_KEYS[key]) or isinstance(value, bool):
                raise where.error(
                    "suspended",
                    "exceptions",
                    f"entry {index + 1}: {key} must be {_type_name(_EXEMPTION_KEYS[key])}",
                    index,
                )
        if "srv" not in entry:
            raise where.error("suspended", "exceptions", f"entry {index + 1}: missing srv", index)
        srv = normalise_srv(entry["srv"])
        if srv not in known_srvs:
            raise where.error(
                "suspended", "exceptions", f"entry {index + 1}: unknown SRV {entry['srv']!r}", index
            )
        if entry.get("smets", 1) not in (1, 2):
            raise where.error(
                "suspended", "exceptions", f"entry {index + 1}: smets must be 1 or 2", index
            )
        source = entry.get("source", "")
        if source and source not in TAGS:
            raise where.error(
                "suspended",
                "exceptions",
                f"entry {index + 1}: unknown provenance tag {source!r}",
                index,
            )
        entries.append(Exemption(srv, entry.get("command_variant"), entry.get("smets"), source))
    return tuple(entries)


def _update_rules(raw: list[Any], where: _Locator) -> tuple[UpdateRule, ...]:
    rules = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, str) or entry.count(":") != 1:
            raise where.error(
                "firmware",
                "update_smi_on",
                f'entry {index + 1}: expected "SRV:success" or "SRV:with-version"',
            )
        srv, kind = entry.split(":")
        srv = normalise_srv(srv)
        if srv not in catalogue():
            raise where.error(
                "firmware", "update_smi_on", f"entry {index + 1}: unknown SRV {srv!r}"
            )
        if kind not in _RESPONSE_KINDS:
            raise where.error(
                "firmware",
                "update_smi_on",
                f"entry {index + 1}: unknown response kind {kind!r} (known: success, with-version)",
            )
        rules.append(UpdateRule(srv, kind))  # type: ignore[arg-type]
    return tuple(rules)


def _merged(
    path: Path, chain: tuple[Path, ...]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str], _Locator]:
    """The merged tables, the top-level keys and the per-key provenance of ``path``."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        data, where = _read(path)
        raise where.error(None, "extends", f"a cycle in extends: {cycle}")
    data, where = _read(path)
    _check_shape(data, where)
    tables: dict[str, Any] = {}
    key_sources: dict[str, str] = {}
    if "extends" in data:
        try:
            parent = resolve(data["extends"], relative_to=path.parent)
        except VariantError as exc:
            raise where.error(None, "extends", str(exc)) from None
        tables, _, key_sources, _ = _merged(parent, (*chain, resolved))
        tables = {name: dict(t) for name, t in tables.items()}
        tables["expect"] = {}  # expectations are the variant's own, never inherited
    own_sources = ",".join(data.get("sources", [])) or "assumption"
    for name in (*_TABLES, "expect"):
        table = data.get(name, {})
        table_source = table.get("source", own_sources)
        for key, value in table.items():
            if key == "source":
                continue
            tables.setdefault(name, {})[key] = value
            key_sources[f"{name}.{key}"] = table_source
    return tables, data, key_sources, where


@cache
def _load(path: Path) -> Variant:
    tables, top, key_sources, where = _merged(path, ())
    for name, keys in _TABLES.items():
        for key, (_, required) in keys.items():
            if key != "source" and key not in tables.get(name, {}):
                if required:
                    raise where.error(name, key, "missing (and not inherited through extends)")
                tables.setdefault(name, {})[key] = _DEFAULTS[f"{name}.{key}"]
                key_sources[f"{name}.{key}"] = "assumption"
    suspended, firmware, joins = tables["suspended"], tables["firmware"], tables["joins"]
    if not re.fullmatch(r"E\w+", suspended["reject_code"]):
        raise where.error("suspended", "reject_code", 'must be a DUIS response code such as "E51"')
    if not re.fullmatch(r"E\w+", joins["unjoin_reject_code"]):
        raise where.error(
            "joins", "unjoin_reject_code", 'must be a DUIS response code such as "E080801"'
        )
    effective = top.get("effective")
    return Variant(
        id=top["id"],
        title=top.get("title", top["id"]),
        path=str(path),
        extends=top.get("extends"),
        effective=str(effective) if effective is not None else None,
        sources=tuple(top.get("sources", [])),
        allow_critical=suspended["allow_critical"],
        reject_code=suspended["reject_code"],
        exceptions=_exemptions(suspended["exceptions"], where),
        update_smi_on=_update_rules(firmware["update_smi_on"], where),
        unjoin_requires_smi_join=joins["unjoin_requires_smi_join"],
        unjoin_reject_code=joins["unjoin_reject_code"],
        reconcile_smi_from_8_9=joins["reconcile_smi_from_8_9"],
        expect=dict(tables.get("expect", {})),
        key_sources=key_sources,
    )


def load_variant(ref: str) -> Variant:
    """Load a variant by built-in id or by path; raises VariantError on bad input."""
    return _load(resolve(ref).resolve())


def load_variants(ref: str) -> list[Variant]:
    """``all`` means every built-in variant; anything else is one variant reference."""
    if ref == "all":
        return [load_variant(v) for v in BUILTIN]
    return [load_variant(ref)]
