"""``smi-spec check``: run the explorer over variants and report verdicts and stories.

Each variant is explored once per closed system (``checker.explorer.default_systems``:
every CPL-listed device type and both Type 2 types), and each verdict is about one device
type or pair type (its subject). The table shows a verdict per variant, split by subject
where the subjects differ.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from checker.causes import Cause, all_causes
from checker.compose import iter_explored
from checker.coverage import report as coverage_report
from checker.estimate import estimated_states
from checker.explorer import Bounds, Exploration, PropertyResult, System, paused_collector
from checker.narrate import itf, itf_cause
from checker.recovery_attempts import aftermath_lines
from model.errors import InputError
from model.property_ids import PROPERTY_IDS
from model.variant import load_variants
from properties.armed import precondition
from smi_spec.outputs import inside, remove_temporaries, slug, writable_directory, write_file
from smi_spec.plain import plain, styled
from smi_spec.show import hanging, say, show_states
from smi_spec.strict_json import dumps
from smi_spec.told import Told, VariantCheck, release, take

if TYPE_CHECKING:
    from checker.custom import CustomProperty

__all__ = ["VariantCheck", "as_json", "check", "run_check", "show", "write_traces"]

#: How many distinct causes ``check`` reports per violated property, by default.
DEFAULT_TRACES = 4
#: The search for distinct causes runs over the explored graph again (reading the
#: explorer's steps, kept for it when the estimate is below this): above this many states
#: it would cost minutes and gigabytes (2 meters: 262 s and 5.5 GB, docs/performance.md),
#: so there only the shortest story is told.
CAUSES_UP_TO = 100_000


def check(
    variant_ref: str,
    properties: list[str] | None,
    bounds: Bounds,
    traces: int = DEFAULT_TRACES,
    coverage: bool = False,
    systems: tuple[System, ...] | None = None,
    jobs: int = 1,
    custom: list[CustomProperty] | None = None,
) -> list[VariantCheck]:
    """Explore each variant named by ``variant_ref`` (an id, a path, or ``all``), on up to
    ``jobs`` cores; find up to ``traces`` distinct causes of each violation, judge the
    ``custom`` properties of a properties file, and tell every story. Each graph is let go
    once its stories are told, before the next is explored (issue 23): with one job, peak
    memory is one closed system's, not the sum over systems and variants."""
    wanted = properties or list(PROPERTY_IDS)
    for property_id in wanted:
        if property_id not in PROPERTY_IDS:
            raise InputError(
                f"unknown property {property_id!r}; expected one of {', '.join(PROPERTY_IDS)}"
            )
    variants = load_variants(variant_ref)
    chosen = systems or ()  # none named: each variant's own (checker.explorer)
    # The cause search reads the explorer's steps (checker.causes) where it will run.
    keep_steps = traces > 0 and estimated_states(bounds) <= CAUSES_UP_TO
    found: dict[int, dict[str, list[Cause]]] = {}
    told: dict[tuple[int, str], Told] = {}

    def finish(group: list[Exploration]) -> None:
        """One graph's explorations: their causes, a file's properties (after the causes:
        they have none), every story; then the graph let go, before the next is explored."""
        with paused_collector():
            found.update(_causes(group, traces))
            if custom is not None:
                from checker.custom import check_custom

                for e in group:
                    check_custom(e, custom)
            told.update(take(group, lambda e, pid: found.get(id(e), {}).get(pid, [])))
        release(group)

    checks = []
    explored = iter_explored(
        variants, bounds, wanted, chosen, jobs, coverage, finish, keep_steps=keep_steps
    )
    for v, explorations in zip(variants, explored, strict=True):
        checks.append(VariantCheck(v, explorations, dict(found), dict(told)))
        found.clear()  # this variant's, every graph of it finished
        told.clear()
    return checks


def _causes(explorations: list[Exploration], traces: int) -> dict[int, dict[str, list[Cause]]]:
    """Each exploration's distinct causes, by property. A system told again from another's
    graph (checker.compose) shares its lookup, and so its causes: the same graph, the same
    stories with other device names."""
    by_graph: dict[int, dict[str, list[Cause]]] = {}
    found = {}
    for e in explorations:
        if id(e.lookup) not in by_graph:
            searched = e.states <= CAUSES_UP_TO
            by_graph[id(e.lookup)] = all_causes(e, traces) if searched else {}
        found[id(e)] = by_graph[id(e.lookup)]
    return found


def _subject_json(c: VariantCheck, e: Exploration, p: PropertyResult) -> dict[str, Any]:
    told = c.story(e, p.id) or {}
    return {
        "system": e.system.describe(),
        "verdict": p.verdict,
        "expected": p.expected,
        "why": p.why,
        "armed": e.armed.get(p.id, 0),
        "trace": told.get("steps", []),
        "start": told.get("start"),
        "causes": c.cause_stories(e, p.id),
        "causes_searched": e.states <= CAUSES_UP_TO,
    }


def _property_json(c: VariantCheck, property_id: str) -> dict[str, Any]:
    found = c.results(property_id)
    by_subject = {p.subject or e.system.describe(): _subject_json(c, e, p) for e, p in found}
    shown = next((s for s in by_subject.values() if s["verdict"] == "violated"), None)
    shown = shown or next(iter(by_subject.values()), {})
    return {
        "id": property_id,
        "verdict": c.verdict(property_id),
        "expected": c.variant.expected(property_id),
        "why": shown.get("why"),
        "trace": shown.get("trace", []),
        "start": shown.get("start"),
        "causes": shown.get("causes", []),
        "armed": sum(s["armed"] for s in by_subject.values()),
        "precondition": precondition(property_id),
        "by_subject": by_subject,
    }


def as_json(checks: list[VariantCheck]) -> dict[str, Any]:
    """The JSON report: ``{"variants": [{"variant", "states", "transitions", "seconds",
    "properties": [{"id", "verdict", "expected", "trace", "by_subject"}]}]}`` plus the
    bounds and the systems explored."""
    first = checks[0].explorations if checks else []
    properties = [p.id for p in first[0].properties] if first else []
    return {
        "bounds": first[0].bounds.describe() if first else None,
        "systems": [e.system.describe() for e in first],
        "variants": [
            {
                "variant": c.variant.id,
                "path": c.variant.path,
                "states": sum(e.states for e in c.explorations),
                "transitions": sum(e.transitions for e in c.explorations),
                "seconds": round(sum(e.seconds for e in c.explorations), 3),
                "as_expected": c.as_expected,
                "properties": [_property_json(c, pid) for pid in properties],
                **_coverage_json(c),
            }
            for c in checks
        ],
    }


ITF_SUFFIX = ".itf.json"


def itf_name(exploration: Exploration, result: PropertyResult) -> str:
    """``<variant>-<property>-<subject>.itf.json``, the variant part a slug of its id (never
    the id)."""
    subject = f"-{slug(result.subject)}" if result.subject else ""
    return f"{slug(exploration.variant.id)}-{slug(result.id)}{subject}{ITF_SUFFIX}"


def write_traces(
    directory: Path,
    explorations: list[Exploration],
    causes: Callable[[Exploration, str], list[Cause]] | None = None,
) -> list[Path]:
    """Write one ITF trace per counterexample into ``directory`` (created if need be), and
    one per distinct cause (``...-cause-N.itf.json``), each through a temporary and a
    rename; leftovers of a killed run go first. Every name is checked to lie inside
    ``directory``; two traces to one name are an input error."""
    documents: dict[str, dict[str, Any]] = {}

    def add(name: str, document: dict[str, Any]) -> None:
        if name in documents:
            raise InputError(f"two ITF traces would be written to {name!r}: rename a variant")
        inside(directory, name)
        documents[name] = document

    for e in explorations:
        for result in e.properties:
            document = itf(e, result.id)
            if document is None:
                continue
            name = itf_name(e, result)
            add(name, document)
            for n, cause in enumerate(causes(e, result.id) if causes else [], 1):
                add(
                    name.replace(ITF_SUFFIX, f"-cause-{n}{ITF_SUFFIX}"),
                    itf_cause(e, result.id, cause),
                )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        remove_temporaries(directory, ITF_SUFFIX)
        return [
            write_file(directory, name, (dumps(document) + "\n").encode("utf-8"))
            for name, document in documents.items()
        ]
    except OSError as exc:
        reason = exc.strerror or exc
        raise InputError(f"--itf {directory}: cannot write ITF traces: {reason}") from None


def _coverage_json(c: VariantCheck) -> dict[str, Any]:
    covered = c.coverage()
    return {} if covered is None else {"coverage": coverage_report(covered, c.variant)}


def _cell(c: VariantCheck, property_id: str) -> str:
    found = c.results(property_id)
    verdicts = {p.verdict for _, p in found}
    unexpected = any(p.verdict != p.expected for _, p in found)
    mark = " [bold yellow](unexpected)[/]" if unexpected else ""
    if len(verdicts) <= 1:
        verdict = verdicts.pop() if verdicts else "holds"
        colour = "green" if verdict == "holds" else "red"
        return f"[{colour}]{verdict}[/]{mark}"
    lines = []
    for verdict, colour in (("violated", "red"), ("holds", "green")):
        mine = [p for _, p in found if p.verdict == verdict]
        # "(unexpected)" on the line of the verdict that is not as expected
        wrong = " [bold yellow](unexpected)[/]" if any(p.expected != verdict for p in mine) else ""
        subjects = ", ".join(escape(p.subject or "") for p in mine)
        lines.append(f"[{colour}]{verdict}[/] {subjects}{wrong}")
    return "\n".join(lines)


def show(
    console: Console,
    checks: list[VariantCheck],
    brief: bool = False,
    mix: str | None = None,
    itf_dir: str | None = None,
) -> None:
    """The verdict table, then every counterexample as a numbered story, then a summary of
    at most a few lines per variant; ``brief``: the table alone. ``mix``: the device mix
    asked for with --devices, echoed in the title in place of the bounds' counts."""
    first = checks[0].explorations
    systems = "; ".join(e.system.describe() for e in first)
    bounds = first[0].bounds
    sized = (
        f"devices asked {mix}, checked one component at a time; {bounds.versions} firmware "
        f"versions, up to "
        f"{bounds.max_lost} lost message(s)"
        if mix
        else bounds.describe()
    )
    table = Table(title=f"smi-spec check ({sized}; systems: {systems})")
    table.add_column("Property", no_wrap=True, min_width=max(map(len, PROPERTY_IDS)))
    for c in checks:
        table.add_column(plain(c.variant.id))
    for result in first[0].properties:
        table.add_row(result.id, *[_cell(c, result.id) for c in checks])
    table.add_row(
        "[dim]states / transitions[/]",
        *[
            f"[dim]{sum(e.states for e in c.explorations):,} / "
            f"{sum(e.transitions for e in c.explorations):,}[/]"
            for c in checks
        ],
    )
    table.add_row(
        "[dim]seconds[/]",
        *[f"[dim]{sum(e.seconds for e in c.explorations):.2f}[/]" for c in checks],
    )
    console.print(table)
    if brief:
        return
    _show_vacuous(console, checks)
    for c in checks:
        for e in c.explorations:
            for p in e.properties:
                _show_causes(console, c, e, p)
        covered = c.coverage()
        if covered is not None:
            show_coverage(console, c.variant.id, coverage_report(covered, c.variant))
    show_summary(console, checks, itf_dir)


def _first_cause(c: VariantCheck, property_id: str) -> str:
    """The first (shortest) cause of a violation, in one line."""
    for e, p in c.results(property_id):
        if p.verdict != "violated":
            continue
        found = c.causes_of(e, property_id)
        if found:
            cause = found[0]
            return f"{cause.describe()} ({len(cause.actions)} step(s))"
        from checker.causes import faults_of

        faults = [i.id for a in p.actions if a >= 0 for i in faults_of(e.universe.actions[a])]
        said = ", ".join(faults) or "no fault"
        return f"{said} ({len(p.actions)} step(s); distinct causes not searched)"
    return ""


def summary_lines(checks: list[VariantCheck], itf_dir: str | None = None) -> list[str]:
    """The closing summary: per variant, how many verdicts are as expected, and per violated
    property one line (its subjects, expected or not, its first cause)."""
    lines = ["Summary"]
    for c in checks:
        ids = [p.id for p in c.explorations[0].properties] if c.explorations else []
        unexpected = [pid for pid in ids if any(p.verdict != p.expected for _, p in c.results(pid))]
        lines.append(
            f"{c.variant.id}: {len(ids) - len(unexpected)} of {len(ids)} properties as "
            "expected" + (f"; NOT as expected: {', '.join(unexpected)}" if unexpected else "")
        )
        for pid in ids:
            violated = [p.subject or "" for _, p in c.results(pid) if p.verdict == "violated"]
            if not violated:
                continue
            mark = "unexpected" if pid in unexpected else "expected"
            lines.append(f"  {pid} violated for {', '.join(violated)} ({mark})")
            lines.append(f"    first cause: {_first_cause(c, pid)}")
    where = f"; ITF traces in {itf_dir}" if itf_dir else ""
    lines.append(
        f"Full stories: above, each headed '<variant>: <property> violated for <type>'{where}"
    )
    return lines


def show_summary(console: Console, checks: list[VariantCheck], itf_dir: str | None) -> None:
    """Print the summary, wrapped lines hanging under their text (never mid-word)."""
    console.print()
    for line in summary_lines(checks, itf_dir):
        say(console, line)


def _show_vacuous(console: Console, checks: list[VariantCheck]) -> None:
    """Properties never armed at these bounds: they passed without being put to the test."""
    for c in checks:
        for e in c.explorations:
            for p in e.properties:
                if p.verdict == "holds" and not e.armed.get(p.id):
                    console.print(
                        f"[yellow]vacuous:[/] {escape(c.variant.id)}: {p.id} holds for "
                        f"{p.subject} but was never armed ({precondition(p.id)}) at these bounds",
                        markup=True,
                        highlight=False,
                    )


def _heading(console: Console, e: Exploration, p: PropertyResult, expected: str) -> None:
    console.print()
    console.print(
        styled(
            "[bold]{id}: {p} violated for {s}[/] ({x})",
            id=e.variant.id,
            p=p.id,
            s=p.subject or "",
            x=expected,
        )
    )


def _show_causes(console: Console, c: VariantCheck, e: Exploration, p: PropertyResult) -> None:
    if p.verdict != "violated":
        return
    expected = "expected" if p.verdict == p.expected else "NOT expected"
    told = c.cause_stories(e, p.id)
    if not told:
        _show_story(console, c, e, p, expected)
        return
    _heading(console, e, p, expected)
    for n, cause in enumerate(told, 1):
        console.print()
        said = plain(
            f"[{cause['tag']}] {cause['cause']} ({cause['length']} step(s); its rules from "
            f"{', '.join(cause['provenance'])}; needs "
            f"{', '.join(cause['needs_assumptions']) or 'no assumption'})"
        )
        console.print(hanging(f"cause {n} of {len(told)}, seeds first:", said, 1))
        say(console, f"  start: {cause['start']}")
        show_states(console, cause["initial"], cause["steps"])
        _show_ending(console, cause)
    say(console, f"  why: {p.why}")


def _show_ending(console: Console, told: dict[str, Any]) -> None:
    """The point of no return, then each way back tried, failing, and the manual correction
    (checker.recovery_attempts)."""
    no_return = told.get("point_of_no_return")
    if no_return is not None:
        where = "the start" if no_return == 0 else f"step {no_return}"
        say(console, f"  point of no return: after {where}")
    if told.get("aftermath"):
        for line in aftermath_lines(told["aftermath"]):
            say(console, f"  {line}")


def _show_story(
    console: Console, c: VariantCheck, e: Exploration, p: PropertyResult, expected: str
) -> None:
    """The shortest story alone, where the distinct causes were not searched."""
    told = c.story(e, p.id)
    if told is None:
        return
    _heading(console, e, p, expected)
    if p.id in PROPERTY_IDS:
        say(
            console, f"  (distinct causes not searched: {e.states:,} states, over {CAUSES_UP_TO:,})"
        )
    else:
        say(console, "  (a property from a file: its shortest story alone)")
    say(console, f"  start: {told['start']}")
    for step in told["steps"]:
        say(console, f"  {step['step']}. {step['text']}")
    _show_ending(console, told)
    say(console, f"  why: {p.why}")


def show_coverage(console: Console, variant_id: str, report: dict[str, Any]) -> None:
    """Rule coverage: counts by provenance tag, then every row and transition exercised
    with its hits, then the ones never exercised."""
    console.print(
        f"\n[bold]{escape(variant_id)}: rule coverage[/] (hits = distinct local transitions)"
    )
    for tag, counts in sorted(report["by_provenance"].items()):
        console.print(f"  {tag}: {counts['exercised']} of {counts['rules']} exercised")
    table = Table(title=f"{variant_id}: rules and transitions exercised")
    for column in ("Rule or transition", "Kind", "Source", "Hits"):
        table.add_column(column, overflow="fold")
    for row in report["rules"]:
        if row["hits"]:
            table.add_row(row["id"], row["kind"], row["provenance"], f"{row['hits']:,}")
    console.print(table)
    never = report["never_exercised"]
    console.print(f"  never exercised ({len(never)}): " + ", ".join(never), markup=False)


def run_check(
    console: Console,
    variant_ref: str,
    properties: list[str] | None,
    bounds: Bounds,
    itf_dir: str | None,
    json_output: bool,
    traces: int = DEFAULT_TRACES,
    coverage: bool = False,
    systems: tuple[System, ...] | None = None,
    jobs: int = 1,
    emit_pytest: str | None = None,
    brief: bool = False,
    mix: str | None = None,
    properties_file: str | None = None,
) -> bool:
    if itf_dir is not None:
        writable_directory(Path(itf_dir), f"--itf {itf_dir}: cannot write ITF traces", create=False)
    if emit_pytest is not None:
        from smi_spec.emit_pytest import check_target

        check_target(emit_pytest)
    custom = None
    if properties_file is not None:
        from checker.custom import load_properties

        custom = load_properties(properties_file)  # bad input: before any exploration
    checks = check(variant_ref, properties, bounds, traces, coverage, systems, jobs, custom)
    explored = [e for c in checks for e in c.explorations]
    if emit_pytest is not None:
        from smi_spec import emit_pytest as emitter

        emitter.write(emit_pytest, "check", emitter.from_explorations(explored))
    if itf_dir is not None:
        of = {id(e): c for c in checks for e in c.explorations}
        write_traces(Path(itf_dir), explored, lambda e, pid: of[id(e)].causes_of(e, pid))
    if json_output:
        sys.stdout.write(dumps(as_json(checks)) + "\n")
    else:
        show(console, checks, brief, mix, itf_dir)
    return all(c.as_expected for c in checks)
