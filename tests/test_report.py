"""The HTML report: complete, self-contained, escaped, accessible, written atomically."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.errors import InputError
from model.variant import load_variant
from smi_spec import report
from tests.conftest import ROOT, assert_one_line_error, cli, fail_on_call

PAGES = {
    "index.html",
    "variant-baseline.html",
    "variant-mp105.html",
    "variant-mp178.html",
    "diff-baseline-mp105.html",
    "diff-mp105-mp178.html",
}


class Page(HTMLParser):
    """The parts of a page the tests read: tags with attributes, text, and nesting."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.open: list[str] = []
        self.unbalanced: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in {"meta", "link", "img", "br", "input", "hr"}:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.unbalanced.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("r") / "report"
    result = report.build_report(out, [load_variant(v) for v in ("baseline", "mp105", "mp178")])
    assert result["unexpected"] == []
    return out


def page(built: Path, name: str) -> Page:
    return Page((built / name).read_text(encoding="utf-8"))


def test_every_page_and_diagram_is_there_and_self_contained(built: Path) -> None:
    assert {p.name for p in built.glob("*.html")} == PAGES
    for name in PAGES:
        text = (built / name).read_text(encoding="utf-8")
        parsed = Page(text)
        assert not parsed.unbalanced and not parsed.open, (name, parsed.unbalanced)
        assert "<script" not in text and "@import" not in text and "url(" not in text
        for tag, attribute in (("a", "href"), ("link", "href")):
            for attrs in parsed.all(tag):
                if attribute not in attrs:  # an SVG <a> that only carries a tooltip
                    assert tag == "a" and attrs.get("xlink:title"), (name, attrs)
                    continue
                target = attrs[attribute] or ""
                assert not re.match(r"[a-z]+://", target), (name, target)
                if tag != "link" and not target.startswith("#"):
                    assert (built / target.split("#")[0]).is_file(), (name, target)
        # Diagrams are inlined SVG with a title, each with its text alternative beside it.
        assert not parsed.all("img") and parsed.all("svg"), name
        assert "<?xml" not in text and "<!DOCTYPE svg" not in text, name
        assert len(parsed.all("figure")) == len([s for s in parsed.all("svg") if s.get("role")])


def test_pages_are_accessible(built: Path) -> None:
    for name in PAGES:
        parsed = page(built, name)
        assert parsed.all("html")[0].get("lang") == "en"
        assert len(parsed.all("h1")) == 1 and parsed.all("main") and parsed.all("nav")
        assert any(m.get("name") == "viewport" for m in parsed.all("meta"))
        headers = parsed.all("th")
        assert headers and all(th.get("scope") in ("col", "row") for th in headers), name
        assert len(parsed.all("caption")) == len(parsed.all("table"))


def test_verdicts_and_diagrams_of_each_variant(built: Path) -> None:
    text = (built / "variant-mp178.html").read_text(encoding="utf-8")
    assert 'href="diagrams/join-machine-mp178.svg"' in text
    # mp178's status chart is mp105's: shared, and said so.
    assert '<figure data-diagram="status-chart-mp105">' in text
    assert 'href="diagrams/status-chart-mp105.svg"' in text
    assert "the same transitions as under mp105" in text
    verdicts = text[text.index('id="verdicts"') : text.index('id="rules"')]
    assert re.search(r"unjoin-validated.*?badge violated", verdicts, re.S)
    for pair in ("ESME-CAD", "GSME-IHD"):
        assert re.search(
            rf"join-recoverable</span></th><td[^>]*>{pair}</td><td[^>]*><span class=\"badge holds",
            verdicts,
        )


def test_check_e5_table_marks_the_exception_list(built: Path) -> None:
    def e5(name: str) -> str:
        text = (built / name).read_text(encoding="utf-8")
        return text[text.index('id="check-e5"') : text.index('id="counterexamples"')]

    assert "★ exception list</span>: SR11.2" in e5("variant-mp105.html")
    assert "★ exception list</span>: SR11.2" not in e5("variant-baseline.html")
    assert "SR2.2 (Command Variant 2, SMETS1 only)" in e5("variant-baseline.html")
    assert "accepted for Command Variant 2, SMETS1 only; otherwise E51" in e5(
        "variant-baseline.html"
    )


def test_counterexamples_are_numbered_stories(built: Path) -> None:
    text = (built / "variant-baseline.html").read_text(encoding="utf-8")
    join = text[text.index('id="story-join-recoverable-ESME-CAD"') :]
    assert "Step 1." in join and "SR8.7.2 Join Service (Non-Critical) to esme1 for cad1" in join
    assert "⚡ response lost" in join and "Why this breaks join-recoverable" in join
    for meter in ("ESME", "GSME", "PPMID", "HCALCS"):
        assert f'id="story-firmware-recoverable-{meter}"' in text
    mp178 = (built / "variant-mp178.html").read_text(encoding="utf-8")
    assert "unjoin-validated for ESME-CAD: violated (expected)" in mp178
    assert "Every property holds" not in mp178


def test_diff_pages_list_what_changes(built: Path) -> None:
    text = (built / "diff-baseline-mp105.html").read_text(encoding="utf-8")
    assert "firmware-recoverable" in text and "SR11.2 joins the exception list" in text
    assert '<figure data-diagram="status-chart-diff-baseline-mp105">' in text
    assert "The join relationship machine: no transition changes." in text
    text = (built / "diff-mp105-mp178.html").read_text(encoding="utf-8")
    assert "E080801" in text and 'data-diagram="join-machine-diff-mp105-mp178"' in text


def test_all_text_is_escaped(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.toml"
    hostile.write_text(
        'id = "hostile"\ntitle = "<script>alert(\'x\')</script> & <b>co</b>"\n'
        f'extends = "{ROOT}/model/variants/mp178.toml"\nsources = ["assumption"]\n'
        '[expect]\nunjoin-validated = "violated"\n',
        encoding="utf-8",
    )
    out = tmp_path / "report"
    report.build_report(out, [load_variant("mp105"), load_variant(str(hostile))])
    for name in ("index.html", "variant-hostile.html", "diff-mp105-hostile.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert "<script>" not in text and "<b>co</b>" not in text
    text = (out / "variant-hostile.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;" in text
    parsed = Page(text)
    assert "script" not in {t for t, _ in parsed.tags} and "b" not in {t for t, _ in parsed.tags}
    assert "<script>alert('x')</script> & <b>co</b>" in "".join(parsed.text)


TABLE = """{% import "macros.html.j2" as m %}
{%- call m.table(caption, ["<col>", column], 1) %}{{ m.row(["<col>", column], [cell, cell]) }}
{%- endcall %}"""


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60), st.text(max_size=60))
def test_tables_escape_any_text(caption: str, column: str, cell: str) -> None:
    """Any text in a caption, a column name or a cell stays text: the table's structure
    is the template's alone."""
    html = report.environment().from_string(TABLE).render(caption=caption, column=column, cell=cell)
    parsed = Page(html)
    assert not parsed.unbalanced and not parsed.open
    assert [t for t, _ in parsed.tags] == ["div", "table", "caption", "thead", "tr", "th", "th",
                                           "tbody", "tr", "th", "td"]  # fmt: skip
    assert parsed.all("td")[0]["data-label"] == column
    assert parsed.all("div")[0]["aria-label"] == caption
    text = "".join(parsed.text)
    for value in (caption, cell):
        assert value.replace("\r", "\n") in text.replace("\r", "\n") or not value.strip()


def test_only_safe_svg_is_inlined() -> None:
    """The report inlines its own renderer's SVG, checked: script, event handlers, foreign
    content, external links and DTDs are refused; the XML prologue is dropped; ids are
    prefixed so several diagrams share a page."""
    good = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        b'<svg width="100pt" height="50pt" xmlns="http://www.w3.org/2000/svg" '
        b'xmlns:xlink="http://www.w3.org/1999/xlink"><g id="edge1"><title>a&lt;b</title>'
        b'<a xlink:title="tip"><text font-size="8.00">x</text></a></g></svg>'
    )
    inlined = str(report.inline_svg("d", good))
    assert inlined.startswith("<svg") and 'id="d-edge1"' in inlined and "a&lt;b" in inlined
    # Smallest text 8 units: scaled so that it is at least 11 px.
    assert 'width="138" height="69"' in inlined
    # Ids are rewritten on the parsed tree: an id is an attribute value, escaped as one.
    quoted = good.replace(b'id="edge1"', b'id="e&quot; onload=&quot;x"')
    assert 'id="d-e&quot; onload=&quot;x"' in str(report.inline_svg("d", quoted))
    hostile = {
        "script": b"<script>alert(1)</script>",
        "onload": b'<g onload="alert(1)"/>',
        "javascript": b'<a xlink:href="javascript:alert(1)"><text>x</text></a>',
        "http": b'<a href="http://example.com/">x</a>',
        "foreignObject": b"<foreignObject><p>x</p></foreignObject>",
    }
    for what, part in hostile.items():
        svg = good.replace(b"</svg>", part + b"</svg>")
        with pytest.raises(InputError, match=r"refused|not safe"):
            report.inline_svg(what, svg)
    doctype = b'<!DOCTYPE svg [<!ENTITY x "y">]>' + good.split(b"\n", 1)[1]
    with pytest.raises(InputError, match="not safe"):
        report.inline_svg("doctype", doctype)


def test_a_failed_build_leaves_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report"
    report.write_tree(out, {"index.html": b"old", report.MARKER: b""})
    fail_on_call(monkeypatch, Path, "write_bytes", 3, OSError(28, "No space left on device"))
    with pytest.raises(InputError, match="No space left"):
        report.write_tree(out, {f"p{n}.html": b"new" for n in range(5)} | {report.MARKER: b""})
    assert (out / "index.html").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary left


def test_bad_out_is_one_line_exit_2(tmp_path: Path) -> None:
    a_file = tmp_path / "file.html"
    a_file.write_text("x")
    assert_one_line_error(cli("report", "--out", str(a_file)), "not a directory")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete")
    assert_one_line_error(cli("report", "--out", str(precious)), "not a previous report")
    assert (precious / "thesis.tex").is_file()


def test_report_command_replaces_a_previous_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    for _ in range(2):
        result = cli("report", "--out", str(out), "--variant", "baseline", "--format", "json")
        assert result.returncode == 0, result.stderr
    assert {p.name for p in out.glob("*.html")} == {"index.html", "variant-baseline.html"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_each_variant_shows_its_test_pack_with_a_story_per_case(built: Path) -> None:
    """The pack's coverage table, and each case linked to its story on the same page."""
    for v in ("baseline", "mp105", "mp178"):
        text = (built / f"variant-{v}.html").read_text(encoding="utf-8")
        section = text[text.index('id="test-pack"') :]
        links = re.findall(r'href="#(pack-case-\d{3})"', section)
        assert links and links[0] == "pack-case-001"
        for anchor in links:
            assert f'id="{anchor}"' in section
        assert f"smi-spec testpack --variant {v} --out DIR" in section
    mp105 = (built / "variant-mp105.html").read_text(encoding="utf-8")
    pack = mp105[mp105.index('id="test-pack"') :]
    assert "SR11.2 Read Firmware Version to esme1" in pack and "response lost" in pack


def test_the_overview_shows_the_fleet_impact_and_the_cost_plot(built: Path) -> None:
    """Per variant the expected stranded devices and £ a year, the rates with their
    sources, and the cost against loss plot inlined as SVG, one line a variant."""
    text = (built / "index.html").read_text(encoding="utf-8")
    section = text[text.index('id="impact"') : text.index('id="machines"')]
    for variant in ("baseline", "mp105", "mp178"):
        assert f">{variant}</th>" in section
    assert "ESME with CAD" in section and "£" in section
    assert "30,000,000" in section
    assert '<span class="tag">seed:MP178</span>' in section
    plot = section[section.index("<svg") : section.index("</svg>")]
    assert 'role="img"' in plot and "url(" not in plot
    for variant in ("baseline", "mp105", "mp178"):
        assert f">{variant}</text>" in plot  # the legend, as text


def test_each_variant_page_shows_which_verdicts_hinge_on_an_assumption(built: Path) -> None:
    """issue 19: the report carries check --sensitivity (each assumption flipped alone)."""
    text = (built / "variant-baseline.html").read_text(encoding="utf-8")
    assert 'id="sensitivity"' in text
    section = text.split('id="sensitivity"', 1)[1]
    assert "joins.reconcile_smi_from_8_9" in section and "cpl.relisting_restores" in section
    assert "join-recoverable" in section
