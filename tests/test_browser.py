"""The report in a real browser: headless Chromium opens every page from disk.

Each page must load with no console error, no failed request and no page error; every
diagram must be present and visible (decoded, with a non-zero box); at a phone's width the
page itself must not scroll sideways (wide tables and diagrams scroll inside their frames).
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
from smi_spec.report import build_report
from tests.conftest import ROOT

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
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


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


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_page_loads_cleanly_with_visible_diagrams(
    browser: Any, built: Path, tmp_path: Path, viewport: str
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    assert len(pages(built)) == 6
    for path in pages(built):
        page = browser.new_page()
        page.set_viewport_size(VIEWPORTS[viewport])
        errors: list[str] = []
        page.on(
            "console",
            lambda m, errors=errors: (
                errors.append(m.text) if m.type in ("error", "warning") else None
            ),
        )
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.on("requestfailed", lambda r, errors=errors: errors.append(f"failed: {r.url}"))
        response = page.goto(path.as_uri(), wait_until="load")
        assert response is None or response.ok, path.name
        images = page.eval_on_selector_all(
            "img",
            """imgs => imgs.map(img => {
                img.scrollIntoView();
                const box = img.getBoundingClientRect();
                return {src: img.getAttribute('src'), alt: img.alt, complete: img.complete,
                        natural: img.naturalWidth, width: box.width, height: box.height,
                        visible: getComputedStyle(img).visibility !== 'hidden'};
            })""",
        )
        assert images, f"{path.name}: no diagram"
        for image in images:
            assert image["complete"] and image["natural"] > 0, (path.name, image)
            assert image["width"] > 0 and image["height"] > 0 and image["visible"], image
            assert image["alt"].strip(), image
        sideways = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert sideways <= 1, f"{path.name} scrolls sideways by {sideways}px at {viewport}"
        assert errors == [], (path.name, errors)
        name = f"{path.stem}-{viewport}.png"
        page.screenshot(path=str(tmp_path / name), full_page=True)
        shutil.copyfile(tmp_path / name, SCREENSHOTS / name)
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
