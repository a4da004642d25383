"""The design documents are the project's own and every citation of them resolves (issue 24).

- Each citation of docs/design.md or docs/domain.md in the source, the tests, the bench,
  the scripts, the docs and README.md names a file that exists, and a section it names in
  quotes (``docs/design.md, "Contracts"``) or as a link's anchor is a heading of that file.
  A bare name with no directory resolves nowhere, except as a markdown link inside docs/.
- The module map of docs/design.md ("Layers") has one line per source module, under its own
  layer: a module added, renamed or removed without its line makes this test fail, so the
  map cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_architecture import LAYERS

DESIGN = ROOT / "docs/design.md"
#: Where citations are looked for: every layer, the tests, the bench, the scripts, the docs.
SEARCHED = (*LAYERS, "tests", "bench", "scripts", "docs")
SUFFIXES = (".py", ".md", ".toml", ".txt")
#: The documents whose citations are checked.
DOCUMENTS = ("design", "domain")
_DOC = "|".join(DOCUMENTS)
#: A markdown link to one of them: [text](target#anchor), then an optional quoted section.
_LINK = re.compile(
    rf'\[[^\]\n]*\]\(([^)\s#]*\b(?:{_DOC})\.md)(?:#([\w-]+))?\)(\s*,\s*"([^"\n]+)")?'
)
#: Any other mention: a path ending in the document's name, then an optional quoted section.
_PLAIN = re.compile(rf'([\w./-]*\b(?:{_DOC})\.md)\b(?:#([\w-]+))?(\s*,\s*"([^"\n]+)")?')
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_MAP_LINE = re.compile(r"^- `([\w/]+\.py)`: \S", re.M)


def cited_files() -> Iterator[Path]:
    yield ROOT / "README.md"
    for top in SEARCHED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in SUFFIXES and path.is_file() and ".venv" not in path.parts:
                yield path


def headings(path: Path) -> set[str]:
    """A markdown file's headings as a reader sees them: no markup, no code blocks."""
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", h) for h in _HEADING.findall(text)}


def anchor(heading: str) -> str:
    """The anchor a markdown renderer gives a heading (GitHub's rule)."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def _resolve(target: str, base: Path) -> Path | None:
    path = (base / target).resolve()
    return path if path.is_file() and path.is_relative_to(ROOT) else None


def _section_problems(
    where: str, doc: Path, section: str | None, fragment: str | None
) -> list[str]:
    found = headings(doc)
    problems = []
    if section is not None and section not in found:
        problems.append(f'{where}: {doc.relative_to(ROOT)} has no heading "{section}"')
    if fragment is not None and fragment not in {anchor(h) for h in found}:
        problems.append(f"{where}: {doc.relative_to(ROOT)} has no heading #{fragment}")
    return problems


def citation_problems(path: Path, text: str) -> list[str]:
    """Every citation in ``text`` (the file at ``path``) that does not resolve."""
    problems = []

    def line_of(offset: int) -> str:
        return f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, offset) + 1}"

    links = list(_LINK.finditer(text)) if path.suffix == ".md" else []
    for link in links:  # a link resolves from the page's own directory
        doc = _resolve(link[1], path.parent)
        if doc is None:
            problems.append(f"{line_of(link.start())}: {link[1]} is not a file of the project")
        else:
            problems += _section_problems(line_of(link.start()), doc, link[4], link[2])
    rest = _LINK.sub(lambda m: " " * len(m[0]), text) if links else text
    for plain in _PLAIN.finditer(rest):  # anything else is a path from the project's root
        doc = _resolve(plain[1], ROOT)
        if doc is None or "/" not in plain[1]:
            problems.append(f"{line_of(plain.start())}: {plain[1]} is not a path from the root")
        else:
            problems += _section_problems(line_of(plain.start()), doc, plain[4], plain[2])
    return problems


def source_modules() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for layer in LAYERS
        for path in (ROOT / layer).rglob("*.py")
    }


def map_problems(design: str, modules: Iterable[str]) -> list[str]:
    """How the module map of ``design`` (the text of docs/design.md) differs from ``modules``."""
    section = design.partition("\n## Layers\n")[2].split("\n## ", 1)[0]
    if not section:
        return ['docs/design.md has no section "Layers"']
    listed: list[str] = []
    problems = []
    for part in re.split(r"^### ", section, flags=re.M)[1:]:
        layer = part.split("\n", 1)[0].strip().strip("`").rstrip("/")
        for module in _MAP_LINE.findall(part):
            listed.append(module)
            if module.split("/")[0] != layer:
                problems.append(f"{module} is listed under {layer}/, not its own layer")
    modules = set(modules)
    problems += [f"{m} is listed twice" for m in sorted({m for m in listed if listed.count(m) > 1})]
    problems += [f"{m} is missing from the module map" for m in sorted(modules - set(listed))]
    problems += [
        f"{m} is in the module map but is no module" for m in sorted(set(listed) - modules)
    ]
    return problems


def test_every_citation_of_the_design_documents_resolves() -> None:
    problems: list[str] = []
    cited = 0
    for path in cited_files():
        text = path.read_text(encoding="utf-8")
        cited += len(_PLAIN.findall(text))
        problems += citation_problems(path, text)
    assert cited > 20, "the search found too few citations to be searching the right files"
    assert not problems, "\n".join(problems)


def test_the_module_map_names_every_source_module_and_nothing_else() -> None:
    problems = map_problems(DESIGN.read_text(encoding="utf-8"), source_modules())
    assert not problems, "\n".join(problems)


def test_the_sections_the_code_relies_on_are_headings() -> None:
    assert {"Layers", "Contracts", "Data path"} <= headings(DESIGN)


# The checks bite: each broken tree below is one a reader could make.

NAME = "design" + ".md"  # spelt apart, so this file's own citations stay the real ones


@pytest.mark.parametrize(
    ("where", "text", "problem"),
    [
        ("model/x.py", f'"""As docs/{NAME}, "No such section" says."""', "no heading"),
        ("model/x.py", f'"""As {NAME} says."""', "not a path from the root"),
        ("model/x.py", f'"""As doc/{NAME} says."""', "not a path from the root"),
        ("docs/x.md", f'See [{NAME}]({NAME}), "No such section".', "no heading"),
        ("docs/x.md", f"See [the design]({NAME}#no-such-section).", "no heading #no-such"),
        ("docs/x.md", f"See [the design](../shared/docs/{NAME}).", "not a file of the project"),
    ],
)
def test_a_broken_citation_is_found(where: str, text: str, problem: str) -> None:
    problems = citation_problems(ROOT / where, text)
    assert len(problems) == 1 and problem in problems[0], problems


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("model/x.py", f'"""As docs/{NAME}, "Contracts" says."""'),
        ("model/x.py", f'"""(docs/{NAME},\n    "Layers")"""'),
        ("docs/x.md", f'See [{NAME}]({NAME}), "Contracts", and [it]({NAME}#data-path).'),
    ],
)
def test_a_good_citation_passes(where: str, text: str) -> None:
    assert citation_problems(ROOT / where, text) == []


def test_a_module_missing_from_the_map_or_one_too_many_is_found() -> None:
    design = DESIGN.read_text(encoding="utf-8")
    modules = source_modules()
    line = "- `model/dsp.py`: "
    without = "\n".join(x for x in design.splitlines() if not x.startswith(line))
    assert map_problems(without, modules) == ["model/dsp.py is missing from the module map"]
    assert map_problems(design, modules - {"model/dsp.py"}) == [
        "model/dsp.py is in the module map but is no module"
    ]
    moved = design.replace(line, "", 1).replace("### checker/\n", f"### checker/\n\n{line}x\n")
    assert map_problems(moved, modules) == [
        "model/dsp.py is listed under checker/, not its own layer"
    ]
