"""Output safety: hostile variant files, scenarios and logs cannot write or remove a file
outside the output directory, leave a half-written output, put script in an artefact,
restyle the terminal, or print invalid JSON.

Each test names the hole it closes (docs/reviewer.md, "Untrusted variant files").
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import subprocess
import sys
import unicodedata
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from defusedxml import ElementTree
from hypothesis import given
from hypothesis import strategies as st

from model.errors import InputError
from model.variant import load_variant
from smi_spec import diagrams as dg
from smi_spec import outputs, report
from smi_spec.cli import main
from smi_spec.plain import plain, styled, visible
from smi_spec.strict_json import dumps
from tests.conftest import ROOT, fail_on_call

BASELINE = ROOT / "model" / "variants" / "baseline.toml"
JAVASCRIPT_ID = 'x" URL="javascript:alert(document.domain)" target="_top" tooltip="'
DOT_INJECTION_ID = '"; a -> b [label="x"]; "'
MARKUP_ID = "x[/bold]y[/]"
CONTROL_ID = "x\x1b[2J\x1b]0;owned\x07y"


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    """``smi-spec ARGS`` in this process: (exit code, stdout, stderr). A traceback would
    escape as an exception and fail the test."""
    monkeypatch.setattr(sys, "argv", ["smi-spec", *args])
    columns = os.environ.get("COLUMNS")
    if columns:  # the console was made when the module was first imported, maybe narrower
        from smi_spec import cli

        monkeypatch.setattr(cli.console, "width", int(columns))
    with pytest.raises(SystemExit) as stopped:
        main()
    out, err = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 1), out, err


def one_line_error(code: int, err: str, *fragments: str) -> str:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("smi-spec: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def variant_file(directory: Path, variant_id: str, extends: str = "baseline", **top: str) -> str:
    """A variant file whose id (and other top-level strings) are exactly the given text."""
    path = directory / "hostile.toml"
    lines = [f"id = {json.dumps(variant_id)}", f"extends = {json.dumps(extends)}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in top.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (hidden ones too), relative name -> bytes."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def baseline_set() -> list[dg.Diagram]:
    return dg.diagram_set([load_variant("baseline")])


@pytest.fixture(scope="module")
def two_set() -> list[dg.Diagram]:
    return dg.diagram_set([load_variant("baseline"), load_variant("mp105")])


# ---------------------------------------------------------------------------------------
# 1. Confinement: ids never make file names; nothing outside --out is written or removed


def test_a_foreign_index_json_removes_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    baseline_set: list[dg.Diagram],
) -> None:
    """The crafted manifest of issue 14: it names files outside the directory."""
    out, victims = tmp_path / "out", tmp_path / "victims"
    out.mkdir()
    victims.mkdir()
    absolute, relative = victims / "victim.txt", tmp_path / "victim2.txt"
    absolute.write_text("keep me")
    relative.write_text("keep me too")
    crafted = {"diagrams": [{"files": [str(absolute), "../victim2.txt"]}]}
    (out / "index.json").write_text(json.dumps(crafted))
    with pytest.raises(InputError, match="not written by smi-spec diagrams"):
        dg.write_diagrams(out, baseline_set)
    code, _, err = run(capsys, monkeypatch, "diagrams", "--out", str(out), "--variant", "baseline")
    one_line_error(code, err, "index.json", "not written by smi-spec diagrams")
    assert absolute.read_text() == "keep me" and relative.read_text() == "keep me too"
    assert json.loads((out / "index.json").read_text()) == crafted
    # The same manifest even in smi-spec's own shape: names outside the scheme are refused.
    (out / "index.json").write_text(json.dumps({"generated_by": "smi-spec diagrams", **crafted}))
    with pytest.raises(InputError, match="not written by smi-spec diagrams"):
        dg.write_diagrams(out, baseline_set)
    assert absolute.is_file() and relative.is_file()


def test_diagrams_remove_only_their_own_files_and_keep_others(
    tmp_path: Path, baseline_set: list[dg.Diagram], two_set: list[dg.Diagram]
) -> None:
    dg.write_diagrams(tmp_path / "d", two_set)
    note = tmp_path / "d" / "notes.txt"
    note.write_text("a reviewer's note")
    records = dg.write_diagrams(tmp_path / "d", baseline_set)
    removed = {Path(r["file"]).name for r in records if r.get("removed")}
    names = {f"{d.name}.{ext}" for d in two_set for ext in ("dot", "svg")}
    names -= {f"{d.name}.{ext}" for d in baseline_set for ext in ("dot", "svg")}
    assert removed == names and "status-chart-diff-baseline-mp105.svg" in removed
    assert note.read_text() == "a reviewer's note"
    assert set(tree(tmp_path / "d")) == set(dg.files_of(baseline_set)) | {"notes.txt"}
    # A foreign file where a diagram would go, or a directory, is refused, not overwritten.
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "status-chart.svg").write_text("mine")
    with pytest.raises(InputError, match="not written by smi-spec"):
        dg.write_diagrams(tmp_path / "e", baseline_set)
    assert (tmp_path / "e" / "status-chart.svg").read_text() == "mine"


@pytest.mark.parametrize("kind", ["relative", "nested", "absolute"])
@pytest.mark.parametrize("command", ["check", "report", "diagrams"])
def test_a_traversal_id_writes_nothing_anywhere(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    command: str,
) -> None:
    """``id = "../../../../tmp/PWNED"`` and an absolute id: refused when the file is loaded,
    with one line naming the file and line; nothing is written, inside --out or out."""
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    escaped = tmp_path / "PWNED"
    variant_id = {
        "relative": "../../../PWNED",
        "nested": "x/../../../../PWNED",
        "absolute": str(escaped),
    }[kind]
    path = variant_file(work, variant_id)
    out = work / "out"
    args = {
        "check": ["check", "--variant", path, "--max-lost", "0", "--itf", str(out)],
        "report": ["report", "--variant", "baseline", "--variant", path, "--out", str(out)],
        "diagrams": ["diagrams", "--variant", path, "--out", str(out)],
    }[command]
    monkeypatch.chdir(work)
    before = tree(tmp_path)
    code, _, err = run(capsys, monkeypatch, *args)
    one_line_error(code, err, f"{path}:1: id:")
    assert tree(tmp_path) == before
    assert not out.exists()


def test_file_names_are_slugs_inside_the_directory_whatever_the_id(tmp_path: Path) -> None:
    """Below the load-time check: even an id that bypassed it names no file outside."""
    for hostile in ("../../x", "/etc/passwd", "a/../../b", "..", "", "\x00", JAVASCRIPT_ID):
        name = outputs.slug(hostile)
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name), name
        assert outputs.inside(tmp_path, name).parent == tmp_path
    for bad in ("../x", "/abs", "a/../../b", "", ".", "..", "a/./b", "a\x00b", "a\\b"):
        with pytest.raises(InputError):
            outputs.inside(tmp_path, bad)
    (tmp_path / "link").symlink_to("/tmp")
    with pytest.raises(InputError, match="outside"):
        outputs.inside(tmp_path, "link/x")


@pytest.mark.parametrize(
    "variant_id",
    [
        "baseline",
        "mp105",
        "mp178",
        "Upper",
        "-dash",
        ".dot",
        "a" * 65,
        "a b",
        MARKUP_ID,
        DOT_INJECTION_ID,
    ],
)
def test_ids_outside_the_documented_set_or_builtin_are_refused_at_load(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variant_id: str,
) -> None:
    """A file calling itself ``baseline`` would overwrite the real baseline diagrams."""
    path = variant_file(tmp_path, variant_id)
    out = tmp_path / "out"
    code, _, err = run(capsys, monkeypatch, "diagrams", "--variant", path, "--out", str(out))
    one_line_error(code, err, f"{path}:1: id:")
    assert not out.exists()


def test_check_itf_writes_slug_names_atomically_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from checker.explorer import Bounds, explore
    from smi_spec.checking import write_traces

    exploration = explore(load_variant("baseline"), Bounds(max_lost=1))
    hostile = replace(exploration, variant=replace(exploration.variant, id="../../../PWNED"))
    out = tmp_path / "itf"
    out.mkdir()
    leftover = out / ".baseline-x.itf.json.abc123de.tmp"
    leftover.write_text("from a killed run")
    written = write_traces(out, [hostile])
    assert written and all(p.parent == out and p.name.startswith("pwned-") for p in written)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    assert not (tmp_path.parent / "PWNED").exists()
    # A failure in the middle (a full disk) leaves no temporary behind.
    fail_on_call(monkeypatch, os, "replace", 2, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(InputError, match="No space left"):
        write_traces(tmp_path / "itf2", [exploration])
    assert not [p for p in (tmp_path / "itf2").iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------------------
# 4. Atomic outputs: a full disk, a kill between renames


def test_a_full_disk_leaves_the_old_diagrams_directory_as_it_was(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    baseline_set: list[dg.Diagram],
    two_set: list[dg.Diagram],
) -> None:
    out = tmp_path / "diagrams"
    dg.write_diagrams(out, baseline_set)
    before = tree(out)
    full_disk = OSError(errno.ENOSPC, "No space left on device")
    calls = fail_on_call(monkeypatch, Path, "write_bytes", 4, full_disk)
    with pytest.raises(InputError, match="No space left"):
        dg.write_diagrams(out, two_set)
    assert calls["n"] == 4
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diagrams"]  # no half-written dir


KILLER = """
import os, sys
from pathlib import Path
from smi_spec import outputs, report

kill_at, exchange = int(sys.argv[2]), sys.argv[3] == "exchange"
calls = {"n": 0}
if exchange:
    real_exchange = outputs._exchange
    def exchange_then_die(a, b):
        done = real_exchange(a, b)
        if kill_at == 1 and done:
            os._exit(137)
        return done
    outputs._exchange = exchange_then_die
else:
    outputs._exchange = lambda a, b: False
    real_rename = os.rename
    def rename_then_die(a, b):
        calls["n"] += 1
        if calls["n"] == kill_at:
            os._exit(137)  # killed: no finally, no cleanup
        real_rename(a, b)
    os.rename = rename_then_die
new = {"index.html": b"new", "diagrams/x.svg": b"<svg/>", report.MARKER: b""}
report.write_tree(Path(sys.argv[1]), new)
"""


@pytest.mark.parametrize(
    ("how", "kill_at"), [("renames", 1), ("renames", 2), ("renames", 3), ("exchange", 1)]
)
def test_a_kill_during_the_report_swap_loses_nothing_and_is_cleaned_up(
    tmp_path: Path, how: str, kill_at: int
) -> None:
    """A kill between the two renames (where the system has no atomic exchange) or after the
    exchange: the previous report is never lost, and the next run leaves exactly the new
    report and no leftover beside it."""
    out = tmp_path / "report"
    old = {"index.html": b"old", report.MARKER: b""}
    report.write_tree(out, old)
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(out), str(kill_at), how],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if how == "exchange" and killed.returncode == 0:
        pytest.skip("this file system has no atomic exchange; the rename cases cover it")
    assert killed.returncode == 137, killed.stderr
    if how == "exchange":
        assert tree(out)["index.html"] == b"new"  # one step: the new report, never none
    else:
        outputs.recover(out)
        assert tree(out) in (
            old,
            {"index.html": b"new", "diagrams/x.svg": b"<svg/>", report.MARKER: b""},
        )
    report.write_tree(out, {"index.html": b"newer", report.MARKER: b""})
    assert tree(out) == {"index.html": b"newer", report.MARKER: b""}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_a_failed_report_build_leaves_no_temporary_and_the_old_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report"
    report.write_tree(out, {"index.html": b"old", report.MARKER: b""})
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    real = os.rename
    fail_on_call(monkeypatch, os, "rename", 2, OSError(errno.EIO, "Input/output error"))
    with pytest.raises(InputError, match="Input/output error"):
        report.write_tree(out, {"index.html": b"new", report.MARKER: b""})
    assert tree(out)["index.html"] == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    monkeypatch.setattr(os, "rename", real)
    report.write_tree(out, {"index.html": b"newer", report.MARKER: b""})
    assert tree(out)["index.html"] == b"newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


# ---------------------------------------------------------------------------------------
# 5. No script in any artefact


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems += _problems(tag, attrs)


def _problems(tag: str, attrs: list[tuple[str, str | None]]) -> list[str]:
    found = [f"<{tag}>"] if tag.lower().rsplit("}", 1)[-1] == "script" else []
    for name, value in attrs:
        local = name.lower().rsplit("}", 1)[-1]
        if local.startswith("on"):
            found.append(f"{tag} {name}=")
        if value and re.match(r"\s*(javascript:|vbscript:|data:text/html)", value, re.I):
            found.append(f"{tag} {name}={value}")
    return found


def script_in(name: str, data: bytes) -> list[str]:
    """``<script>`` elements, ``on*=`` handlers and script URLs in an SVG or HTML file (its
    structure, not its text: a title may well mention "javascript:")."""
    if name.endswith(".svg"):
        root = ElementTree.fromstring(data)
        return [p for e in root.iter() for p in _problems(e.tag, list(e.attrib.items()))]
    parser = _Structure()
    parser.feed(data.decode("utf-8"))
    return parser.problems


def test_the_javascript_id_is_refused_and_cannot_reach_an_svg(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = variant_file(tmp_path, JAVASCRIPT_ID)
    for command in ("diagrams", "report"):
        out = tmp_path / command
        code, _, err = run(capsys, monkeypatch, command, "--variant", path, "--out", str(out))
        one_line_error(code, err, f"{path}:1: id:")
        assert not out.exists()
    # Below the load-time check, the graphviz library's quoting keeps the id a label.
    baseline = load_variant("baseline")
    reference = dg.variant_diagram(dg.STATUS, baseline)
    for hostile_id in (JAVASCRIPT_ID, DOT_INJECTION_ID, MARKUP_ID, CONTROL_ID):
        hostile = replace(baseline, id=hostile_id, path=f"{baseline.path}#{hostile_id}")
        monkeypatch.setitem(dg._TAKEN, (hostile.path, hostile_id), dg.taken_edges(baseline))
        for machine in (dg.STATUS, dg.JOIN):
            diagram = dg.variant_diagram(machine, hostile)
            svg = diagram.svg()
            assert script_in("x.svg", svg) == []
            links = [
                name
                for element in ElementTree.fromstring(svg).iter()
                for name in element.attrib
                if name.rsplit("}", 1)[-1] in ("href", "target", "URL")
            ]
            assert links == [], "a link in the diagram"
            assert "\x1b" not in svg.decode()
            if machine == dg.STATUS:
                assert _shape(svg) == _shape(reference.svg())  # no node or edge added


def _shape(svg: bytes) -> list[tuple[str, str]]:
    """The nodes and edges Graphviz drew: (class, title) of each, sorted."""
    found = []
    for g in ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") in ("node", "edge", "cluster"):
            title = g.find("{http://www.w3.org/2000/svg}title")
            found.append((g.get("class", ""), "" if title is None else title.text or ""))
    return sorted(found)


def test_no_generated_svg_or_html_page_holds_script(tmp_path: Path) -> None:
    """Every page of a report on a hostile (but loadable) variant, and every committed
    diagram: no ``<script>``, no ``on*=`` handler, no ``javascript:`` URL."""
    title = '<script>alert(1)</script><img src=x onerror=alert(1)> javascript:alert(1) " onload="x'
    path = variant_file(tmp_path, "hostile", title=title)
    files, _ = report.render_pages([load_variant("baseline"), load_variant(path)])
    pages = [n for n in files if n.endswith((".html", ".svg"))]
    assert len([n for n in pages if n.endswith(".svg")]) >= 4 and "index.html" in pages
    for name in pages:
        assert script_in(name, files[name]) == [], name
    for svg in sorted((ROOT / "diagrams").glob("*.svg")):
        assert script_in(svg.name, svg.read_bytes()) == [], svg.name
    # The scan itself finds what it must.
    assert script_in("a.html", b'<p><a href=" JavaScript:x">y</a><b onclick="x">z</b></p>')
    assert script_in("a.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')


# ---------------------------------------------------------------------------------------
# 6. Terminal safety and plain text (issue 13, item 2)


@given(st.text())
def test_user_text_is_never_markup_and_never_a_control_code(text: str) -> None:
    shown = styled("[bold]{x}[/] and {x}[red]z[/]", x=text)
    assert shown.plain == f"{visible(text)} and {visible(text)}z"
    assert [(s.start, s.end, s.style) for s in shown.spans if s.start < s.end] == [
        (start, end, style)
        for start, end, style in [
            (0, len(visible(text)), "bold"),
            (len(shown.plain) - 1, len(shown.plain), "red"),
        ]
        if start < end
    ]
    assert plain(text).plain == visible(text)
    hidden = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    assert not [ch for ch in visible(text) if unicodedata.category(ch) in hidden]


def test_the_control_character_id_is_refused_and_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = variant_file(tmp_path, CONTROL_ID)
    code, out, err = run(capsys, monkeypatch, "check", "--variant", path, "--max-lost", "0")
    line = one_line_error(code, err, f"{path}:1: id:", "\\x1b[2J")
    assert "\x1b" not in out + err and "\x07" not in line


def test_markup_and_control_codes_in_titles_and_devices_are_printed_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A title and device ids holding ``[/bold]``, ``[/]`` and escape sequences: no crash,
    no raw control code, the text shown as written."""
    hostile = "[/bold]x[/][bold red]y\x1b[2J"
    path = variant_file(tmp_path, "proposal", title=hostile)
    monkeypatch.setenv("COLUMNS", "400")
    code, out, _ = run(capsys, monkeypatch, "diff", "baseline", path)
    assert code in (0, 1) and "\x1b" not in out
    assert visible(hostile) in out
    scenario = json.loads((ROOT / "docs/scenarios/mp105-story-baseline.json").read_text())
    renamed = json.dumps(scenario).replace('"esme1"', json.dumps(hostile))
    (tmp_path / "s.json").write_text(renamed)
    monkeypatch.setenv("COLUMNS", "400")
    code, out, err = run(capsys, monkeypatch, "run", str(tmp_path / "s.json"))
    assert code == 0, err
    assert "\x1b" not in out and visible(hostile) in out


# ---------------------------------------------------------------------------------------
# Silent acceptance (issue 14): NaN in JSON, fuzz --database, EUI-64 case


def test_json_output_never_holds_nan_or_infinity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InputError, match="NaN or Infinity"):
        dumps({"a": [1.0, float("nan")]})
    with pytest.raises(InputError, match="NaN or Infinity"):
        dumps({"a": float("-inf")})
    assert json.loads(dumps({"note": dt.date(2024, 1, 2)})) == {"note": "2024-01-02"}
    log = (ROOT / "docs/replay/mp105-story.jsonl").read_text().splitlines()
    log[1] = '{"cpl_remove": "F1", "note": NaN}'
    (tmp_path / "messages").symlink_to(ROOT / "docs/replay/messages")
    (tmp_path / "log.jsonl").write_text("\n".join(log) + "\n")
    code, out, err = run(
        capsys, monkeypatch, "replay", str(tmp_path / "log.jsonl"), "--format", "json"
    )
    # Whole JSON with no NaN or Infinity value; bad input stops it with an "error" member
    # (whose message may quote the word NaN) and exit code 2 (docs/formats.md).
    document = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in the JSON output"))
    if code == 2:
        one_line_error(code, err)
        assert document["error"]["line"] == 2


def test_a_fuzz_database_that_is_a_file_or_cannot_be_made_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    a_file = tmp_path / "db"
    a_file.write_text("not a directory")
    for database, fragment in ((a_file, "not a directory"), (a_file / "sub", "cannot write")):
        args = ["fuzz", "--max-examples", "1", "--steps", "1", "--database", str(database)]
        code, _, err = run(capsys, monkeypatch, *args)
        one_line_error(code, err, f"--database {database}", fragment)


def test_eui64_keys_differing_only_in_case_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = {
        "inventory": {
            "variant": "baseline",
            "cpl": ["F1"],
            "devices": [
                {"id": "esme1", "type": "ESME", "status": "commissioned", "firmware": "F1"},
                {"id": "esme2", "type": "ESME", "status": "commissioned", "firmware": "F1"},
            ],
            "eui64": {"00-db-12-00-00-00-00-01": "esme1", "00-DB-12-00-00-00-00-01": "esme2"},
        }
    }
    (tmp_path / "log.jsonl").write_text(json.dumps(inventory) + "\n")
    code, _, err = run(capsys, monkeypatch, "replay", str(tmp_path / "log.jsonl"))
    one_line_error(code, err, "00-DB-12-00-00-00-00-01", "letter case")


# ---------------------------------------------------------------------------------------
# 6. Only the file the user named, as named (issue 25)


@pytest.mark.parametrize("command", ["check", "fuzz"])
def test_emit_pytest_onto_a_fifo_or_a_directory_is_refused_and_left_untouched(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    fifo, directory = tmp_path / "fifo", tmp_path / "dir"
    os.mkfifo(fifo)
    directory.mkdir()
    (directory / "inside.txt").write_text("mine")
    quick = ["--max-examples", "1", "--steps", "1", "--seed", "0"] if command == "fuzz" else []
    for target, kind in ((fifo, "pipe"), (directory, "directory")):
        code, out, err = run(
            capsys, monkeypatch, command, "--variant", "mp105", *quick, "--emit-pytest", str(target)
        )
        one_line_error(code, err, f"--emit-pytest {target}", "not a regular file", kind)
        assert out == ""  # refused before the search
    assert stat_kind(fifo) == "fifo" and stat_kind(directory) == "directory"
    assert tree(directory) == {"inside.txt": b"mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "fifo"]  # no temporary


def stat_kind(path: Path) -> str:
    import stat as st_

    mode = path.lstat().st_mode
    return "fifo" if st_.S_ISFIFO(mode) else "directory" if st_.S_ISDIR(mode) else "other"


def test_emit_pytest_onto_a_device_or_read_only_file_is_refused(tmp_path: Path) -> None:
    from smi_spec import emit_pytest

    with pytest.raises(InputError, match="not a regular file"):
        emit_pytest.check_target(os.devnull)
    locked = tmp_path / "locked.py"
    locked.write_text("keep")
    locked.chmod(0o444)
    with pytest.raises(InputError, match="read-only"):
        emit_pytest.write(str(locked), "check", [])
    assert locked.read_text() == "keep"
    with pytest.raises(InputError, match="255"):
        emit_pytest.check_target(str(tmp_path / ("x" * 300 + ".py")))


def test_written_files_get_0644_and_directories_0755_less_the_umask(tmp_path: Path) -> None:
    from smi_spec import emit_pytest

    previous = os.umask(0o027)
    try:
        emit_pytest.write(str(tmp_path / "t.py"), "check", [])
        report.write_tree(tmp_path / "rep", {"index.html": b"x", "diagrams/a.svg": b"<svg/>"})
    finally:
        os.umask(previous)
    assert (tmp_path / "t.py").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "rep" / "index.html").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "rep" / "diagrams" / "a.svg").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "rep").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "rep" / "diagrams").stat().st_mode & 0o777 == 0o750
    assert outputs.MARK not in {p.name for p in (tmp_path / "rep").iterdir()}


@pytest.mark.parametrize("kind", ["old", "new"])
def test_a_sibling_only_named_like_a_leftover_is_never_moved_or_removed(
    tmp_path: Path, kind: str
) -> None:
    """report and diagrams recognise their leftovers by the mark they wrote, not by name."""
    out = tmp_path / "rep"
    report.write_tree(out, {"index.html": b"old", report.MARKER: b""})
    lookalike = tmp_path / f".rep.smi-spec-{kind}-abcdef12"
    lookalike.mkdir()
    (lookalike / "precious.txt").write_text("mine")
    report.write_tree(out, {"index.html": b"new", report.MARKER: b""})
    assert tree(lookalike) == {"precious.txt": b"mine"}
    assert tree(out) == {"index.html": b"new", report.MARKER: b""}
    dg_out = tmp_path / "diagrams"
    sibling = tmp_path / f".diagrams.smi-spec-{kind}-abcdef12"
    sibling.mkdir()
    (sibling / "precious.txt").write_text("mine")
    outputs.replace_directory(dg_out, {"a.dot": b"digraph {}"})
    outputs.recover(dg_out)
    assert tree(sibling) == {"precious.txt": b"mine"}


def test_a_read_only_out_directory_is_refused_not_replaced(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    baseline_set: list[dg.Diagram],
) -> None:
    out = tmp_path / "rep"
    report.write_tree(out, {"index.html": b"old", report.MARKER: b""})
    dg.write_diagrams(tmp_path / "dg", baseline_set)
    for directory in (out, tmp_path / "dg"):
        before = tree(directory)
        directory.chmod(0o555)
        try:
            with pytest.raises(InputError, match="read-only"):
                if directory == out:
                    report.write_tree(directory, {"index.html": b"new", report.MARKER: b""})
                else:
                    dg.write_diagrams(directory, baseline_set)
            assert directory.stat().st_mode & 0o777 == 0o555
            assert tree(directory) == before
        finally:
            directory.chmod(0o755)
    out.chmod(0o555)
    try:
        code, _, err = run(capsys, monkeypatch, "diagrams", "--out", str(out))
        one_line_error(code, err, "read-only")
    finally:
        out.chmod(0o755)


@pytest.mark.parametrize("command", ["report", "diagrams"])
def test_an_out_path_component_over_255_bytes_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    out = tmp_path / ("y" * 300) / "z"
    code, _, err = run(capsys, monkeypatch, command, "--out", str(out))
    one_line_error(code, err, "--out", "255")


def test_fuzz_writes_no_hypothesis_directory_unless_database_names_one(tmp_path: Path) -> None:
    for extra in ([], ["--database", ""]):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "smi_spec",
                "fuzz",
                "--max-examples",
                "2",
                "--steps",
                "2",
                *extra,
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert result.returncode in (0, 1), result.stderr
        assert list(tmp_path.iterdir()) == [], (extra, list(tmp_path.iterdir()))


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("redis://:s3cret-pw@127.0.0.1:1/0", ["s3cret-pw"]),
        ("redis://alice:s3cret-pw@127.0.0.1:1/0?password=hunter22", ["s3cret-pw", "hunter22"]),
        ("redis://alice:s3cret-pw@127.0.0.1:notaport/0", ["s3cret-pw"]),
        ("rediss://:s3cret-pw@[::1/0", ["s3cret-pw"]),
    ],
)
def test_credentials_in_a_database_url_are_masked_in_every_message(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    secrets: list[str],
) -> None:
    from smi_spec.redact import mask_in, masked_url

    code, out, err = run(capsys, monkeypatch, "fuzz", "--seed", "0", "--database", url)
    one_line_error(code, err, "Redis")
    for secret in secrets:
        assert secret not in out + err
        assert secret not in masked_url(url)
        assert secret not in mask_in(f"could not log in with {url}", url)
    assert "***" in err


def test_a_failing_standard_output_is_exit_2_and_a_closed_pipe_141() -> None:
    command = [sys.executable, "-m", "smi_spec"]
    for args in (["variants", "--format", "json"], ["variants"], ["explain", "11.2"]):
        with open("/dev/full", "w") as full:
            result = subprocess.run(
                command + args, stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT
            )
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot write the output" in lines[0], result.stderr
    scenario = str(ROOT / "docs/scenarios/mp105-story-mp105.json")
    for args in (["run", scenario, "--format", "json"], ["run", scenario], ["variants"]):
        process = subprocess.Popen(
            command + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        assert process.wait(timeout=120) == 141
        assert process.stderr.read() == b""
        process.stderr.close()
