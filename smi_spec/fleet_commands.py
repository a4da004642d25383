"""``smi-spec impact`` and ``smi-spec simulate``: a rule change across a fleet (docs/fleet.md)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from model.errors import InputError
from model.rates import Rates, load_rates
from model.variant import load_variant
from smi_spec.app import Format, FormatOption, app, console
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
    from checker.impact import impact

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
    table = Table(
        title=f"{report['variant']}: a fleet of {report['fleet']:,} of each type, a year",
        box=box.SIMPLE_HEAD,  # light borders: the figures fit 80 columns whole
    )
    table.add_column("device type", min_width=13, overflow="fold")
    for column in ("P", "stranded", "99% interval", "£ a year"):
        table.add_column(column, no_wrap=True, justify="right")
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
        rates.add_column(column, overflow="fold")
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
        from checker.calibrate import calibrate as infer

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


def simulate_command(
    out: Annotated[str, typer.Option(help="the fleet log to write (JSON Lines)")],
    variant: Annotated[str, typer.Option(help="built-in variant id or a .toml file")] = "baseline",
    fleet: Annotated[int, typer.Option(help="installations")] = 1000,
    days: Annotated[float, typer.Option(help="how long the fleet runs")] = 365.0,
    loss: Annotated[float | None, typer.Option(help="probability a response is lost")] = None,
    seed: Annotated[int, typer.Option(help="random seed: the same seed, the same log")] = 0,
    device_type: Annotated[str, typer.Option(help="the installations' device type")] = "ESME",
    rates: Annotated[str | None, typer.Option(help="rates file (JSON, docs/fleet.md)")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Write a synthetic fleet's DUIS message log from the rates (docs/fleet.md); replay it
    with ``smi-spec replay LOG --workers N`` to count stranded installations."""
    from checker.explorer import default_systems
    from checker.fleet_sim import write_simulation

    chosen = _rates(rates, loss)
    if fleet < 1 or not days > 0:
        raise InputError("--fleet must be 1 or more and --days more than 0")
    system = next((s for s in default_systems() if s.target == device_type), None)
    if system is None:
        names = ", ".join(s.target for s in default_systems())
        raise InputError(f"--device-type must be one of {names}, not {device_type!r}")
    try:
        counts = write_simulation(out, load_variant(variant), system, chosen, fleet, days, seed)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the log ({exc.strerror})") from None
    if format is Format.json:
        sys.stdout.write(json.dumps({"log": out, **counts}) + "\n")
    else:
        console.print(
            plain(
                f"{out}: {counts['events']:,} events of {fleet:,} installations "
                f"({counts['non_compliant']:,} non-compliant), {days:g} days"
            )
        )


app.command("simulate")(simulate_command)


def replay_fleet_command(
    logs: list[str], variant: str | None, workers: int | None, scheduler: str | None, text: bool
) -> None:
    """``replay --workers``: each fleet log's report (docs/replay.md, "Fleet logs")."""
    from smi_spec.fleet_dask import replay_fleet

    if workers is not None and not 1 <= workers <= 256:
        raise InputError(f"--workers must be from 1 to 256, not {workers}")
    reports = replay_fleet(logs, variant, workers or 1, scheduler)
    if not text:
        sys.stdout.write(json.dumps(reports, ensure_ascii=False, indent=1) + "\n")
    else:
        for report in reports:
            console.print(
                plain(
                    f"{report['log']}: {report['events']:,} events, "
                    f"{report['stranded_installations']:,} stranded installations "
                    f"{report['stranded_by_property']}, "
                    f"{report['disagreement_count']:,} disagreements"
                )
            )
    raise typer.Exit(0 if all(r["disagreement_count"] == 0 for r in reports) else 1)
