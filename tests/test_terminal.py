"""A terminal that helps (issue 22): the closing summary of check, --brief, the mix echoed,
"(unexpected)" on its verdict's line, diff's types, property ids whole."""

from __future__ import annotations

from pathlib import Path

from model.property_ids import PROPERTY_IDS
from tests.conftest import cli


def _summary(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    return lines[len(lines) - lines[::-1].index("Summary") - 1 :]


def test_check_baseline_ends_with_a_summary_of_at_most_20_lines() -> None:
    result = cli("check", "--variant", "baseline")
    assert result.returncode == 0
    summary = _summary(result.stdout)
    assert len(summary) <= 20, summary
    text = " ".join(" ".join(summary).split())
    assert "baseline: 7 of 7 properties as expected" in text
    for property_id in ("firmware-recoverable", "join-recoverable", "suspension-recoverable"):
        assert f"{property_id} violated for" in text
    assert "first cause: lost SR8.7.2 response" in text
    assert summary[-1].startswith("Full stories: above")


def test_brief_prints_the_table_alone() -> None:
    brief = cli("check", "--variant", "baseline", "--brief").stdout
    assert "Summary" not in brief and "cause 1 of" not in brief and "vacuous" not in brief
    assert "│ join-recoverable" in brief and brief.rstrip().endswith("┘")


def test_unexpected_is_on_the_line_of_the_verdict_not_as_expected(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        'id = "t"\ntitle = "t"\nextends = "mp105"\nsources = ["assumption"]\n'
        '[expect]\njoin-recoverable = "violated"\n',
        encoding="utf-8",
    )
    result = cli("check", "--variant", str(path), "--brief")
    assert result.returncode == 1
    rows = [line for line in result.stdout.splitlines() if "PPMID" in line or "ESME, GSME" in line]
    assert any("violated PPMID (unexpected)" in r for r in rows)
    assert all("(unexpected)" not in r for r in rows if "holds ESME, GSME" in r)


def test_the_devices_mix_is_echoed() -> None:
    result = cli("check", "--variant", "mp105", "--devices", "ESME=2,PPMID=1,CAD=1", "--brief")
    title = " ".join(result.stdout.split("┏")[0].split())
    assert "devices asked 2 ESME, 1 PPMID, 1 CAD per Business Target" in title
    assert "1 device(s) x 1 Other Device(s)" not in title


def test_variants_never_cuts_a_property_id() -> None:
    text = cli("variants").stdout
    for property_id in ("firmware-recoverable", "suspension-recoverable", "unjoin-validated"):
        assert property_id in text
    assert "…" not in text
    assert "(PPMID)" in text  # per-type expectations shown too


def test_diff_has_device_types_and_no_repeated_lines(tmp_path: Path) -> None:
    result = cli("diff", "mp105", "mp178")
    rows = [line for line in result.stdout.splitlines() if "→" in line and "│" in line]
    assert len(rows) == len(set(rows))
    for property_id in ("join-recoverable", "unjoin-validated"):
        for pair in ("ESME-CAD", "GSME-IHD"):
            assert any(f"│ {property_id} │ {pair}" in r for r in rows), (property_id, pair)
    # Unexpected verdicts: one line each, naming the type.
    path = tmp_path / "t.toml"
    path.write_text('id = "t"\ntitle = "t"\nextends = "mp105"\nsources = ["assumption"]\n')
    unexpected = [
        " ".join(line.split())
        for line in cli("diff", "mp105", str(path)).stdout.splitlines()
        if line.startswith("unexpected:")
    ]
    assert unexpected and len(unexpected) == len(set(unexpected))
    assert any("firmware-recoverable for PPMID violated" in u for u in unexpected)
    assert PROPERTY_IDS
