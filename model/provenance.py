"""Provenance tags: where each rule comes from, so a reviewer can tell fact from guess.

The tags are those of ``docs/domain.md``:

- ``seed:MP105``: the MP105 page and the DP105 problem statement;
- ``seed:MP178``: the draft Modification Report for the unjoin problem;
- ``duis``: the DUIS Service Request matrix and templates;
- ``assumption``: a modelling choice of this project, with a one-line reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SEED_MP105: Final = "seed:MP105"
SEED_MP178: Final = "seed:MP178"
DUIS: Final = "duis"
ASSUMPTION: Final = "assumption"

TAGS: Final = (SEED_MP105, SEED_MP178, DUIS, ASSUMPTION)


#: Every ``Rule.source`` found well formed so far.
_CHECKED_SOURCES: set[str] = set()


def check_tag(tag: str) -> str:
    """Return ``tag`` if it is a known provenance tag, else raise ValueError."""
    if tag not in TAGS:
        raise ValueError(f"unknown provenance tag {tag!r}; expected one of {', '.join(TAGS)}")
    return tag


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the model: a short id, what it says, and where it comes from."""

    id: str
    text: str
    source: str

    def __post_init__(self) -> None:
        if self.source in _CHECKED_SOURCES:  # a DSP step makes rules by the thousand
            return
        for tag in self.source.split(","):
            check_tag(tag.strip())
        _CHECKED_SOURCES.add(self.source)
