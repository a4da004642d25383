"""CI installs with constraints.txt (README, .ci/run): every requirement of the project and
its extras is pinned there, at a version its range allows, so a run is reproducible."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            found[canonicalize_name(name)] = version
    return found


def requirements() -> list[Requirement]:
    with (ROOT / "pyproject.toml").open("rb") as project:
        table = tomllib.load(project)["project"]
    listed = [
        *table["dependencies"],
        *(r for extra in table["optional-dependencies"].values() for r in extra),
    ]
    return [Requirement(r) for r in listed if canonicalize_name(Requirement(r).name) != "smi-spec"]


def unpinned(pinned: dict[str, str], wanted: list[Requirement]) -> list[str]:
    """Each requirement with no pin, or with a pin its range does not allow."""
    problems = []
    for requirement in wanted:
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name}: not in constraints.txt")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} is outside {requirement.specifier}")
    return problems


def test_every_requirement_is_pinned_within_its_range() -> None:
    assert unpinned(pins((ROOT / "constraints.txt").read_text()), requirements()) == []


def test_a_range_moved_past_its_pin_is_named() -> None:
    pinned = pins((ROOT / "constraints.txt").read_text())
    pinned[canonicalize_name("hypothesis")] = "7.0.0"
    del pinned[canonicalize_name("jinja2")]
    assert unpinned(pinned, requirements()) == [
        "hypothesis==7.0.0 is outside <7,>=6.150",
        "jinja2: not in constraints.txt",
    ]


def test_ci_and_the_readme_install_with_the_constraints() -> None:
    for path in (ROOT / "README.md", ROOT / ".ci" / "run"):
        installs = [line for line in path.read_text().splitlines() if "pip install" in line]
        assert installs and all("-c constraints.txt" in line for line in installs), path
