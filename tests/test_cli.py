"""The command line as people meet it: whole help texts, --version, both SRV spellings,
one-line errors, and output readable at 80 columns and when piped."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.catalogue import catalogue, lookup, normalise_srv
from model.errors import InputError
from model.provenance import TAGS
from tests.conftest import ROOT, assert_one_line_error, cli, cli_process

WIDTH = 80


def narrow(*args: str) -> subprocess.CompletedProcess[str]:
    """``smi-spec`` piped (not a terminal) at 80 columns, as a user's pager sees it: in this
    process (``tests.conftest.cli``), help texts wrapped at ``COLUMNS`` as a process's are."""
    with mock.patch.dict(os.environ, {"COLUMNS": str(WIDTH)}):
        return cli(*args)


def lines_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= WIDTH for line in lines), max(lines, key=len)
    assert "\x1b[" not in result.stdout  # piped: no colour codes
    return lines


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        ("check", "as the variant's [expect] table says"),
        ("diff", "as their [expect] tables say"),
        ("report", "as its variant's [expect] table"),
    ],
)
def test_help_texts_are_whole(command: str, fragment: str) -> None:
    text = " ".join(narrow(command, "--help").stdout.split())
    assert fragment in text


def test_every_help_text_shows_its_brackets() -> None:
    """No bracket in any docstring or option help is eaten as markup."""
    from smi_spec.cli import app

    for info in app.registered_commands:
        callback = info.callback
        assert callback is not None
        doc = " ".join((callback.__doc__ or "").split())
        name = info.name or callback.__name__
        shown = " ".join(narrow(name, "--help").stdout.split())
        for bracketed in re.findall(r"\[[^\]]*\]", doc):
            assert bracketed in shown, (name, bracketed)


def test_version_comes_from_the_package_metadata() -> None:
    result = cli_process("--version")  # the entry point and the installed metadata
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"smi-spec {metadata.version('smi-spec')}"


def test_unknown_source_is_one_line_exit_2() -> None:
    assert_one_line_error(narrow("rules", "--source", "bogus"), "bogus", *TAGS)


@pytest.mark.parametrize("tag", TAGS)
def test_rules_by_source_keep_only_that_source(tag: str) -> None:
    every = json.loads(narrow("rules", "--format", "json").stdout)
    rows = json.loads(narrow("rules", "--source", tag, "--format", "json").stdout)
    assert rows == [r for r in every if tag in r["provenance"].split(",")]


def test_rules_at_80_columns_name_every_rule_whole() -> None:
    rows = json.loads(narrow("rules", "--format", "json").stdout)
    text = "\n".join(lines_of(narrow("rules")))
    assert "…" not in text
    words = set(text.split())
    for r in rows:
        if "event" in r:  # a machine's transition
            assert r["event"] in " ".join(text.split()) and r["target"] in words, r
        else:  # a row of one of the variant's tables
            assert r["rule"] in words, r
        # The reason, wrapped, is still all there and in order.
        assert " ".join(r["why"].split()) in " ".join(text.split()), r["why"]


def test_classify_all_nine_statuses_at_80_columns() -> None:
    files = sorted(str(p) for p in (ROOT / "tests" / "fixtures" / "duis").glob("sr*.xml"))
    lines = lines_of(narrow("classify", *files))
    # No column squeezed to a character or two: the longest status name is there whole.
    text = " ".join(" ".join(lines).split())
    assert "installed not commissioned: ok" in text
    assert "SR11.2 Read Firmware Version" in text and "suspended: E51" in text
    short = [line for line in lines if 0 < len(line.strip()) <= 3]
    assert short == [], short


def test_story_lines_keep_their_indent_when_wrapped() -> None:
    lines = lines_of(narrow("check", "--variant", "mp178"))
    story = lines[next(n for n, line in enumerate(lines) if "unjoin-validated violated" in line) :]
    # Up to the next story's heading (one per device type or pair type).
    end = next((n for n, line in enumerate(story[1:], 1) if line.startswith("mp178: ")), None)
    body = [line for line in story[1:end] if line.strip()]
    assert body and any(re.match(r" {2}\d+\. ", line) for line in body)
    for line in body:
        # Each line is a labelled one ("  start:", "  1.", "  why:") or a continuation
        # indented under its label's text, never back at the left margin.
        labelled = r" {1,2}(start:|why:|\d+\.|cause \d+|state at the start) \S"
        assert re.match(labelled, line) or line.startswith(" " * 5), line


def test_no_auto_highlighting() -> None:
    env = {**os.environ, "COLUMNS": "200", "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    result = subprocess.run(
        [sys.executable, "-m", "smi_spec", "explain", "SR8.7.2", "--status", "suspended"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b[" in result.stdout  # colours are on, so highlighting would show
    assert "SR8.7.2 to a suspended device" in result.stdout  # no escape code inside the name


@pytest.mark.parametrize("spelling", ["11.2", "SR11.2", "sr11.2", " SR 11.2 "])
def test_explain_takes_both_spellings(spelling: str) -> None:
    result = narrow("explain", spelling, "--variant", "mp105", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["srv"] == "11.2" and document["accepted"] is True


def test_explain_names_what_it_expects() -> None:
    assert_one_line_error(narrow("explain", "MP105"), "such as 11.2 or SR11.2", "--variant mp105")
    assert_one_line_error(narrow("explain", "99.9"), "unknown SRV '99.9'", "such as 11.2")


@given(st.sampled_from(sorted(catalogue())), st.sampled_from(["", "SR", "sr", "Sr", "SR "]))
def test_every_srv_in_either_spelling_is_one_srv(srv: str, prefix: str) -> None:
    assert normalise_srv(prefix + srv) == srv
    assert lookup(prefix + srv) is lookup(srv)


@given(st.text(max_size=12))
def test_lookup_accepts_only_catalogue_srvs(text: str) -> None:
    try:
        found = lookup(text)
    except InputError as exc:
        assert "unknown SRV" in str(exc)
    else:
        assert found.srv == normalise_srv(text) and found.srv in catalogue()


def test_scenarios_and_variants_take_both_spellings(tmp_path: os.PathLike[str]) -> None:
    from pathlib import Path

    from model.variant import load_variant

    variant = Path(tmp_path) / "spelled.toml"
    variant.write_text(
        'id = "spelled"\ntitle = "t"\nextends = "baseline"\nsources = ["assumption"]\n'
        '[suspended]\nexceptions = [{ srv = "SR11.2" }]\n'
        '[firmware]\nupdate_smi_on = ["SR11.3:success"]\n',
        encoding="utf-8",
    )
    loaded = load_variant(str(variant))
    assert [x.srv for x in loaded.exceptions] == ["11.2"]
    assert [r.srv for r in loaded.update_smi_on] == ["11.3"]


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("baseline", "rejects it with E080801 when the SMI records no join"),
        ("mp178", "no validation against the SMI join"),
    ],
)
def test_explain_an_unjoin_names_the_later_smi_join_check(variant: str, says: str) -> None:
    document = json.loads(
        narrow(
            "explain", "8.8.2", "--status", "commissioned", "--variant", variant, "--format", "json"
        ).stdout
    )
    assert document["accepted"] is True
    [later] = document["later_checks"]
    assert later["rule_id"] == "joins.unjoin_requires_smi_join" and says in later["text"]
    assert later["source"] == "seed:MP178"
    shown = narrow("explain", "SR8.8.2", "--status", "commissioned", "--variant", variant)
    text = " ".join(shown.stdout.split())
    assert f"then {later['text']}" in text


def test_explain_of_a_request_with_no_later_check_says_none() -> None:
    document = json.loads(narrow("explain", "11.2", "--format", "json").stdout)
    assert document["later_checks"] == []
