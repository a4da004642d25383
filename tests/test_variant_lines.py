"""A bad variant file's error names the line of the bad key itself: a dotted key, a key of
an inline table and an item of a multi-line array each have their own line (issue 24,
item 5), as one line ``FILE:LINE: name: message`` and exit code 2."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.errors import VariantError
from model.toml_lines import Locator
from model.variant import load_variant
from tests.conftest import assert_one_line_error, cli

HEAD = 'id = "x"\nextends = "baseline"\n'

#: A case -> (the file after HEAD, the line and name the error gives).
CASES = {
    "plain": ("\n[joins]\nunjoin_foo = true\n", ":5: joins.unjoin_foo: unknown key"),
    "dotted-key": (
        '# a comment\njoins.unjoin_requires_smi_join = true\n\nsuspended.allow_critical = "yes"\n',
        ":6: suspended.allow_critical: must be true or false",
    ),
    "quoted-dotted-key-under-a-header": (
        '[e5]\nsource = "assumption"\n"commissioned".admits = "sometimes"\n',
        ":5: e5.commissioned.admits: must be one of",
    ),
    "inline-table": (
        '[e5]\nsource = "assumption"\ncommissioned = { admits = "all", bad = 2 }\n',
        ":5: e5.commissioned.bad: unknown key",
    ),
    "multi-line-array": (
        '[firmware]\nupdate_smi_on = [\n  "11.3:success",\n  "11.3:success",\n'
        '  "77.7:success",\n]\n',
        ":7: firmware.update_smi_on: entry 3: unknown SRV '77.7'",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_key_is_named_at_its_own_line_through_the_cli(tmp_path: Path, case: str) -> None:
    body, fragment = CASES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(HEAD + body)
    with pytest.raises(VariantError) as error:
        load_variant(str(path))
    assert str(error.value).startswith(f"{path}{fragment}")
    assert_one_line_error(cli("check", "--variant", str(path)), f"{path}{fragment}")


_counter = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 12).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))),
    st.lists(st.sampled_from(["", "  # a comment", "\n"]), min_size=12, max_size=12),
    st.booleans(),
)
def test_the_bad_item_of_an_array_of_any_length_is_named_at_its_line(
    tmp_path_factory: pytest.TempPathFactory,
    size_and_bad: tuple[int, int],
    between: list[str],
    two_on_a_line: bool,
) -> None:
    """The bad entry anywhere in a multi-line array, with blank lines and comments between
    entries and, sometimes, two entries on one line."""
    size, bad = size_and_bad
    lines = [*HEAD.splitlines(), "[firmware]", "update_smi_on = ["]
    line_of_bad = 0
    for index in range(size):
        entry = '"77.7:success",' if index == bad else '"11.3:success",'
        if two_on_a_line and index % 2 == 1 and lines[-1].endswith(","):
            lines[-1] += " " + entry
        else:
            lines.append("  " + entry)
        if index == bad:
            line_of_bad = len(lines)
        if between[index]:
            lines.append(between[index].strip("\n"))
    lines.append("]")
    path = tmp_path_factory.mktemp("lines") / f"v{next(_counter)}.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(VariantError) as error:
        load_variant(str(path))
    assert str(error.value).startswith(
        f"{path}:{line_of_bad}: firmware.update_smi_on: entry {bad + 1}: unknown SRV '77.7'"
    )


_KEY = st.sampled_from(["a", "b", "srv", "11.2", "x y"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_KEY, _KEY, st.sampled_from(["plain", "dotted", "inline"])), max_size=8))
def test_every_key_is_found_at_the_line_that_sets_it(
    keys: list[tuple[str, str, str]],
) -> None:
    """Keys set one per line, plainly, dotted or in an inline table: each is found at the
    first line that sets it, its table at the first line that names it."""
    lines, expected = ["[t]"], {"t": 1}
    for outer, inner, how in keys:
        name = f"t.{outer}.{inner}"
        if name in expected or f"t.{outer}" in expected:
            continue
        quoted_outer, quoted_inner = (f'"{k}"' for k in (outer, inner))
        lines.append(
            {
                "plain": f"{quoted_outer} = 1",
                "dotted": f"{quoted_outer}.{quoted_inner} = 1",
                "inline": f"{quoted_outer} = {{ {quoted_inner} = 1 }}",
            }[how]
        )
        expected[f"t.{outer}"] = len(lines)
        if how != "plain":
            expected[name] = len(lines)
    locator = Locator("v.toml", "\n".join(lines))
    for name, line in expected.items():
        table, _, key = name.partition(".")
        assert locator.line_of(table if key else None, key or table) == line, name
