"""Test packs (``smi-spec testpack``) and the conformance runner (``smi-spec conform``).

The packs of mp105 and mp178 are written once per run (shared by the workers through a
lock) by the command itself; every test reads them. What would break a test: a pack that
misses a row the explorer reaches, an XML file the DUIS schema refuses, a response code or
SMI state the rules do not give, a runner that passes a system that answers otherwise.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.coverage import Coverage
from checker.explorer import DEFAULT_BOUNDS, System, explore_all
from checker.testpack import Case, search, select
from model.variant import load_variant
from tests.conftest import ROOT, SHARED, cli, needs_shared

REFERENCE = SHARED / "reference"
SCHEMA = REFERENCE / "duis-schema" / "DUIS Schema V5.4.xsd"
ADAPTER = "smi_spec.model_adapter:adapter"

pytestmark = needs_shared()


def _write_pack(root: Path, variant: str, seed: str = "0") -> Path:
    """The pack of ``variant``, written once by ``smi-spec testpack`` in a process of its
    own (with its own hash seed), shared by every worker of this run."""
    target = root / f"pack-{variant}"
    with open(root / f"pack-{variant}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "manifest.json").is_file():
            command = ["testpack", "--variant", variant, "--out", str(target)]
            done = subprocess.run(
                [sys.executable, "-m", "smi_spec", *command],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONHASHSEED": seed},
                timeout=600,
            )
            assert done.returncode == 0, done.stderr
    return target


def _run_root(factory: pytest.TempPathFactory) -> Path:
    """This run's temporary root, shared by its xdist workers (each has a directory in it)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def mp105_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_pack(_run_root(tmp_path_factory), "mp105")


@pytest.fixture(scope="session")
def mp178_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_pack(_run_root(tmp_path_factory), "mp178")


def _manifest(pack: Path) -> dict[str, Any]:
    return json.loads((pack / "manifest.json").read_text(encoding="utf-8"))


def _cases(pack: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (pack / "index.jsonl").read_text().splitlines()]


def _conform(pack: Path, variant: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, Any]:
    monkeypatch.setenv("SMI_SPEC_VARIANT", variant)
    done = cli("conform", str(pack), "--adapter", ADAPTER, "--format", "json")
    return done.returncode, json.loads(done.stdout)


# --- coverage -----------------------------------------------------------------------------


def test_the_pack_covers_every_row_and_transition_the_explorer_reaches(mp105_pack: Path) -> None:
    """Cross-checked with the explorer's own rule coverage at the default bounds: the pack
    exercises exactly what is reachable, and lists every other row with why."""
    variant = load_variant("mp105")
    reached = Coverage()
    for exploration in explore_all(variant, coverage=True):
        assert exploration.coverage is not None
        reached.merge(exploration.coverage)
    coverage = _manifest(mp105_pack)["coverage"]
    rows = {r["id"] for r in coverage["table"]}
    covered = {r["id"] for r in coverage["table"] if r["cases"]}
    assert covered == {r for r in rows if reached.hits[r]}
    unreached = {u["id"]: u["why"] for u in coverage["unreached"]}
    assert set(unreached) == rows - covered and all(unreached.values())
    assert coverage["covered"] == len(covered) and coverage["rows"] == len(rows)
    # Every machine transition and check E5 row that is reachable is in some case.
    assert "join: response_lost join_in_flight -> device_only" in covered
    assert "suspended.exceptions[3]" in covered  # SR11.2 to a Suspended device (seed:MP105)
    assert "reached only at larger bounds (--dcc-events)" in unreached["e5.withdrawn"]


def test_each_case_really_exercises_the_rows_it_claims(mp105_pack: Path) -> None:
    coverage = _manifest(mp105_pack)["coverage"]
    claimed = {c["case"]: set(c["covers"]) for c in _cases(mp105_pack)}
    for row in coverage["table"]:
        for case in row["cases"]:
            assert row["id"] in claimed[case]


def test_cases_are_short_first_and_tell_every_step(mp105_pack: Path) -> None:
    cases = _cases(mp105_pack)
    lengths = [len(c["steps"]) for c in cases]
    assert lengths == sorted(lengths) and lengths[0] == 1
    assert [c["case"] for c in cases] == [f"case-{n:03d}" for n in range(1, len(cases) + 1)]
    faults = [s for c in cases for s in c["steps"] if s["lose_response"] or s["lose_alert"]]
    assert faults and all(s["response"] is None for s in faults if s["lose_response"])
    for case in cases:
        assert {d["eui64"] for d in case["inventory"]["devices"]}
        for step in case["steps"]:
            expected = step["expected"]
            assert {"devices", "joins", "cpl", "alerts", "duis_response_code"} <= set(expected)
            if step["request"]:
                assert (mp105_pack / step["request"]).is_file()
    readme = (mp105_pack / "README.md").read_text(encoding="utf-8")
    assert "case-001" in readme and "## Not exercised" in readme


# --- valid DUIS ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> Any:
    if not SCHEMA.is_file():
        pytest.skip(f"the DUIS XML Schema V5.4 is not at {SCHEMA}")
    xmlschema = pytest.importorskip("xmlschema", reason="xmlschema is a test dependency")
    return xmlschema.XMLSchema(str(SCHEMA))


def test_every_xml_file_of_a_pack_validates_against_duis_5_4(
    mp105_pack: Path, mp178_pack: Path, schema: Any
) -> None:
    files = sorted(mp105_pack.rglob("*.xml")) + sorted(mp178_pack.rglob("*.xml"))
    assert any(p.name.endswith("-response.xml") for p in files)
    for path in files:
        errors = list(schema.iter_errors(str(path)))
        assert not errors, f"{path}: {errors[0]}"


def test_the_projects_own_example_messages_validate(schema: Any) -> None:
    examples = sorted((ROOT / "docs" / "replay" / "messages").glob("*.xml"))
    examples += sorted((ROOT / "tests" / "fixtures" / "duis").glob("*.xml"))
    # Whitespace around every value, on purpose: the reader must tolerate it.
    tolerant = {"sr11.2-default-namespace.xml"}
    for path in examples:
        if path.name in tolerant:
            continue
        errors = list(schema.iter_errors(str(path)))
        assert not errors, f"{path}: {errors[0]}"


# --- conformance --------------------------------------------------------------------------


def test_the_mp105_pack_passes_against_mp105(
    mp105_pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, result = _conform(mp105_pack, "mp105", monkeypatch)
    assert code == 0 and result["failed"] == 0 and result["passed"] == len(_cases(mp105_pack))


def test_the_mp105_pack_fails_against_baseline_at_sr11_2_with_e51(
    mp105_pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, result = _conform(mp105_pack, "baseline", monkeypatch)
    assert code == 1
    sr11_2, secmp0007 = _baseline_failures(result)
    first = sr11_2[0]
    assert first["differences"][0] == {"what": "response code", "expected": "I0", "actual": "E51"}
    case = next(c for c in _cases(mp105_pack) if c["case"] == first["case"])
    assert case["steps"][first["step"] - 1]["request"] == first["request"]
    assert secmp0007


def _baseline_failures(result: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The mp105 pack's cases a baseline system fails: the SR11.2 ones (E51 while Suspended,
    MP105) and the ones that take SECMP0007's routes, from the same November 2021 release
    (SR11.4 to a PPMID, SR11.1/SR11.3 to an HCALCS), which baseline refuses for the device
    type. Nothing else may differ."""
    failed = [c for c in result["cases"] if not c["passed"]]
    assert result["first_difference"] == failed[0]
    sr11_2 = [c for c in failed if c["text"].startswith("SR11.2 Read Firmware Version")]
    assert sr11_2 and all(
        c["differences"][0] == {"what": "response code", "expected": "I0", "actual": "E51"}
        for c in sr11_2
    )
    secmp0007 = [c for c in failed if c not in sr11_2]
    for c in secmp0007:
        assert c["text"].startswith(("SR11.4 ", "SR11.1 ", "SR11.3 ")), c["text"]
        assert "DSP:NOT_FOR_DEVICE_TYPE" in str(c["differences"][0])
    return sr11_2, secmp0007


def test_the_mp178_pack_fails_against_mp105_at_the_unjoin(
    mp178_pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, result = _conform(mp178_pack, "mp105", monkeypatch)
    assert code == 1
    first = result["first_difference"]
    assert first["text"].startswith("SR8.8.2 Unjoin")
    assert first["differences"][0] == {
        "what": "response code",
        "expected": "I0",
        "actual": "E080801",
    }


def test_the_runner_reports_a_wrong_smi_state_and_a_crashing_adapter(
    mp105_pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A system that answers the right codes but keeps the wrong SMI status fails, and one
    that raises fails its case without stopping the run."""
    from smi_spec import conform, model_adapter

    monkeypatch.setenv("SMI_SPEC_VARIANT", "mp105")

    def forgetful(event: dict[str, Any]) -> Any:
        answer = model_adapter.adapter(event)
        for view in answer.get("smi", {}).get("devices", {}).values():
            view["status"] = "commissioned"
        return answer

    result = conform.run(mp105_pack, forgetful)
    assert result["failed"] > 0
    assert any(
        d["what"].startswith("SMI status")
        for c in result["cases"]
        if not c["passed"]
        for d in c["differences"]
    )

    def broken(event: dict[str, Any]) -> Any:
        raise RuntimeError("no route to host")

    result = conform.run(mp105_pack, broken)
    assert result["passed"] == 0
    assert "RuntimeError: no route to host" in result["cases"][0]["differences"][0]


@settings(max_examples=15)
@given(st.data())
def test_a_seeded_wrong_answer_is_reported_at_its_step(
    mp105_pack: Path, data: st.DataObject
) -> None:
    """A system that answers one request with another code (E51 for I0, I0 otherwise)
    fails exactly that case, at exactly that step, with both codes shown."""
    from smi_spec import conform, model_adapter

    answered = [
        (c["case"], s["step"], s["expected"]["duis_response_code"])
        for c in _cases(mp105_pack)
        for s in c["steps"]
        if s["response"]
    ]
    case, number, code = data.draw(st.sampled_from(answered))
    wrong = "E51" if code == "I0" else "I0"
    seen = {"case": "", "step": 0}

    def defective(event: dict[str, Any]) -> Any:
        if event["event"] == "start":
            seen.update(case=event["case"], step=0)
        else:
            seen["step"] += 1
        answer = model_adapter.adapter(event)
        if (seen["case"], seen["step"]) == (case, number):
            answer = {
                "response": answer["response"].replace(
                    f"<sr:ResponseCode>{code}<".encode(), f"<sr:ResponseCode>{wrong}<".encode()
                )
            }
        return answer

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMI_SPEC_VARIANT", "mp105")
        result = conform.run(mp105_pack, defective)
    failed = [c for c in result["cases"] if not c["passed"]]
    assert [(c["case"], c["step"]) for c in failed] == [(case, number)]
    assert failed[0]["differences"] == [
        {"what": "response code", "expected": code, "actual": wrong}
    ]


@pytest.mark.slow
def test_a_pack_is_byte_identical_from_run_to_run(mp105_pack: Path, tmp_path: Path) -> None:
    """Written again in this process (another hash seed than the fixture's process)."""
    again = tmp_path / "again"
    done = cli("testpack", "--variant", "mp105", "--out", str(again))
    assert done.returncode == 0, done.stderr
    names = sorted(p.relative_to(mp105_pack) for p in mp105_pack.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for name in names:
        assert (mp105_pack / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.parametrize(
    "system",
    [
        System("PPMID"),
        pytest.param(System("ESME", "CAD"), marks=pytest.mark.slow),
    ],
)
def test_the_memoised_search_finds_what_stepping_every_transition_finds(system: System) -> None:
    """Memoised on the part of the state an action reads, as the explorer memoises: a
    wrong key (a join request keyed without its pair) would change a witness or a count."""
    variant = load_variant("mp105")
    fast = search(variant, DEFAULT_BOUNDS, system)
    slow = search(variant, DEFAULT_BOUNDS, system, memoise=False)
    assert (fast.states, fast.transitions) == (slow.states, slow.transitions)
    assert fast.witnesses == slow.witnesses and fast.armed == slow.armed


# --- minimal and diverse ------------------------------------------------------------------


_ROWS = st.frozensets(st.sampled_from([f"r{n}" for n in range(12)]), max_size=6)


@given(st.lists(st.tuples(st.integers(1, 5), _ROWS), max_size=12), st.none() | st.integers(1, 6))
def test_the_greedy_cover_covers_what_the_candidates_cover(
    drawn: list[tuple[int, frozenset[str]]], limit: int | None
) -> None:
    system = System("ESME", "CAD")
    pool = [Case(system, 0, n, (0,) * length, rows) for n, (length, rows) in enumerate(drawn)]
    chosen = select(pool, limit)
    every = frozenset().union(*(c.covers for c in pool))
    covered = frozenset().union(*(c.covers for c in chosen))
    if limit is None:
        assert covered == every
    else:
        assert len(chosen) <= limit
    assert [c.key for c in chosen] == sorted(c.key for c in chosen)
    # Each case chosen added at least one row not yet covered when it was picked.
    assert len(set(chosen)) == len(chosen) <= len(covered)


@pytest.mark.slow
def test_property_cases_refute_a_violated_property(tmp_path: Path) -> None:
    """Under baseline a lost Join response strands a pair (seed:MP178): its causes are the
    cases; under mp178 the property holds for every pair (a PPMID's too: SR11.4 takes it
    out of Suspended from the November 2021 release), and the cases leave the good states."""
    for variant, verb in (("baseline", "refutes"), ("mp178", "puts")):
        out = tmp_path / variant
        done = cli(
            "testpack", "--variant", variant, "--property", "join-recoverable", "--out", str(out)
        )
        assert done.returncode == 0, done.stderr
        cases = _cases(out)
        assert cases and all(c["purpose"].startswith(f"{verb} join-recoverable") for c in cases)
        assert any("device_types.PPMID" in c["covers"] for c in cases)
        assert any(s["lose_response"] for c in cases for s in c["steps"])
        assert _manifest(out)["property"] == "join-recoverable"


@pytest.mark.slow
def test_cases_caps_the_pack(tmp_path: Path) -> None:
    out = tmp_path / "small"
    assert cli("testpack", "--variant", "mp105", "--cases", "3", "--out", str(out)).returncode == 0
    assert len(_cases(out)) == 3 and _manifest(out)["cases"] == 3


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variant", "nope"], "nope"),
        (["--property", "no-such-property"], "unknown property"),
        (["--reference", "/nonexistent/reference"], "no duis-templates directory"),
    ],
)
def test_bad_input_is_one_line_and_no_pack(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "pack"
    done = cli("testpack", "--out", str(out), *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_an_unrelated_directory_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    done = cli("testpack", "--variant", "mp105", "--out", str(tmp_path))
    assert done.returncode == 2 and "not a previous test pack" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


@pytest.mark.parametrize(
    ("adapter", "message"),
    [
        ("no-colon", "MODULE:FUNCTION"),
        ("no_such_module_xyz:adapter", "cannot import"),
        ("smi_spec.model_adapter:nothing", "has no function"),
    ],
)
def test_a_bad_adapter_is_one_line(mp105_pack: Path, adapter: str, message: str) -> None:
    done = cli("conform", str(mp105_pack), "--adapter", adapter)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr


def test_a_directory_that_is_not_a_pack_is_one_line(tmp_path: Path) -> None:
    done = cli("conform", str(tmp_path), "--adapter", ADAPTER)
    assert done.returncode == 2 and done.stderr.count("\n") == 1


# --- the guide's examples and the HTTP adapter --------------------------------------------


def _guide_commands() -> list[tuple[str, int]]:
    """The shell lines of docs/tester.md's test-pack block, with the exit code each says."""
    text = (ROOT / "docs" / "tester.md").read_text(encoding="utf-8")
    block = text.split("<!-- doc-examples:", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        command, _, comment = line.partition("  #")
        commands.append((command.strip(), 1 if "exit 1" in comment else 0))
    return commands


@pytest.mark.slow
def test_the_guides_pack_examples_run_with_their_exit_codes(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    commands = _guide_commands()
    assert len(commands) == 5
    for command, code in commands:
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == code, (command, done.stderr)
    assert len(_cases(tmp_path / "packs" / "mp105-top5")) == 5


class _ModelOverHttp:
    """A DUIS endpoint over HTTP, as DCC Boxed has, backed by the model (for the adapter)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from smi_spec import model_adapter

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, body: bytes | None, kind: str) -> None:
                self.send_response(200 if body else 204)
                self.send_header("Content-Type", kind)
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                view = model_adapter.smi_view(model_adapter._current[0])
                self._send(json.dumps(view).encode(), "application/json")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/duis":
                    answer = model_adapter.adapter(
                        {
                            "event": "request",
                            "xml": body,
                            "lose_response": self.headers.get("X-Lose-Response") == "true",
                            "lose_alert": self.headers.get("X-Lose-Alert") == "true",
                        }
                    )
                    self._send(answer["response"], "application/xml")
                else:
                    model_adapter.adapter(json.loads(body))
                    self._send(None, "application/json")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_http_adapter_of_the_guide_runs_a_pack_against_an_endpoint(
    mp105_pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from smi_spec import conform

    spec = importlib.util.spec_from_file_location(
        "http_adapter", ROOT / "docs" / "adapters" / "http_adapter.py"
    )
    assert spec is not None and spec.loader is not None
    http_adapter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(http_adapter)
    endpoint = _ModelOverHttp()
    try:
        monkeypatch.setenv("SMI_SPEC_ENDPOINT", endpoint.url)
        monkeypatch.setenv("SMI_SPEC_VARIANT", "mp105")
        result = conform.run(mp105_pack, http_adapter.adapter)
        assert result["failed"] == 0, result["first_difference"]
        monkeypatch.setenv("SMI_SPEC_VARIANT", "baseline")
        result = conform.run(mp105_pack, http_adapter.adapter)
        sr11_2, secmp0007 = _baseline_failures(result)
        assert sr11_2 and secmp0007
    finally:
        endpoint.close()
