"""Variants as data: inheritance, and bad files named by file, key and line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.errors import VariantError
from model.variant import BUILTIN, load_variant
from tests.conftest import assert_one_line_error, cli


def test_built_in_variants_load_with_their_inheritance() -> None:
    base, mp105, mp178 = (load_variant(v) for v in BUILTIN)
    assert [e.srv for e in base.exceptions] == ["11.1", "6.23", "2.2"]
    assert [e.srv for e in mp105.exceptions] == ["11.1", "6.23", "2.2", "11.2", "11.4"]
    assert [str(r) for r in base.update_smi_on] == ["11.3:success"]
    assert mp178.exceptions == mp105.exceptions and mp178.update_smi_on == mp105.update_smi_on
    assert (
        base.unjoin_requires_smi_join,
        mp105.unjoin_requires_smi_join,
        mp178.unjoin_requires_smi_join,
    ) == (True, True, False)
    assert mp178.expected("unjoin-validated") == "violated"
    # expectations are not inherited: mp178's own are per subject
    assert mp178.expected("join-recoverable", "ESME-CAD") == "holds"
    # a PPMID's join has a way back from the November 2021 release (SR11.4 takes it out of
    # Suspended, SECMP0007), so mp178 expects it to hold
    assert mp178.expected("join-recoverable", "PPMID-CAD") == "holds"


def test_a_path_works_wherever_an_id_does(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'id = "mine"\nextends = "mp105"\n[firmware]\nupdate_smi_on = ["11.3:success"]\n'
    )
    mine = load_variant(str(path))
    assert mine.id == "mine" and [str(r) for r in mine.update_smi_on] == ["11.3:success"]
    result = cli("explain", "11.2", "--variant", str(path), "--format", "json")
    assert result.returncode == 0 and '"accepted": true' in result.stdout


BAD = {
    "unknown-key": (
        'id = "x"\nextends = "baseline"\n\n[joins]\nunjoin_foo = true\n',
        ":5: joins.unjoin_foo: unknown key",
    ),
    "unknown-top-key": ('id = "x"\nextnds = "baseline"\n', ":2: extnds: unknown key"),
    "unknown-srv": (
        'id = "x"\nextends = "baseline"\n[suspended]\nexceptions = [\n'
        '  { srv = "11.1" },\n  { srv = "99.9" },\n]\n',
        ":6: suspended.exceptions: entry 2: unknown SRV '99.9'",
    ),
    "unknown-srv-in-update": (
        'id = "x"\nextends = "baseline"\n[firmware]\nupdate_smi_on = ["77.7:success"]\n',
        ":4: firmware.update_smi_on",
    ),
    "wrong-type": (
        'id = "x"\nextends = "baseline"\n[suspended]\nallow_critical = "yes"\n',
        ":4: suspended.allow_critical: must be true or false",
    ),
    "bad-verdict": (
        'id = "x"\nextends = "baseline"\n[expect]\nunjoin-validated = "maybe"\n',
        ":4: expect.unjoin-validated",
    ),
    "unknown-property": (
        'id = "x"\nextends = "baseline"\n[expect]\nno-such = "holds"\n',
        ":4: expect.no-such: unknown property",
    ),
    "missing-root-key": ('id = "x"\n[suspended]\nallow_critical = true\n', "missing"),
    "not-toml": ('id = "x\n', "not valid TOML"),
    "unknown-parent": ('id = "x"\nextends = "mp999"\n', ":2: extends: unknown variant 'mp999'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_variant_files_give_one_clear_line_and_exit_2(tmp_path: Path, case: str) -> None:
    text, fragment = BAD[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    with pytest.raises(VariantError) as error:
        load_variant(str(path))
    assert str(path) in str(error.value) and fragment in str(error.value)
    assert_one_line_error(cli("explain", "11.2", "--variant", str(path)), str(path), fragment)


def test_a_cycle_in_extends_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('id = "a"\nextends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('id = "b"\nextends = "a.toml"\n')
    assert_one_line_error(
        cli("explain", "11.2", "--variant", str(tmp_path / "a.toml")), "extends", "cycle"
    )


def test_unknown_variant_id() -> None:
    assert_one_line_error(cli("explain", "11.2", "--variant", "mp999"), "unknown variant 'mp999'")
