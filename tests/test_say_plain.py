"""``smi_spec.show.say`` prints a line that fits without rich's layout where nothing is to be
styled (issue 23): the output must be byte for byte what rich's layout prints."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

import smi_spec.show as show

WORDS = st.sampled_from(
    ["esme1", "SR11.3", "F1", "≠", "→", "£2,000", "a", "", " ", "[bold]x[/]", "\x1b[2J", "日本"]
)
LINES = st.tuples(
    st.integers(0, 8),
    st.sampled_from(["", "1.", "12.", "start:", "why:", "note:", "tried:"]),
    st.lists(WORDS, max_size=30).map(" ".join),
)


def _printed(text: str, width: int, fast: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, highlight=False, color_system=None)
    one_line = show._one_line
    if not fast:
        show._one_line = lambda *_: None  # type: ignore[assignment]
    try:
        show.say(console, text)
    finally:
        show._one_line = one_line  # type: ignore[assignment]
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(LINES, st.integers(20, 100))
def test_a_line_said_without_rich_layout_is_what_rich_prints(
    line: tuple[int, str, str], width: int
) -> None:
    indent, label, words = line
    text = " " * indent + (f"{label} {words}" if label else words)
    assert _printed(text, width, fast=True) == _printed(text, width, fast=False)


def test_the_fast_path_is_taken_and_left() -> None:
    """Both paths are exercised: a short plain line takes it, a long or coloured one not."""
    plain_console = Console(file=io.StringIO(), width=80, color_system=None)
    assert show._one_line(plain_console, 2, "1.", "esme1 commissioned") == "  1. esme1 commissioned"
    assert show._one_line(plain_console, 2, "", "x " * 60) is None
    coloured = Console(file=io.StringIO(), width=80, color_system="truecolor", force_terminal=True)
    assert show._one_line(coloured, 2, "", "esme1") is None
