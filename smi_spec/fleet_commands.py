"""``smi-spec impact`` and ``smi-spec simulate``: a rule change across a fleet (docs/fleet.md)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from model.errors import InputError
from model.rates import Rates, load_rates
from model.variant import load_variant
from smi_spec.cli import Format, FormatOption, app, console
from smi_spec.plain import plain


def _rates(file: str | None, loss: float | None) -> Rates:
    if loss is not None and not 0 <= loss <= 1:
        raise InputError(f"--loss must be a probability from 0 to 1, not {loss}")
    return load_rates(file).with_loss(response=loss, alert=loss)


def _fleet(fleet: int | None, rates: Rates) -> int:
    value = int(rates.figure("fleet")) if fleet is None else fleet
    if value < 1:
        raise InputError(f"--fleet must be 1 or more, not {value}")
    return value


def impact_report(variant_ref: str, rates: Rates, fleet: int) -> dict[str, Any]:
    """One variant's figures per device type, with the rates and their sources."""
    from properties.impact import impact

    variant = load_variant(variant_ref)
    types = [t.as_dict() for t in impact(variant, rates, fleet)]
    return {
        "variant": variant.id,
        "fleet": fleet,
        "horizon_years": rates.figure("horizon_years"),
        "types": types,
        "expected_stranded": sum(t["expected_stranded"] for t in types),
        "expected_cost_gbp": sum(t["expected_cost_gbp"] for t in types),
        "rates": rates.rows(),
    }


def _saving(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    by_type = [
        {
            "device_type": x["device_type"],
            "stranded_saved": x["expected_stranded"] - y["expected_stranded"],
            "gbp_saved": x["expected_cost_gbp"] - y["expected_cost_gbp"],
        }
        for x, y in zip(a["types"], b["types"], strict=True)
    ]
    return {
        "from": a["variant"],
        "to": b["variant"],
        "fleet": a["fleet"],
        "types": by_type,
        "stranded_saved": a["expected_stranded"] - b["expected_stranded"],
        "gbp_saved": a["expected_cost_gbp"] - b["expected_cost_gbp"],
        "reports": [a, b],
    }


def _show(report: dict[str, Any]) -> None:
    table = Table(title=f"{report['variant']}: a fleet of {report['fleet']:,} of each type, a year")
    for column in ("device type", "P(stranded)", "expected stranded", "99% interval", "£"):
        table.add_column(column)
    for t in report["types"]:
        low, high = t["interval_99"]
        table.add_row(
            plain(t["system"]),
            f"{t['probability_stranded']:.3g}",
            f"{t['expected_stranded']:,.1f}",
            f"{low:,}–{high:,}",
            f"£{t['expected_cost_gbp']:,.0f}",
        )
    console.print(table)
    rates = Table(title="rates and their sources")
    for column in ("rate", "value", "source", "why"):
        rates.add_column(column)
    for row in report["rates"]:
        rates.add_row(*(plain(row[k]) for k in ("name", "value", "source", "why")))
    console.print(rates)


def impact_command(
    variant: Annotated[str, typer.Option(help="built-in variant id or a .toml file")] = "baseline",
    fleet: Annotated[int | None, typer.Option(help="devices of each type (default: rates)")] = None,
    loss: Annotated[float | None, typer.Option(help="probability a response/alert is lost")] = None,
    rates: Annotated[str | None, typer.Option(help="rates file (JSON, docs/fleet.md)")] = None,
    diff: Annotated[
        tuple[str, str] | None, typer.Option(help="A B: what B saves against A")
    ] = None,
    calibrate: Annotated[
        bool, typer.Option(help="the loss rate the seeds' incident count implies")
    ] = False,
    installation_rate: Annotated[
        float, typer.Option(help="joins per installation per year (--calibrate)")
    ] = 0.2,
    format: FormatOption = Format.text,
) -> None:
    """Expected stranded devices and £ a year for a fleet, per device type, computed with
    Storm from each type's explored closed system (docs/fleet.md)."""
    chosen = _rates(rates, loss)
    size = _fleet(fleet, chosen)
    if calibrate:
        from properties.calibrate import calibrate as infer

        if not installation_rate > 0:
            raise InputError("--installation-rate must be more than 0")
        result: dict[str, Any] = {
            "variant": load_variant(variant).id,
            **infer(load_variant(variant), chosen, size, installation_rate).as_dict(),
            "incidents": next(r for r in chosen.rows() if r["name"].startswith("incidents.")),
        }
    elif diff is not None:
        result = _saving(*(impact_report(v, chosen, size) for v in diff))
    else:
        result = impact_report(variant, chosen, size)
    if format is Format.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    elif calibrate:
        loss_text = (
            "none: even a certain loss strands fewer"
            if result["loss"] is None
            else (f"{result['loss']:.3g}")
        )
        console.print(
            f"{result['incidents_per_year']:.2f} strands a year in {size:,} installations "
            f"joining {installation_rate} times a year imply a response loss of {loss_text}"
        )
    elif diff is not None:
        for report in result["reports"]:
            _show(report)
        console.print(
            f"{result['to']} saves {result['stranded_saved']:,.1f} stranded devices and "
            f"£{result['gbp_saved']:,.0f} a year against {result['from']}"
        )
    else:
        _show(result)


app.command("impact")(impact_command)
