"""Property-based robustness: hostile bytes and structures for every reader (DUIS XML,
variant TOML, scenario JSON/TOML, log JSON Lines, command arguments). The only outcomes
allowed are a result or the project's InputError of one line (issue 13). Readers are called
in-process for speed; a few CLI runs check exit code 2 and one stderr line. Each test has a
fixed example budget, so the suite runs in CI in a few seconds."""

from __future__ import annotations

import itertools
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from checker.replay import Replay
from model.duis import parse_message
from model.errors import InputError
from model.message_log import open_log
from model.scenario import load_scenario, run
from model.variant import load_variant
from smi_spec.cli import app
from tests.conftest import ROOT, assert_one_line_error, cli

BUDGET = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_names = itertools.count()

#: Strings that broke readers or printers before: surrogates, NUL, markup, escapes, huge.
HOSTILE_TEXT = st.sampled_from(
    [
        "esme1",
        "cad1",
        "F1",
        "11.2",
        "8.7.2",
        "\ud800",
        "\x00",
        "[/bold]",
        "[/]",
        "\x1b[2J",
        '"; a -> b [label="x"]; "',
        "../../../../tmp/x",
        "é" * 3,
        "9" * 50,
    ]
)
HOSTILE_NUMBER = st.sampled_from([0, 1, 2, 8, 9, -1, 10**30, 2**63, 1.5, float("1e308")])
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | HOSTILE_NUMBER | HOSTILE_TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "type",
                    "status",
                    "firmware",
                    "devices",
                    "steps",
                    "sr",
                    "target",
                    "other",
                    "cpl",
                    "joins",
                    "variant",
                    "note",
                    "inline",
                    "response",
                    "logged",
                    "accepted",
                    "srv",
                    "code",
                    "event",
                    "cpl_add",
                    "manual_smi_fix",
                ]
            )
            | HOSTILE_TEXT,
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
RAW_TEXT = st.one_of(
    st.text(max_size=200),
    st.builds(lambda n, s: "[" * n + s + "]" * n, st.integers(0, 3_000), st.text(max_size=5)),
    st.builds(lambda n: '{"x": ' + "9" * n + "}", st.integers(1, 6_000)),
    st.just('{"devices": [{"id": "\\ud800", "type": "ESME"}]}'),
    st.just('{"devices": [{"id": "a\\u0000b", "type": "ESME"}]}'),
)


def _write(tmp_path: Path, suffix: str, data: bytes) -> Path:
    path = tmp_path / f"input{next(_names)}{suffix}"
    path.write_bytes(data)
    return path


def _one_line(error: InputError, name: str | None = None) -> None:
    message = str(error)
    assert "\n" not in message and message
    if name is not None:
        assert name in message, message
    json.dumps(message)  # printable: no lone surrogate reaches stderr


_HOSTILE_XML = (ROOT / "docs/replay/messages/sr11.2-read-firmware-version.xml").read_bytes()


@BUDGET
@given(
    st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda body, value: (
                '<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway">'
                f"<sr:Header><sr:RequestID>{value}</sr:RequestID>"
                f"<sr:ServiceReferenceVariant>{value}</sr:ServiceReferenceVariant></sr:Header>"
                f"<sr:Body>{body}</sr:Body></sr:Request>"
            ).encode("utf-8", "surrogatepass"),
            st.builds(lambda n: "<a>" * n + "</a>" * n, st.integers(0, 200)),
            HOSTILE_TEXT,
        ),
    )
)
@example(
    _HOSTILE_XML.replace(b">1</sr:CommandVariant>", b">" + b"9" * 5_000 + b"</sr:CommandVariant>")
)
@example(_HOSTILE_XML.replace(b">1</sr:CommandVariant>", b"><a>1</a></sr:CommandVariant>"))
@example(_HOSTILE_XML.replace(b"<sr:Body>", b"<sr:Body>" + b"<a/>" * 25_000))
def test_duis_xml_parses_or_is_an_input_error(data: bytes) -> None:
    try:
        parse_message(data, "message.xml")
    except InputError as error:
        _one_line(error, "message.xml")


TOML_VALUE = st.one_of(
    st.sampled_from(['"x"', "true", "1", "2024-01-01", "[]", "{}", '"E51"', "9" * 5000]),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(0, 2_000)),
)


@BUDGET
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        "id",
                        "title",
                        "extends",
                        "effective",
                        "sources",
                        "[suspended]",
                        "allow_critical",
                        "reject_code",
                        "exceptions",
                        "[expect]",
                        "firmware-recoverable",
                        "[joins]",
                        "unjoin_requires_smi_join",
                    ]
                ),
                TOML_VALUE,
            ),
            max_size=6,
        ).map(
            lambda pairs: "\n".join(
                key if key.startswith("[") else f"{key} = {value}" for key, value in pairs
            )
        ),
    )
)
@example('id = "v"\nextends = "baseline"\n[applicability."11.2"]\ndevice_types = [["ESME"]]')
@example(
    'id = "v"\nextends = "baseline"\n[firmware]\n'
    'update_smi_on = [{ message = "11.3:success", device_types = [{}] }]'
)
@example('id = "v"\nextends = ["baseline"]\n[suspended]\nexceptions = [{ srv = ["11.2"] }]')
@example(
    'id = "v"\nextends = "baseline"\n[suspended]\nexceptions = [{ srv = "11.2", command_variant = '
    + "9" * 5_000
    + " }]"
)
@example("[" + " " * 20_000 + "\nid = 1")
def test_variant_toml_loads_or_is_an_input_error(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, ".toml", text.encode("utf-8", "surrogatepass"))
    try:
        load_variant(str(path))
    except InputError as error:
        _one_line(error, str(path))


_ESME = {"id": "esme1", "type": "ESME"}
_STEP = {"sr": "2.2", "target": "esme1", "command_variant": "CV"}


@BUDGET
@given(st.one_of(JSON_VALUE.map(lambda v: json.dumps(v)), RAW_TEXT), st.booleans())
@example(json.dumps({"devices": [{"id": ["esme1"], "type": "ESME"}]}), False)
@example(json.dumps({"devices": [_ESME | {"type": ["ESME"]}], "steps": [{"sr": ["11.2"]}]}), False)
@example(json.dumps({"devices": [_ESME], "steps": [{"sr": "11.2", "target": {"a": 1}}]}), False)
@example(json.dumps({"devices": [_ESME | {"firmware": ["F1"]}], "cpl": [["F1"]]}), False)
@example(
    json.dumps({"devices": [_ESME], "steps": [_STEP]}).replace('"CV"', "9" * 5_000),
    False,
)
def test_scenario_loads_and_runs_or_is_an_input_error(
    tmp_path: Path, text: str, as_toml: bool
) -> None:
    suffix = ".toml" if as_toml else ".json"
    path = _write(tmp_path, suffix, text.encode("utf-8", "surrogatepass"))
    try:
        report = run(load_scenario(str(path)))
    except InputError as error:
        _one_line(error, str(path))
        return
    json.dumps(report, ensure_ascii=False).encode("utf-8")


INVENTORY = {
    "inventory": {
        "cpl": ["F1", "F2"],
        "devices": [
            {"id": "esme1", "type": "ESME", "firmware": "F1"},
            {"id": "cad1", "type": "CAD"},
        ],
    }
}


@BUDGET
@given(st.lists(st.one_of(JSON_VALUE.map(json.dumps), RAW_TEXT), max_size=6), st.booleans())
@example(['{"cpl_add": ["F3"]}', '{"inline": {"srv": "11.2", "target": ["esme1"]}}'], True)
@example(['{"inline": {"srv": "11.1", "target": "esme1", "image": {"v": 1}}}'], True)
@example(['{"response": {"srv": "11.2", "target": "esme1", "code": ["I0"]}}'], True)
@example([json.dumps({"inventory": {"devices": [{"id": ["x"], "type": "ESME"}]}})], False)
@example(
    [json.dumps({"inventory": {"devices": [], "eui64": {"00-DB-12-00-00-00-00-01": ["x"]}}})], False
)
@example([json.dumps({"cpl_add": f"V{n}"}) for n in range(40)], True)
def test_log_replays_or_is_an_input_error(
    tmp_path: Path, lines: list[str], with_inventory: bool
) -> None:
    texts = ([json.dumps(INVENTORY)] if with_inventory else []) + lines
    numbered = [(n, text) for n, text in enumerate(texts, 1) if text.strip()]
    try:
        log = open_log("log.jsonl", tmp_path, numbered)
        replay = Replay(log, log.variant())
        for record in replay.records():
            json.dumps(record, ensure_ascii=False).encode("utf-8")
    except InputError as error:
        _one_line(error, "log.jsonl")


ARGUMENTS = st.lists(
    st.sampled_from(
        [
            "--variant",
            "--status",
            "--format",
            "json",
            "jsonl",
            "text",
            "--smets",
            "3",
            "11.2",
            "SR11.2",
            "suspended",
            "baseline",
            "mp105",
            "x.toml",
            "\x00",
            "\ud800",
            "[/bold]",
            "/dev/zero",
            str(ROOT / "docs/scenarios/mp105-story-mp105.json"),
            str(ROOT / "docs/replay/mp105-story.jsonl"),
            "--command-variant",
            "99",
        ]
    ),
    max_size=5,
)


@BUDGET
@given(st.sampled_from(["explain", "run", "replay", "classify", "variants"]), ARGUMENTS)
def test_command_arguments_give_a_result_or_an_input_error(command: str, args: list[str]) -> None:
    result = CliRunner().invoke(app, [command, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, InputError), repr(result.exception)
        _one_line(result.exception)
    assert result.exit_code in (0, 1, 2)


def test_the_cli_says_each_hostile_file_in_one_line_with_exit_2(tmp_path: Path) -> None:
    cases: list[tuple[str, str, Any]] = [
        ("run", ".json", "[" * 50_000),
        ("run", ".json", '{"devices": [{"id": "\\ud800", "type": "ESME"}]}'),
        ("run", ".toml", "x = " + "9" * 5_000),
        ("replay", ".jsonl", json.dumps(INVENTORY) + '\n{"cpl_add": "\\udc00"}\n'),
        ("check", ".toml", 'id = "v"\nsources = ' + "[" * 3_000 + "]" * 3_000),
    ]
    for command, suffix, text in cases:
        path = _write(tmp_path, suffix, text.encode())
        args = ["--variant", str(path)] if command == "check" else [str(path)]
        assert_one_line_error(cli(command, *args), str(path))


#: Output directories as a user may type them: control codes, markup, a NUL, a lone
#: surrogate, a name past the system's limit, a file where a directory should be.
OUTPUT_DIRECTORIES = st.lists(
    st.one_of(
        st.text(min_size=1, max_size=12),
        st.sampled_from(["x" * 300, "\x00", "\ud800", "[/bold]", "..", "file", "\x1b[2J"]),
    ),
    min_size=1,
    max_size=4,
).map(lambda parts: "/".join(parts))


@BUDGET
@given(OUTPUT_DIRECTORIES)
def test_an_output_directory_is_checked_or_refused_in_one_line(
    tmp_path_factory: Any, typed: str
) -> None:
    """``outputs.writable_directory`` (``check --itf`` before its search): any path gives
    nothing or an InputError of one line, and makes nothing when not asked to create."""
    from smi_spec.outputs import writable_directory
    from smi_spec.plain import error_line

    root = tmp_path_factory.mktemp("out")
    (root / "file").write_text("")
    try:
        writable_directory(root / typed, "--itf X: cannot write ITF traces", create=False)
    except InputError as refused:
        line = error_line(refused)  # as main() prints it
        assert "\n" not in line and line.startswith("smi-spec: error: --itf X: "), line
    assert sorted(p.name for p in root.iterdir()) == ["file"]


def test_unwritable_itf_and_database_directories_are_one_line_and_exit_2(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    too_long = str(tmp_path / ("x" * 300) / "y")
    for args in (
        ["check", "--itf", too_long],
        ["check", "--itf", str(blocker / "sub")],
        ["fuzz", "--database", too_long],
        ["fuzz", "--database", str(blocker / "sub")],
    ):
        assert_one_line_error(cli(*args), args[-1])


# ---------------------------------------------------------------------------------------
# Issue 25: every reader checks types and widths before use, in one line; cost bounded


def _variant(tmp_path: Path, body: str) -> str:
    path = _write(tmp_path, ".toml", f'id = "hostile"\nextends = "baseline"\n{body}\n'.encode())
    return str(path)


@BUDGET
@given(
    st.sampled_from(['[["ESME"]]', "[{ a = 1 }]", '["ESME", ["GSME"]]', "[[]]", '{ a = "ESME" }']),
    st.sampled_from(["applicability", "firmware"]),
)
def test_a_list_or_table_where_a_device_type_belongs_is_one_line_naming_key_file_and_line(
    tmp_path: Path, value: str, table: str
) -> None:
    if table == "applicability":
        body = f'[applicability."11.2"]\ndevice_types = {value}\nsource = "assumption"'
        key = "device_types"
    else:
        entry = f'{{ message = "11.3:success", device_types = {value} }}'
        body = f"[firmware]\nupdate_smi_on = [\n  {entry},\n]"
        key = "update_smi_on"
    path = _variant(tmp_path, body)
    try:
        load_variant(path)
    except InputError as error:
        _one_line(error, path)
        assert key in str(error) and f"{path}:" in str(error), str(error)
    else:
        raise AssertionError("accepted a list or table where a device type belongs")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda inv: inv["devices"][0].update(id=["esme1"]), "devices"),
        (lambda inv: inv["devices"][0].update(id={"a": 1}), "devices"),
        (lambda inv: inv.update(eui64={"00-DB-12-00-00-00-00-01": ["esme1"]}), "eui64"),
        (lambda inv: inv.update(eui64={"00-DB-12-00-00-00-00-01": {"id": "x"}}), "eui64"),
        (lambda inv: inv.update(cpl=[["F1"]]), "cpl"),
    ],
)
def test_a_list_or_table_where_a_log_id_belongs_is_one_line(
    tmp_path: Path, change: Any, fragment: str
) -> None:
    document = json.loads(json.dumps(INVENTORY))
    document["inventory"]["eui64"] = {"00-DB-12-00-00-00-00-01": "esme1"}
    change(document["inventory"])
    numbered = [(1, json.dumps(document)), (2, '{"cpl_remove": "F1"}')]
    try:
        log = open_log("log.jsonl", tmp_path, numbered)
        for _ in Replay(log, log.variant()).records():
            pass
    except InputError as error:
        _one_line(error, "log.jsonl")
        assert "line 1" in str(error) and fragment in str(error), str(error)
    else:
        raise AssertionError("accepted a list or table where text belongs")


def test_huge_bounds_are_refused_before_anything_is_allocated() -> None:
    from checker.estimate import MAX_ESTIMATE, estimated_states
    from checker.explorer import Bounds

    assert estimated_states(Bounds(10**6)) == MAX_ESTIMATE
    assert estimated_states(Bounds(10**29, 10**29)) == MAX_ESTIMATE
    for value in ("1000000", "9" * 30):
        for option in ("--meters", "--cads"):
            assert_one_line_error(cli("check", option, value), "states")


def test_a_command_variant_of_thousands_of_digits_is_an_input_error() -> None:
    template = (ROOT / "docs/replay/messages/sr11.2-read-firmware-version.xml").read_text()
    assert "<sr:CommandVariant>1</sr:CommandVariant>" in template
    for digits in ("9" * 5_000, "0" * 4_400 + "1", "12", "9"):
        data = template.replace(
            "<sr:CommandVariant>1</sr:CommandVariant>",
            f"<sr:CommandVariant>{digits}</sr:CommandVariant>",
        ).encode()
        try:
            parse_message(data, "message.xml")
        except InputError as error:
            _one_line(error, "message.xml")
            assert "CommandVariant" in str(error) and len(str(error)) < 300
        else:
            raise AssertionError(f"accepted Command Variant {digits[:10]}...")


def test_a_variant_path_component_over_255_bytes_is_one_line(tmp_path: Path) -> None:
    for path in (tmp_path / ("x" * 300 + ".toml"), tmp_path / ("x" * 300) / "v.toml"):
        for command in ("check", "rules", "explain"):
            args = ["11.2"] if command == "explain" else []
            assert_one_line_error(cli(command, *args, "--variant", str(path)), "255")
    assert_one_line_error(cli("run", str(tmp_path / ("s" * 300 + ".json"))), "255")
    assert_one_line_error(cli("replay", str(tmp_path / ("l" * 300 + ".jsonl"))), "255")


def test_a_run_report_over_its_cap_is_refused_before_the_first_step(tmp_path: Path) -> None:
    from model.scenario import MAX_STEP_VIEWS

    devices = [{"id": f"esme{n}", "type": "ESME", "firmware": "F1"} for n in range(10)]
    steps = [{"sr": "11.2", "target": f"esme{n % 10}"} for n in range(MAX_STEP_VIEWS // 12 + 1)]
    path = _write(tmp_path, ".json", json.dumps({"devices": devices, "steps": steps}).encode())
    for fmt in ("json", "text"):
        result = cli("run", str(path), "--format", fmt)
        assert_one_line_error(result, str(path), f"more than {MAX_STEP_VIEWS:,}")
        assert result.stdout == ""
    fits = _write(
        tmp_path, ".json", json.dumps({"devices": devices, "steps": steps[:100]}).encode()
    )
    assert cli("run", str(fits), "--format", "json").returncode == 0


def test_a_variant_file_is_parsed_once_however_many_lines_its_messages_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Locating each of many warnings read the whole file again (quadratic, issue 25)."""
    from model import toml_lines

    parses = []
    parser = toml_lines._parser()

    class Counting:
        def parse(self, text: bytes) -> Any:
            parses.append(len(text))
            return parser.parse(text)

    monkeypatch.setattr(toml_lines, "_parser", Counting)
    text = "\n".join(
        ["[suspended]", "exceptions = ["]
        + [f'  {{ srv = "11.{n % 4 + 1}" }},' for n in range(2_000)]
        + ["]", "[joins]", "unjoin_requires_smi_join = true"]
    )
    locator = toml_lines.Locator("v.toml", text)
    found = [locator.line_of("suspended", "exceptions", n) for n in range(0, 2_000, 7)]
    assert found == [3 + n for n in range(0, 2_000, 7)]
    assert locator.line_of("joins", "unjoin_requires_smi_join") == 2_005
    assert locator.line_of(None, "joins") == 2_004
    assert len(parses) == 1


@BUDGET
@given(
    st.lists(
        st.sampled_from(
            [
                "[a]",
                "[ a . b ]",
                '["a".b]',
                "x = 1",
                "'x' = 2",
                '"y" = 3',
                "# [c]",
                "  z=4",
                "w = [",
                "  { v = 1 },",
                "  { v = 2 }, { v = 3 },",
                "]",
                "[" + " " * 50,
                "= 5",
                'q = """',
                "a.b.c = 1",
            ]
        ),
        max_size=12,
    ),
    st.sampled_from([(None, "x"), ("a", "x"), ("a.b", "z"), ("a", "w"), (None, "a"), ("a", "b")]),
    st.integers(0, 3),
)
def test_the_locator_names_a_line_of_the_text_whatever_the_text(
    lines: list[str], where: tuple[str | None, str], item: int
) -> None:
    """Text that is not TOML (the locator is asked only after tomllib has read the file,
    but it is public): a line of the text, or line 1, never an exception."""
    from model.toml_lines import Locator

    table, key = where
    line = Locator("v.toml", "\n".join(lines)).line_of(table, key, item)
    assert 1 <= line <= max(1, len(lines))


#: Where a user may point an output option: every kind of thing already there.
OUTPUT_TARGETS = st.sampled_from(
    [
        "fifo",
        "dir",
        "readonly-dir",
        "readonly-file",
        "file",
        "link-to-fifo",
        "new",
        "missing/new",
        "x" * 300,
        "dir/" + "y" * 300,
        "nul\x00",
        "\ud800",
        os.devnull,
        "/dev/full",
    ]
)


def _targets(root: Path) -> dict[str, Any]:
    """Make one of each kind under ``root``; returns what must stay as it was."""
    os.mkfifo(root / "fifo")
    (root / "dir").mkdir()
    (root / "dir" / "mine.txt").write_text("mine")
    (root / "readonly-dir").mkdir()
    (root / "readonly-dir" / "mine.txt").write_text("mine")
    (root / "readonly-dir").chmod(0o555)
    (root / "readonly-file").write_text("keep")
    (root / "readonly-file").chmod(0o444)
    (root / "file").write_text("old")
    (root / "link-to-fifo").symlink_to(root / "fifo")
    return _snapshot(root)


def _snapshot(root: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        found[str(path.relative_to(root))] = (
            stat.S_IFMT(info.st_mode),
            info.st_mode & 0o777,
            content,
        )
    return found


@BUDGET
@given(st.sampled_from(["emit-pytest", "out", "database", "itf"]), OUTPUT_TARGETS)
def test_every_output_option_writes_only_what_was_named_or_refuses_in_one_line(
    tmp_path_factory: Any, option: str, name: str
) -> None:
    """Each output option's boundary, over every kind of thing at its path: a result or one
    line, and nothing there but a file or directory the user named is changed."""
    from smi_spec import emit_pytest, outputs, report
    from smi_spec.fuzz_command import open_database

    root = tmp_path_factory.mktemp("targets")
    before = _targets(root)
    target = name if name.startswith("/dev/") else str(root / name)
    try:
        if option == "emit-pytest":
            emit_pytest.write(target, "check", [])
        elif option == "out":
            report.write_tree(Path(target), {"index.html": b"x", report.MARKER: b""})
        elif option == "database":
            open_database(target)
        else:
            outputs.writable_directory(Path(target), f"--itf {target}: cannot", create=False)
        changed = True
    except InputError as refused:
        _one_line(refused)
        changed = False
    after = _snapshot(root)
    (root / "readonly-dir").chmod(0o755)
    for kept in ("fifo", "dir/mine.txt", "readonly-dir", "readonly-dir/mine.txt", "readonly-file"):
        assert after[kept] == before[kept], (option, name, kept)
    assert after["link-to-fifo"] == before["link-to-fifo"]
    if not changed:
        assert after == before, (option, name)
    leftovers = (".smi-spec-new-", ".smi-spec-old-", outputs.MARK, ".tmp")
    assert not any(mark in p for p in after for mark in leftovers), after
