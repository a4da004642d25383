"""Counterexamples as pytest regression tests (``--emit-pytest FILE`` on ``fuzz`` and ``check``).

Each test sets up the closed system where the counterexample starts, drives the *live*
machines through its steps with the one DSP (``model.dsp.step``) and asserts the violation:
a safety property broken by the last step, or no way back (``recoverable`` is False) for a
recoverability property. The test passes while the variant keeps the defect and fails
against one that fixes it; ``SMI_SPEC_VARIANT=<id or path> pytest FILE`` picks the variant.

Every value in the file is written with ``repr`` of the model's frozen dataclasses and
checked to read back equal, so user text (a variant path) is data, never code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.explorer import RECOVERABILITY, Exploration
from checker.narrate import counterexample_start
from model import world as world_module
from model.variant import BUILTIN, Variant, load_variant
from model.world import Action, Setup, World
from smi_spec.outputs import check_out_file, replace_file
from smi_spec.plain import visible

#: The names ``repr`` of a setup, world or action uses, all from ``model.world``.
_NAMES = (
    "CplChange",
    "DccEvent",
    "DeviceSpec",
    "DeviceState",
    "ManualFix",
    "PairSpec",
    "Request",
    "Setup",
    "World",
)


@dataclass(frozen=True)
class Counterexample:
    """A violation to pin: where it starts, the steps, and the universe's action versions."""

    variant_ref: str
    variant_id: str
    property_id: str
    setup: Setup
    start: World
    actions: tuple[Action, ...]
    versions: tuple[str, ...]
    dcc_events: bool
    #: The device type or pair type the violation is about, part of the test's name.
    subject: str = ""


def _literal(value: Any) -> str:
    """``repr`` of a model value, checked to read back equal with only model.world's names."""
    text = repr(value)
    namespace = {name: getattr(world_module, name) for name in _NAMES}
    if eval(text, {"__builtins__": {"frozenset": frozenset}}, namespace) != value:
        raise AssertionError(f"cannot write {value!r} as a Python literal")
    return text


def variant_ref(variant: Variant) -> str:
    """A built-in variant by its id; any other by its absolute path (runs from anywhere)."""
    if variant.id in BUILTIN and load_variant(variant.id).path == variant.path:
        return variant.id
    return str(Path(variant.path).resolve())


_HEADER = '''"""Regression tests written by smi-spec {command} --emit-pytest.

Each test drives the live machines through a counterexample and asserts the violation: it
passes while the variant has the defect and fails against a variant that fixes it.
Another variant: SMI_SPEC_VARIANT=<id or path to a .toml file> pytest THIS_FILE
"""

import os

import pytest

from model.dsp import StepNotAllowed, step
from model.machines import LIVE
from model.variant import load_variant
from model.world import {names}
from properties import safety
from checker.alphabet import alphabet
from properties.recoverability import recoverable


def variant_under_test(found_in):
    """The variant the counterexample was found in, or SMI_SPEC_VARIANT where set."""
    return load_variant(os.environ.get("SMI_SPEC_VARIANT", found_in))


def replay(variant, setup, world, actions):
    """The world after each step on the live machines, and the last step's outcome."""
    last = None
    for number, action in enumerate(actions, 1):
        try:
            after, outcome = step(setup, world, action, variant, LIVE)
        except StepNotAllowed as exc:
            pytest.fail(f"step {{number}} is not possible under {{variant.id}}: {{exc}}")
        last = (world, action, after, outcome)
        world = after
    return world, last
'''

#: Every emitted test: the counterexample replayed on the live machines ...
_REPLAY = '''

def test_{name}():
    """{variant_id}: {property_id}, {count} step(s){then}."""
    variant = variant_under_test({variant_ref!r})
    setup = {setup}
    start = {start}
    steps = [
{actions}
    ]
'''

#: ... then the violation it shows: a safety property broken by the last step,
_SAFETY = """    world, last = replay(variant, setup, start, steps)
    broken = {{v.property for v in safety.violations(setup, variant, *last)}}
    assert {property_id!r} in broken, f"{property_id} holds under {{variant.id}}"
"""

#: ... or no way back from where the steps end.
_RECOVERY = """    world, _ = replay(variant, setup, start, steps)
    actions = alphabet(setup, {versions}, variant, {dcc_events!r})
    way_back = recoverable(setup, world, variant, {property_id!r}, lambda s, w: actions, LIVE)
    assert way_back is False, f"{property_id}: a way back exists under {{variant.id}}"
"""


def module_text(command: str, cases: list[Counterexample]) -> str:
    """The text of a pytest module with one test per counterexample."""
    text = _HEADER.format(command=command, names=", ".join(_NAMES))
    seen: dict[str, int] = {}
    for case in cases:
        words = f"{case.variant_id}_{case.property_id}_{case.subject}"
        base = re.sub(r"\W+", "_", words).strip("_").lower()
        seen[base] = seen.get(base, 0) + 1
        name = base if seen[base] == 1 else f"{base}_{seen[base]}"
        recovery = case.property_id in RECOVERABILITY
        template = _REPLAY + (_RECOVERY if recovery else _SAFETY)
        text += template.format(
            then=", then no way back" if recovery else "",
            name=name,
            variant_id=re.sub(r"[^\w.-]", "_", case.variant_id),
            property_id=case.property_id,
            count=len(case.actions),
            setup=_literal(case.setup),
            start=_literal(case.start),
            actions="\n".join(f"        {_literal(a)}," for a in case.actions),
            variant_ref=case.variant_ref,
            versions=_literal(case.versions),
            dcc_events=case.dcc_events,
        )
    return text


def from_explorations(explorations: list[Exploration]) -> list[Counterexample]:
    """The explorer's shortest counterexamples that are step sequences (the catalogue
    sweep's suspended-gate finding has no step to replay and is left out)."""
    cases = []
    for e in explorations:
        for result in e.properties:
            start = counterexample_start(e, result.id)
            if start is None or any(a < 0 for a in result.actions):
                continue
            _, setup, world = start
            cases.append(
                Counterexample(
                    variant_ref(e.variant),
                    e.variant.id,
                    result.id,
                    setup,
                    world,
                    tuple(e.universe.actions[a] for a in result.actions),
                    e.universe.versions,
                    e.bounds.dcc_events,
                    result.subject or "",
                )
            )
    return cases


def check_target(path: str) -> None:
    """Refuse, before the search, a ``--emit-pytest`` path that is not (or cannot be) a
    regular file: a named pipe, a device, a directory there is never replaced."""
    check_out_file(Path(path), f"--emit-pytest {visible(path)}")


def write(path: str, command: str, cases: list[Counterexample]) -> None:
    """Write the module whole or not at all (a temporary file renamed into place), with
    the mode a user expects (0644 less the umask)."""
    data = module_text(command, cases).encode("utf-8")
    replace_file(Path(path), data, f"--emit-pytest {visible(path)}")
