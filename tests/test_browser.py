"""The report in a real browser: headless Chromium opens every page from disk.

Each page must load with no console error, no failed request and no page error. At a
desktop's width (1400 px) and a phone's (390 px): no table is wider than the box it sits in
(on a phone a table becomes one card per row), the page itself never scrolls sideways, and
every diagram is inlined SVG with its edge tooltips (<title>), never an <img>. At desktop
width no diagram text is smaller than 11 px, and no label of a diagram overlaps another or
is struck through by a line.
Screenshots go to pytest's tmp_path and to ``report-screenshots/`` (git-ignored).

Uses Playwright for Python with Debian's chromium (``executable_path``); it never downloads
a browser. Skips, saying why, where no chromium or no Playwright can be had.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from model.variant import load_variant
from smi_spec.report import MIN_DIAGRAM_TEXT_PX, build_report
from tests.conftest import ROOT

#: A real browser: tens of seconds, run by .ci/run's slow step (pytest -m slow).
pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "report-screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORTS = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}

#: Every table (details opened, so folded tables count too) against the box it sits in.
TABLES_JS = """() => {
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    return [...document.querySelectorAll('table')].map(t => ({
        caption: t.caption ? t.caption.textContent.slice(0, 60) : '',
        width: t.getBoundingClientRect().width,
        box: t.parentElement.clientWidth,
        boxRight: t.parentElement.getBoundingClientRect().right,
        main: document.querySelector('main').getBoundingClientRect().right,
    }));
}"""

#: Every plot (a figure that is not a state diagram, e.g. the fleet cost plot): inlined SVG
#: whose frame fits the page.
PLOTS_JS = """() => [...document.querySelectorAll('figure[data-plot]')].map(f => ({
    name: f.dataset.plot,
    inline: f.querySelector('svg') !== null,
    frame: f.querySelector('.frame').getBoundingClientRect().width,
    main: document.querySelector('main').getBoundingClientRect().width,
}))"""

#: Every diagram: inlined, with edge tooltips; its smallest text in CSS px; labels that
#: overlap (text boxes intersecting by more than a pixel each way); labels struck through by
#: a line (a point of an edge, arrowhead, node or box outline, every half unit along it,
#: inside the middle of a label's text box). Strike-through is measured in the SVG's own
#: units, the same at every width: measured once, at the desktop width.
DIAGRAMS_JS = """(measureStruck) => [
    ...document.querySelectorAll('figure[data-diagram]')].map(f => {
    const svg = f.querySelector('svg');
    if (!svg) return {name: f.dataset.diagram, inline: false};
    const texts = [...svg.querySelectorAll('text')];
    const px = texts.map(t => {
        const m = t.getScreenCTM();
        return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    });
    const boxes = texts.map(t => t.getBoundingClientRect());
    const overlaps = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) overlaps.push([texts[i].textContent, texts[j].textContent]);
    }
    const graph = svg.querySelector('g.graph');
    const core = [...graph.querySelectorAll('g.edge text, g.node text, g.cluster text')].map(
        t => { const b = t.getBBox(); return {x0: b.x + 1, x1: b.x + b.width - 1,
               y0: b.y + b.height * 0.25, y1: b.y + b.height * 0.8, text: t.textContent}; });
    const struck = new Set();
    for (const s of !measureStruck ? [] : graph.querySelectorAll(
            'g.edge path, g.edge polygon, g.node polygon, g.node ellipse, g.node path, '
            + 'g.cluster path, g.cluster polygon')) {
        const length = s.getTotalLength();
        for (let l = 0; l <= length; l += 0.5) {
            const p = s.getPointAtLength(l);
            for (const b of core) {
                if (p.x > b.x0 && p.x < b.x1 && p.y > b.y0 && p.y < b.y1) struck.add(b.text);
            }
        }
    }
    return {
        name: f.dataset.diagram, inline: true, struck: [...struck],
        edges: svg.querySelectorAll('g.edge').length,
        edgeTitles: svg.querySelectorAll('g.edge > title').length,
        tooltips: svg.querySelectorAll('a[*|title]').length,
        smallest: Math.min(...px), overlaps,
        frame: f.querySelector('.frame').getBoundingClientRect().width,
        main: document.querySelector('main').getBoundingClientRect().width,
    };
})"""


def chromium() -> str | None:
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=ARGS,
            offline=True,
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "report"
    build_report(out, [load_variant(v) for v in ("baseline", "mp105", "mp178")])
    return out


def pages(root: Path) -> list[Path]:
    return sorted(root.glob("*.html"))


def open_page(browser: Any, path: Path, viewport: str, errors: list[str]) -> Any:
    page = browser.new_page()
    page.set_viewport_size(VIEWPORTS[viewport])
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
    response = page.goto(path.as_uri(), wait_until="load")
    assert response is None or response.ok, path.name
    return page


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_page_fits_its_width_with_inlined_diagrams(
    browser: Any, built: Path, tmp_path: Path, viewport: str
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    assert len(pages(built)) == 6
    for path in pages(built):
        errors: list[str] = []
        page = open_page(browser, path, viewport, errors)
        name = f"{path.stem}-{viewport}.png"
        page.screenshot(path=str(tmp_path / name), full_page=True)
        shutil.copyfile(tmp_path / name, SCREENSHOTS / name)
        assert page.locator("img").count() == 0, f"{path.name}: a diagram as <img>"
        diagrams = page.evaluate(DIAGRAMS_JS, viewport == "desktop")
        assert diagrams, f"{path.name}: no diagram"
        for d in diagrams:
            assert d["inline"], (path.name, d["name"])
            assert d["edges"] > 0 and d["edgeTitles"] == d["edges"], (path.name, d)
            assert d["tooltips"] > 0, (path.name, d["name"])  # hover text on edges and nodes
            assert d["frame"] <= d["main"] + 1, (path.name, d["name"], viewport)
            assert d["overlaps"] == [], (path.name, d["name"], d["overlaps"][:5])
            assert d["struck"] == [], (path.name, d["name"], d["struck"])
            if viewport == "desktop":
                assert d["smallest"] >= MIN_DIAGRAM_TEXT_PX - 0.01, (path.name, d["name"], d)
        for plot in page.evaluate(PLOTS_JS):
            assert plot["inline"], (path.name, plot["name"])
            assert plot["frame"] <= plot["main"] + 1, (path.name, plot, viewport)
        tables = page.evaluate(TABLES_JS)
        assert tables, path.name
        for t in tables:
            assert t["width"] <= t["box"] + 1, (path.name, viewport, t)
            assert t["boxRight"] <= t["main"] + 1, (path.name, viewport, t)
        sideways = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert sideways <= 1, f"{path.name} scrolls sideways by {sideways}px at {viewport}"
        assert errors == [], (path.name, errors)
        page.close()


def test_diagram_svgs_open_on_their_own(browser: Any, built: Path) -> None:
    for svg in sorted((built / "diagrams").glob("*.svg")):
        page = browser.new_page()
        page.set_viewport_size(VIEWPORTS["desktop"])
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text))
        page.goto(svg.as_uri(), wait_until="load")
        size = page.evaluate(
            "(() => { const b = document.documentElement.getBoundingClientRect();"
            " return [b.width, b.height]; })()"
        )
        assert size[0] > 100 and size[1] > 100, (svg.name, size)
        assert page.locator("#legend").count() == 1, svg.name
        assert errors == [], (svg.name, errors)
        page.close()
