"""The rates of a fleet: how often Service Users and the DCC act, how often a message is
lost, what a manual correction costs (``model/data/rates.json``; format: docs/fleet.md).

Every figure is a row with its own source: a seed's figure where the seeds give one (the
£2,000 price and the four MP178 cases, seed:MP178), else ``assumption`` with why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from model.data_files import read_data
from model.errors import InputError
from model.provenance import TAGS

#: The keys of a rates document that hold one figure each.
FIGURES = ("horizon_years", "fleet", "cost_per_manual_correction_gbp", "non_compliant_fraction")
#: Action names that are not Service Requests.
CPL_REMOVE, CPL_ADD = "cpl_remove", "cpl_add"


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure and where it comes from."""

    value: float
    source: str
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source, "why": self.why}


@dataclass(frozen=True, slots=True)
class Incidents:
    """Observed strands: ``cases`` between two dates for one property (seed:MP178)."""

    cases: int
    since: date
    until: date
    property_id: str
    source: str
    why: str

    @property
    def years(self) -> float:
        return (self.until - self.since).days / 365.25

    @property
    def per_year(self) -> float:
        return self.cases / self.years


@dataclass(frozen=True, slots=True)
class Rates:
    """A rates document, validated."""

    path: str
    figures: dict[str, Figure]
    loss: dict[str, Figure]
    actions: dict[str, Figure]
    incidents: Incidents

    def figure(self, name: str) -> float:
        return self.figures[name].value

    def per_year(self, action: str) -> float:
        """How often ``action`` happens per device (per version for a CPL change) per year."""
        try:
            return self.actions[action].value
        except KeyError:
            raise InputError(
                f"{self.path}: actions: no rate for {action!r} (give every action of the model "
                f"a row, 0 if it does not happen)"
            ) from None

    def with_loss(self, response: float | None = None, alert: float | None = None) -> Rates:
        """These rates with the loss probabilities replaced (``--loss``)."""
        loss = dict(self.loss)
        for kind, value in (("response", response), ("alert", alert)):
            if value is not None:
                loss[kind] = Figure(value, "assumption", "given on the command line (--loss)")
        return Rates(self.path, self.figures, loss, self.actions, self.incidents)

    def rows(self) -> list[dict[str, Any]]:
        """Every figure as a row: name, value, source, why (for reports)."""
        rows = [{"name": name, **figure.as_dict()} for name, figure in self.figures.items()]
        rows += [{"name": f"loss.{k}", **f.as_dict()} for k, f in self.loss.items()]
        rows += [{"name": f"per_year.{k}", **f.as_dict()} for k, f in self.actions.items()]
        i = self.incidents
        rows.append(
            {
                "name": f"incidents.{i.property_id}",
                "value": f"{i.cases} from {i.since} to {i.until}",
                "source": i.source,
                "why": i.why,
            }
        )
        return rows


def default_rates() -> Rates:
    return parse_rates("model/data/rates.json", read_data("rates.json"))


def load_rates(file: str | None) -> Rates:
    """The rates of ``file`` (JSON), or the built-in ones; bad input is an InputError."""
    if file is None:
        return default_rates()
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: cannot read the rates file ({exc.__class__.__name__})") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{file}: not JSON: {exc}") from None
    return parse_rates(file, document)


def _figure(path: str, where: str, raw: Any, key: str = "value") -> Figure:
    if not isinstance(raw, dict):
        raise InputError(f"{path}: {where}: must be {{{key!r}: ..., 'source': ..., 'why': ...}}")
    value, source, why = raw.get(key), raw.get("source"), raw.get("why")
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise InputError(f"{path}: {where}: {key} must be a number, 0 or more")
    if source not in TAGS:
        raise InputError(f"{path}: {where}: source must be one of {', '.join(TAGS)}")
    if not isinstance(why, str) or not why.strip():
        raise InputError(f"{path}: {where}: every row says why (its own 'why')")
    return Figure(float(value), source, why)


def parse_rates(path: str, document: Any) -> Rates:
    """Validate a rates document (docs/fleet.md): every row has a number, a source, a why."""
    if not isinstance(document, dict):
        raise InputError(f"{path}: a rates file is a JSON object")
    figures = {name: _figure(path, name, document.get(name)) for name in FIGURES}
    if not 0 <= figures["non_compliant_fraction"].value <= 1:
        raise InputError(f"{path}: non_compliant_fraction: must be from 0 to 1")
    if not figures["horizon_years"].value > 0:
        raise InputError(f"{path}: horizon_years: must be more than 0")
    loss_raw = document.get("loss")
    if not isinstance(loss_raw, dict) or set(loss_raw) != {"response", "alert"}:
        raise InputError(f"{path}: loss: must give 'response' and 'alert'")
    loss = {kind: _figure(path, f"loss.{kind}", loss_raw[kind]) for kind in ("response", "alert")}
    if any(f.value > 1 for f in loss.values()):
        raise InputError(f"{path}: loss: a probability is at most 1")
    rows = document.get("actions")
    if not isinstance(rows, list):
        raise InputError(f"{path}: actions: must be a list of rows")
    actions: dict[str, Figure] = {}
    for n, row in enumerate(rows, 1):
        name = row.get("action") if isinstance(row, dict) else None
        if not isinstance(name, str) or name in actions:
            raise InputError(f"{path}: actions: row {n}: needs an 'action' named once")
        actions[name] = _figure(path, f"actions: {name}", row, "per_year")
    return Rates(path, figures, loss, actions, _incidents(path, document.get("incidents")))


def _incidents(path: str, raw: Any) -> Incidents:
    if not isinstance(raw, dict):
        raise InputError(f"{path}: incidents: must be an object")
    try:
        since, until = date.fromisoformat(raw["since"]), date.fromisoformat(raw["until"])
        cases = raw["cases"]
        prop, source, why = raw["property"], raw["source"], raw["why"]
    except (KeyError, TypeError, ValueError):
        raise InputError(
            f"{path}: incidents: needs cases, since, until (YYYY-MM-DD), property, source, why"
        ) from None
    if not isinstance(cases, int) or cases < 0 or until <= since or source not in TAGS:
        raise InputError(f"{path}: incidents: bad cases, dates or source")
    return Incidents(cases, since, until, str(prop), str(source), str(why))
