"""docs/variant.schema.json: generated from what the loader knows, it accepts every variant
file the project ships and rejects what the loader rejects for its shape (issue 24, item 5)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.errors import VariantError
from model.variant import load_variant
from model.variant_file import SCHEMA
from model.variant_schema import schema_text, variant_schema
from tests.conftest import ROOT

SCHEMA_FILE = ROOT / "docs" / "variant.schema.json"
FILES = sorted([*ROOT.glob("model/variants/*.toml"), *ROOT.glob("docs/variants/*.toml")])


def _json(value: Any) -> Any:
    """TOML as JSON sees it: a date is a string."""
    if isinstance(value, dict):
        return {key: _json(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _errors(text: str) -> list[str]:
    validator = jsonschema.Draft7Validator(variant_schema())
    return [error.message for error in validator.iter_errors(_json(tomllib.loads(text)))]


def test_the_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "run: python -m model.variant_schema > docs/variant.schema.json"
    )


def test_the_schema_is_a_draft_7_schema_that_draft_4_readers_take() -> None:
    """taplo reads the keywords of draft 4; the file says draft-07."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft4Validator.check_schema({k: v for k, v in schema.items() if k != "$schema"})


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_variant_file_the_project_ships_is_valid(path: Path) -> None:
    assert _errors(path.read_text(encoding="utf-8")) == []


HEAD = 'id = "x"\nextends = "baseline"\n'
BAD = {
    "unknown-top-level-key": HEAD + 'extnds = "baseline"\n',
    "misspelt-status": HEAD + '[e5.comissioned]\nadmits = "all"\n',
    "wrong-type": HEAD + '[suspended]\nallow_critical = "yes"\n',
    "unknown-property": HEAD + '[expect]\nno-such = "holds"\n',
    "bad-verdict": HEAD + '[expect]\nunjoin-validated = "maybe"\n',
    "unknown-tag": HEAD + '[joins]\nsource = "seed:MP999"\n',
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_schema_rejects_what_the_loader_rejects(tmp_path: Path, case: str) -> None:
    assert _errors(BAD[case]) != []
    path = tmp_path / f"{case}.toml"
    path.write_text(BAD[case])
    with pytest.raises(VariantError):
        load_variant(str(path))


_counter = itertools.count()
_NAME = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
_VALUE = st.sampled_from(["1", '"x"', "true", "[1]"])
#: (table, key, a value of the wrong type) for every typed key of every table.
_WRONG = [
    (table, key, value)
    for table, keys in SCHEMA.items()
    for key, kind in keys.items()
    if key != "*" and kind is not dict
    for value in {bool: ['"yes"', "1"], str: ["1", "true"], list: ['"x"', "true"]}[kind]
]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.tuples(st.sampled_from(sorted(SCHEMA)), _NAME, _VALUE).filter(
            lambda t: t[1] not in SCHEMA[t[0]]
        ),
        st.sampled_from(_WRONG),
    )
)
def test_an_unknown_key_or_a_wrong_type_in_any_table_is_refused_by_both(
    tmp_path_factory: pytest.TempPathFactory, bad: tuple[str, str, str]
) -> None:
    table, key, value = bad
    text = f"{HEAD}[{table}]\n{key} = {value}\n"
    assert _errors(text) != [], text
    path = tmp_path_factory.mktemp("schema") / f"v{next(_counter)}.toml"
    path.write_text(text)
    with pytest.raises(VariantError):
        load_variant(str(path))


def _taplo() -> str:
    found = shutil.which("taplo", path=str(Path(sys.executable).parent)) or shutil.which("taplo")
    if found is None:
        pytest.skip("taplo is not installed (pip install -e '.[test]')")
    return found


def test_taplo_checks_the_shipped_variants_through_the_repository_s_taplo_toml() -> None:
    """What an editor does: taplo (the engine of VS Code's Even Better TOML) finds the schema
    through .taplo.toml and accepts every variant file the project ships."""
    files = [str(path.relative_to(ROOT)) for path in FILES]
    result = subprocess.run(
        [_taplo(), "check", *files], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_taplo_refuses_a_bad_file_that_names_the_schema_with_a_directive(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(f"#:schema {SCHEMA_FILE}\n" + BAD["misspelt-status"])
    result = subprocess.run(
        [_taplo(), "check", str(bad)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "'comissioned' was unexpected" in result.stderr
