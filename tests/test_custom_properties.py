"""Properties as data (issue 22): a TOML file of invariants and recoverability goals in a
small expression language, checked by ``check --properties FILE`` like the built-in ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker.custom import DEVICE_NAMES, check_custom, load_properties
from checker.explorer import DEFAULT_BOUNDS, System, default_systems, explore
from model.errors import InputError
from model.variant import load_variant
from properties.expressions import ExpressionError, evaluate, parse
from tests.conftest import ROOT, assert_one_line_error, cli, cli_json

EXAMPLE = ROOT / "docs" / "properties" / "example.toml"
NAMES = frozenset({"a", "b", "s"})


def test_the_language_parses_and_evaluates_what_the_docs_say() -> None:
    scope = {"a": "x", "b": None, "s": frozenset({"F1", "F2"})}
    cases = {
        'a == "x"': True,
        "a != 'x'": False,
        "b == none": True,
        '"F1" in s': True,
        '"F3" not in s': True,
        'not a == "x" or b == none': True,
        'a == "y" implies b != none': True,
        'a == "x" implies b != none': False,
        '(a == "x" and b == none) and {"F1"} != s': True,
        'a in {"x", "y"}': True,
    }
    for text, value in cases.items():
        assert evaluate(parse(text, NAMES), scope) is value, text


@given(st.lists(st.booleans(), min_size=3, max_size=3), st.sampled_from(["and", "or", "implies"]))
def test_the_connectives_are_boolean_logic(values: list[bool], op: str) -> None:
    p, q, r = values
    scope = {"a": p, "b": q, "s": r}
    text = f"not a {op} (b or s)"
    python = {"and": lambda x, y: x and y, "or": lambda x, y: x or y}
    python["implies"] = lambda x, y: (not x) or y
    assert evaluate(parse(text, NAMES), scope) is python[op](not p, q or r)


@given(st.text(max_size=30))
def test_any_text_parses_or_is_one_expression_error_never_a_crash(text: str) -> None:
    try:
        parse(text, NAMES)
    except ExpressionError as exc:
        assert "at column" in str(exc)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('status == "suspended" and', "expected a value"),
        ("status = 'x'", "unexpected character"),
        ("colour == 'red'", "unknown name 'colour'"),
        ("(status == 'x'", "expected ')'"),
        ("__import__('os')", "unknown name '__import__'"),
    ],
)
def test_a_bad_expression_is_one_line_exit_2(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'[[invariant]]\nid = "x"\nholds = {text!r}\n'.replace("'", "'"), "utf-8")
    path.write_text('[[invariant]]\nid = "x"\nholds = """' + text + '"""\n', "utf-8")
    result = cli("check", "--variant", "baseline", "--properties", str(path))
    assert_one_line_error(result, "bad.toml", "x: holds:", said)


def test_an_unknown_key_or_expect_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[[invariant]]\nid = "x"\nholds = "true"\ncolour = 1\n', "utf-8")
    with pytest.raises(InputError, match="unknown key 'colour'"):
        load_properties(str(path))
    path.write_text('[[invariant]]\nid = "x"\nholds = "true"\n[expect]\ny = "violated"\n', "utf-8")
    with pytest.raises(InputError, match=r"expect\.y: no such property"):
        load_properties(str(path))
    path.write_text('[[invariant]]\nid = "suspended-gate"\nholds = "true"\n', "utf-8")
    with pytest.raises(InputError, match="built-in"):
        load_properties(str(path))


def test_the_example_file_one_holds_others_violated_with_their_stories() -> None:
    report = cli_json("check", "--variant", "baseline", "--properties", str(EXAMPLE))
    (variant,) = report["variants"]
    assert variant["as_expected"] is True
    verdicts = {p["id"]: p for p in variant["properties"]}
    assert verdicts["prior-status-kept"]["verdict"] == "holds"
    invariant = verdicts["suspended-off-cpl"]
    assert invariant["verdict"] == "violated"
    assert [s["text"].split(":")[0] for s in invariant["trace"]] == [
        "DCC removes F1 from the CPL",
        "DCC adds F1 to the CPL",
    ]
    goal = verdicts["smi-firmware-agrees-again"]["by_subject"]
    assert goal["ESME"]["verdict"] == "violated" and goal["PPMID"]["verdict"] == "holds"
    assert goal["ESME"]["trace"][-1]["lost"] is True  # the lost SR11.3 response


def test_the_check_exits_1_when_a_file_property_is_not_as_expected(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(EXAMPLE.read_text("utf-8").split("[expect]")[0], "utf-8")
    result = cli("check", "--variant", "baseline", "--properties", str(path))
    assert result.returncode == 1
    assert "suspended-off-cpl violated for ESME (NOT expected)" in result.stdout


def test_a_goal_matches_the_built_in_property_it_restates() -> None:
    """firmware-recoverable written as a goal gets the built-in verdict on every system: the
    file's search and the explorer agree (a seeded defect both must catch: baseline's)."""
    restated = (
        "cpl_listed == false or status not in "
        '{"commissioned", "installed_not_commissioned", "pending", "whitelisted", "suspended"}'
        " or (smi_firmware == device_firmware"
        ' and (status == "suspended") == (smi_firmware not in cpl))'
    )
    assert "cpl_listed" in DEVICE_NAMES
    for variant_id, system in (("baseline", System("ESME", "CAD")), ("mp105", System("PPMID"))):
        variant = load_variant(variant_id)
        if True:
            e = explore(variant, DEFAULT_BOUNDS, ["firmware-recoverable"], system=system)
            from checker.custom import CustomProperty

            goal = CustomProperty(
                "restated",
                "recoverable",
                "device",
                restated,
                parse(restated, DEVICE_NAMES),
                False,
                "assumption",
                "",
                "holds",
            )
            check_custom(e, [goal])
            assert e.result("restated").verdict == e.result("firmware-recoverable").verdict


def test_fuzz_finds_a_file_invariant_and_keeps_to_one_that_holds() -> None:
    from checker.fuzz import fuzz

    custom = tuple(load_properties(str(EXAMPLE)))
    variant = load_variant("baseline")
    budget = {"max_examples": 200, "step_count": 10, "seed": 0, "custom": custom}
    found = fuzz(variant, ("suspended-off-cpl",), **budget)  # type: ignore[arg-type]
    assert found.found == "suspended-off-cpl"
    assert [line.split(":")[0] for line in found.trace] == [
        "DCC removes F1 from the CPL",
        "DCC adds F1 to the CPL",
    ]
    kept = fuzz(variant, ("prior-status-kept",), **budget)  # type: ignore[arg-type]
    assert kept.found is None and kept.examples == 200


@pytest.mark.slow
def test_the_fuzz_command_takes_a_properties_file() -> None:
    report = cli_json(
        "fuzz",
        "--variant",
        "baseline",
        "--system",
        "PPMID",
        "--properties",
        str(EXAMPLE),
        "--max-examples",
        "60",
        "--steps",
        "8",
        "--seed",
        "0",
    )
    runs = {tuple(r["properties"]): r for r in report["runs"]}
    assert runs[("suspended-off-cpl",)]["found"] == "suspended-off-cpl"
    ppmid = [s.describe() for s in default_systems(load_variant("baseline")) if s.target == "PPMID"]
    assert report["systems"] == ppmid
