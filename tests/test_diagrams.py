"""The diagrams: generated from the machines and the variants, fresh, and styled by source."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import join_machine, status_chart
from model.variant import load_variant
from smi_spec import diagrams as dg
from tests.conftest import ROOT, assert_one_line_error, cli

COMMITTED = ROOT / "diagrams"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("diagrams")
    dg.write_diagrams(out)
    return out


def edge_lines(dot: str, source: str, target: str) -> list[str]:
    """The DOT lines of the edges from source to target; a self-loop is drawn through a
    point of its own (source -> source__loopN -> source), its label on the first half."""
    head = rf"{re.escape(target)}(__loop\d+)?" if source == target else re.escape(target)
    lines = (line.strip() for line in dot.splitlines())
    return [line for line in lines if re.match(rf"{re.escape(source)} -> {head} ", line)]


def test_committed_diagrams_are_fresh(generated: Path) -> None:
    """The committed diagrams are exactly what the model generates now: run
    `smi-spec diagrams` and commit diagrams/ when this fails."""
    committed = {p.name for p in COMMITTED.iterdir() if not p.name.startswith(".")}
    fresh = {p.name for p in generated.iterdir()}
    assert committed == fresh, "run `smi-spec diagrams` and commit diagrams/"
    stale = [
        n for n in sorted(fresh) if (COMMITTED / n).read_bytes() != (generated / n).read_bytes()
    ]
    assert not stale, f"stale diagrams (run `smi-spec diagrams`): {stale}"


def test_the_same_input_gives_byte_identical_svg() -> None:
    diagram = dg.definition_diagram(dg.JOIN)
    assert diagram.svg() == diagram.svg()
    assert dg.render_svg(diagram.dot) == dg.render_svg(diagram.dot)


def test_rendering_needs_no_system_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    svg = dg.render_svg("digraph { a -> b }")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg


def test_status_chart_shows_the_compound_and_its_history_state() -> None:
    dot = dg.definition_diagram(dg.STATUS).dot
    assert "subgraph cluster_operational {" in dot
    assert re.search(r"^\s*operational_history \[label=H\b", dot, re.M)
    svg = dg.definition_diagram(dg.STATUS).svg().decode()
    assert "Operational statuses" in svg and ">H</text>" in svg
    # Recovery is not an operational status: it must not be drawn inside the cluster.
    cluster = dot[dot.index("subgraph cluster_operational {") :]
    depth, end = 1, cluster.index("{") + 1
    while depth:
        depth += {"{": 1, "}": -1}.get(cluster[end], 0)
        end += 1
    inside = cluster[:end]
    for status in ("recovery", "recovered", "suspended", "decommissioned", "withdrawn"):
        assert not re.search(rf"\b{status}\b", inside), status
    for status in ("pending", "whitelisted", "installed_not_commissioned", "commissioned"):
        assert re.search(rf"^\s*{status} \[", inside, re.M), status


@pytest.mark.parametrize("machine", [dg.STATUS, dg.JOIN])
def test_every_defined_transition_is_drawn_with_its_provenance_style(machine: str) -> None:
    dot = dg.definition_diagram(machine).dot
    rows = (
        status_chart.describe_transitions()
        if machine == dg.STATUS
        else join_machine.describe_transitions()
    )
    for row in rows:
        source = row["source"] + ("_anchor" if row["source"] == "operational" else "")
        lines = edge_lines(dot, source, row["target"])
        event = row["event"].replace("_", " ")
        drawn = [line for line in lines if f'label="{event}' in line]
        assert drawn, (row, lines)
        style = dg.PROVENANCE_STYLE[row["provenance"]]
        assert any(f'color="{style["color"]}"' in line for line in drawn), row
        if row["provenance"] == "assumption":
            assert all("style=dashed" in line for line in drawn), row


def restore_causes(variant_id: str) -> set[str]:
    return {
        e.cause
        for e in dg.taken_edges(load_variant(variant_id))
        if e.event == "restore_prior_status"
    }


def test_restore_edges_carry_the_variants_update_rules() -> None:
    assert restore_causes("baseline") == {"SR11.3 response (11.3:success)"}
    assert restore_causes("mp105") == {
        "SR11.3 response (11.3:success)",
        "SR11.3 response (11.3:with-version)",
        "SR11.2 response (11.2:with-version)",
    }
    mp105 = dg.variant_diagram(dg.STATUS, load_variant("mp105")).dot
    baseline = dg.variant_diagram(dg.STATUS, load_variant("baseline")).dot
    sr112 = r"restore prior status\nSR11.2 response (11.2:with-version)"
    assert any(sr112 in line for line in edge_lines(mp105, "suspended", "operational_history"))
    assert not any(
        "SR11.2" in line for line in edge_lines(baseline, "suspended", "operational_history")
    )
    # SR8.3 is a Non-Device Request the Suspended row does not gate (an assumption of
    # baseline.toml): every variant's DSP decommissions a Suspended device.
    for dot in (mp105, baseline):
        (line,) = edge_lines(dot, "suspended", "decommissioned")
        assert "never taken" not in line and "SR8.3" in line


def test_unjoin_from_device_only_is_taken_only_without_validation() -> None:
    mp178 = dg.variant_diagram(dg.JOIN, load_variant("mp178")).dot
    mp105 = dg.variant_diagram(dg.JOIN, load_variant("mp105")).dot

    def unjoin(dot: str) -> str:
        (line,) = [
            line
            for line in dot.splitlines()
            if line.strip().startswith("device_only -> unjoined") and "unjoin applied" in line
        ]
        return line

    assert r"unjoin applied\nSR8.8.2" in unjoin(mp178) and "dotted" not in unjoin(mp178)
    assert "never taken under mp105" in unjoin(mp105) and "dotted" in unjoin(mp105)


def test_diff_diagram_colours_added_and_removed() -> None:
    a, b = load_variant("mp105"), load_variant("mp178")
    dot = dg.diff_diagram(dg.JOIN, a, b).dot
    added = [line for line in dot.splitlines() if 'label="+ unjoin applied' in line]
    removed = [line for line in dot.splitlines() if 'label="− unjoin rejected by dsp' in line]
    assert added and all(dg.DIFF_STYLE["added"]["color"] in line for line in added)
    assert len(removed) == 2 and all(dg.DIFF_STYLE["removed"]["color"] in r for r in removed)
    svg = dg.diff_diagram(dg.JOIN, a, b).svg().decode()
    assert "+ added: taken only under the second variant" in svg  # the legend


def test_variants_with_the_same_transitions_share_one_diagram() -> None:
    names = {d.name: d for d in dg.diagram_set()}
    assert names["status-chart-mp105"].variants == ("mp105", "mp178")
    assert names["join-machine-baseline"].variants == ("baseline", "mp105")
    assert "status-chart-mp178" not in names and "join-machine-mp105" not in names
    assert "join-machine-diff-baseline-mp105" not in names  # nothing to show


def test_reconciling_from_8_9_is_drawn_for_a_variant_that_has_it(tmp_path: Path) -> None:
    path = tmp_path / "reconcile.toml"
    path.write_text(
        f'id = "reconcile"\nextends = "{ROOT}/model/variants/mp105.toml"\n'
        'sources = ["assumption"]\n[joins]\nreconcile_smi_from_8_9 = true\n'
        '[expect]\njoin-recoverable = "holds"\n',
        encoding="utf-8",
    )
    edges = dg.taken_edges(load_variant(str(path)))
    reconciled = {(e.source, e.target, e.cause) for e in edges if e.event.startswith("smi_rec")}
    assert reconciled == {("device_only", "joined", "SR8.9"), ("smi_only", "unjoined", "SR8.9")}


def test_diagrams_command_writes_atomically_and_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("not a directory")
    assert_one_line_error(cli("diagrams", "--out", str(target)), "not a directory")
    out = tmp_path / "out"
    result = cli("diagrams", "--out", str(out), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert (out / "status-chart-mp105.svg").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left


def test_write_removes_what_a_previous_run_generated_and_no_longer_does(tmp_path: Path) -> None:
    dg.write_diagrams(tmp_path, dg.diagram_set([load_variant("baseline"), load_variant("mp105")]))
    assert (tmp_path / "status-chart-diff-baseline-mp105.svg").is_file()
    (tmp_path / "mine.txt").write_text("a reviewer's note")
    dg.write_diagrams(tmp_path, dg.diagram_set([load_variant("baseline")]))
    assert not (tmp_path / "status-chart-diff-baseline-mp105.svg").exists()
    assert (tmp_path / "mine.txt").is_file()


# ---------------------------------------------------------------------------------------
# Any variant: the restore edges are exactly those its rules and check E5 allow

RULES = ["11.3:success", "11.3:with-version", "11.2:success", "11.2:with-version"]


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=st.lists(st.sampled_from(RULES), unique=True, max_size=4),
    exempt_11_2=st.booleans(),
    allow_critical=st.booleans(),
)
def test_restore_exits_follow_update_rules_and_check_e5(
    tmp_path_factory: pytest.TempPathFactory,
    rules: list[str],
    exempt_11_2: bool,
    allow_critical: bool,
) -> None:
    """Oracle: a response kind (SR11.3 success, SR11.3 re-attempt, SR11.2) restores a
    Suspended device exactly when check E5 lets its SRV through while Suspended and a rule
    applies to it; the label names the first rule that applies, as the DSP picks it."""
    exceptions = '{ srv = "11.1" }' + (', { srv = "11.2" }' if exempt_11_2 else "")
    path = tmp_path_factory.mktemp("variant") / "v.toml"
    path.write_text(
        'id = "generated"\nsources = ["assumption"]\n'
        f"[suspended]\nallow_critical = {str(allow_critical).lower()}\n"
        f'reject_code = "E51"\nexceptions = [{exceptions}]\n'
        f"[firmware]\nupdate_smi_on = {rules!r}\n".replace("'", '"')
        + '[joins]\nunjoin_requires_smi_join = true\nunjoin_reject_code = "E080801"\n',
        encoding="utf-8",
    )
    accepted = {"11.3": allow_critical, "11.2": exempt_11_2}
    expected = set()
    for srv, success in (("11.3", True), ("11.3", False), ("11.2", True)):
        applying = [r for r in rules if r.startswith(f"{srv}:") and (success or "with" in r)]
        if accepted[srv] and applying:
            expected.add(f"SR{srv} response ({applying[0]})")
    variant = load_variant(str(path))
    found = {e.cause for e in dg.taken_edges(variant) if e.event == "restore_prior_status"}
    assert found == expected


@settings(max_examples=25, deadline=None)
@given(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40)
    .map(lambda t: " ".join(t.split()))
    .filter(bool)
)
def test_any_label_text_renders_and_is_kept(text: str) -> None:
    """Labels are escaped for DOT: any text renders, and the SVG shows it as it was."""
    dot = f"digraph {{ a -> b [label={dg._label([text, 'second'])}] }}"
    svg = ElementTree.fromstring(dg.render_svg(dot))
    shown = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert text in shown and "second" in shown


def test_a_shared_diagrams_legend_names_every_variant_it_stands_for() -> None:
    """mp178's status chart is mp105's: its title names both, and so do its legend and its
    never-taken edges, never one of them alone."""
    shared = [d for d in dg.diagram_set() if d.kind == "variant" and len(d.variants) > 1]
    assert shared
    for d in shared:
        names = " and ".join(d.variants)
        assert f"as the {names} DSPs drive it" in d.title
        legend = [text for text, _ in d.legend.entries if "never taken" in text]
        assert legend == [f"never taken under {names}"], (d.name, legend)
        named = re.findall(r"never taken under ([\w.-]+(?: and [\w.-]+)*)", d.dot)
        assert named and set(named) == {names}, (d.name, set(named))


def test_no_class_of_smi_spec_extends_a_state_machine_librarys_class() -> None:
    """The diagrams are drawn from public data with ``graphviz.Digraph``: no class in
    ``smi_spec`` subclasses (and so overrides private methods of) a class of
    python-statemachine or transitions, whose next minor release could break it."""
    import importlib
    import inspect
    import pkgutil

    import smi_spec

    libraries = ("statemachine", "transitions")
    found = []
    for info in pkgutil.walk_packages(smi_spec.__path__, "smi_spec."):
        if info.name.endswith(".__main__"):
            continue  # runs the command line when imported
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue  # imported, not defined here
            bases = [b for b in cls.__mro__[1:] if b.__module__.split(".")[0] in libraries]
            if bases:
                base = bases[0]
                found.append(f"{info.name}.{name} extends {base.__module__}.{base.__name__}")
    assert not found, found
