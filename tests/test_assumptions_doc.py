"""Provenance never inherited silently (issue 19): every assumption the built-in variants
list is named in docs/assumptions.md; a key of a built-in variant carries its own source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model.errors import VariantError
from model.property_ids import PROPERTY_IDS
from model.variant import _builtin_path, load_variant
from model.variant_file import merged
from tests.conftest import ROOT, cli_json

DOC = (ROOT / "docs" / "assumptions.md").read_text(encoding="utf-8")


def handle(row: dict[str, str]) -> str:
    """How docs/assumptions.md names a row: a machine rule by its event, a data row of the
    DUIS applicability file by the file, any other by its rule id without a row index."""
    if "machine" in row:
        return row["event"]
    if row["table"] == "applicability (DUIS reference data)":
        return "model/data/applicability.json"
    return re.sub(r"\[\d+\]$", "", row["rule"])


@pytest.mark.parametrize("variant", ["baseline", "mp105", "mp178"])
def test_every_listed_assumption_is_named_in_the_doc(variant: str) -> None:
    rows = cli_json("rules", "--variant", variant, "--source", "assumption")
    assert rows and all("assumption" in r["provenance"].split(",") for r in rows)
    missing = {handle(r) for r in rows if not re.search(rf"`{re.escape(handle(r))}[`\s=]", DOC)}
    assert not missing, f"docs/assumptions.md does not name: {sorted(missing)}"


def test_done_when_the_two_silent_keys_are_listed_as_assumptions() -> None:
    ids = {
        r.get("rule") for r in cli_json("rules", "--variant", "baseline", "--source", "assumption")
    }
    assert {"suspended.critical_life_cycle", "joins.reconcile_smi_from_8_9"} <= ids
    # and neither is printed as a seed rule any longer
    seeds = cli_json("rules", "--variant", "baseline", "--source", "seed:MP105")
    assert not {"suspended.critical_life_cycle"} & {r.get("rule") for r in seeds}


def test_a_key_no_file_sets_is_an_assumption_not_the_variants_sources() -> None:
    mp178 = load_variant("mp178")
    assert mp178.source_of("joins.no_such_key") == "assumption"
    assert mp178.source_of("joins.unjoin_requires_smi_join") == "seed:MP178"


def test_a_key_written_with_its_own_source_keeps_it_and_its_why() -> None:
    baseline = load_variant("baseline")
    assert baseline.critical_life_cycle == "to-history"
    assert baseline.source_of("suspended.critical_life_cycle") == "assumption"
    assert "commissioning" in baseline.why_of("suspended.critical_life_cycle")
    # a table's own source stays for its other keys
    assert baseline.source_of("suspended.allow_critical") == "seed:MP105"


def test_a_built_in_key_without_its_own_source_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of mp178 whose [joins] table loses its source: its key would take the file's
    sources silently. Loaded as the built-in mp178, it is refused, naming the key."""
    import model.variant as variant_module

    text = _builtin_path("mp178").read_text(encoding="utf-8")
    bare = text.replace('source = "seed:MP178"                #', "#", 1)
    assert bare != text
    copy = tmp_path / "mp178.toml"
    copy.write_text(bare, encoding="utf-8")
    real = variant_module._builtin_path
    monkeypatch.setattr(
        variant_module, "_builtin_path", lambda v: copy if v == "mp178" else real(v)
    )
    with pytest.raises(VariantError, match=r"joins\.unjoin_requires_smi_join|unjoin_requires"):
        variant_module._load.__wrapped__(copy.resolve())
    # the real files have none, in any built-in variant
    for variant in ("baseline", "mp105", "mp178"):
        m = merged(real(variant), (), lambda ref, relative_to=None: real(ref), PROPERTY_IDS)
        assert not m.unsourced, (variant, m.unsourced)
