"""The real app in a real browser: search, facets, paging, articles; no console errors."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.browser


def ensure_chromium() -> None:
    """Install Debian's chromium when it is missing and we may (root with apt), else skip."""
    if CHROMIUM.exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, check=False)
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} is not installed and could not be installed")


@pytest.fixture(scope="module")
def base_url(sample_index: Path) -> Iterator[str]:
    """The app served by waitress on a free local port, for the module's tests."""
    waitress = pytest.importorskip("waitress")
    app = create_app({"INDEX_DIR": str(sample_index)})
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Let the worker threads finish before the sockets close under them.
        server.task_dispatcher.shutdown()
        server.close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    ensure_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, width: int = 1280) -> tuple[object, list[str]]:
    """A new page and the list its console errors and failed requests are collected into."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    # Chromium reports CSP violations and failed loads as console errors.
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return page, problems


def screenshot(page, name: str, capsys: pytest.CaptureFixture[str]) -> Path:
    """Save a full-page screenshot under test-artifacts/ and print where it is."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    with capsys.disabled():
        print(f"\nscreenshot: {path}")
    return path


def test_search_facet_page_article_and_more_like_this(
    browser, base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    page, problems = open_page(browser)
    page.goto(base_url + "/")
    assert page.locator("#q").evaluate("el => el === document.activeElement")
    assert page.locator(".hit").count() == 10

    # Search from the box.
    page.fill("#q", "council")
    page.press("#q", "Enter")
    page.wait_for_url("**/?q=council*")
    assert "results for “council”" in page.locator(".results-count").inner_text()
    assert page.locator(".snippet mark").count() > 0
    assert page.locator(".hit .summary").count() == 10
    screenshot(page, "results.png", capsys)

    # Narrow by a facet: a chip appears and every hit has that year.
    total_before = int(page.locator(".results-count").inner_text().split()[0])
    page.locator('section[aria-labelledby="facet-year"] a', has_text="2024").click()
    page.wait_for_url("**year=2024*")
    assert page.locator(".chip").inner_text().startswith("Year: 2024")
    dates = page.locator(".hit time").all_inner_texts()
    assert dates and all(d.startswith("2024") for d in dates)
    assert int(page.locator(".results-count").inner_text().split()[0]) < total_before

    # Remove the chip, then page forward.
    page.locator(".chip").click()
    page.wait_for_url(lambda url: "year=" not in url)
    first_page = page.locator(".hit-title").all_inner_texts()
    page.locator('a[rel="next"]').click()
    page.wait_for_url("**page=2*")
    assert page.locator('.pager [aria-current="page"]').inner_text() == "2"
    second_page = page.locator(".hit-title").all_inner_texts()
    assert second_page and not set(first_page) & set(second_page)

    # Open an article: summary sentences and query terms are marked.
    title = second_page[0]
    page.locator(".hit-title a").first.click()
    page.wait_for_url("**/articles/**")
    assert page.locator("h1").inner_text() == title
    assert page.locator(".article-text mark.summary-sentence").count() > 0
    assert page.locator(".article-text mark.term").count() > 0
    screenshot(page, "article.png", capsys)

    # Follow a "more like this" link.
    similar = page.locator(".more-like li a")
    assert similar.count() == 5
    next_title = similar.first.inner_text()
    similar.first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == next_title

    assert problems == []
    page.close()


def test_phone_width_keyboard_and_no_results(
    browser, base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    page, problems = open_page(browser, width=390)
    page.goto(base_url + "/?q=flood")
    # Facets move below the results on a narrow screen; nothing overflows sideways.
    results = page.locator(".results").bounding_box()
    facets = page.locator(".facets").bounding_box()
    assert facets["y"] >= results["y"] + results["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "results-phone.png", capsys)

    page.fill("#q", '"unbalanced AND zzzyx')
    page.press("#q", "Enter")
    page.wait_for_load_state()
    assert "Unbalanced quote" in page.locator(".notes").inner_text()
    assert page.locator(".empty-state").is_visible()

    # On a page without autofocus the first Tab reaches the skip link, shown when focused.
    page.goto(base_url + "/articles/jl-0001")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    assert problems == []

    # An unknown article is a styled 404 page; its status is the only complaint.
    response = page.goto(base_url + "/articles/does/not/exist")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert page.locator(".site-header").evaluate("el => getComputedStyle(el).display") == "block"
    assert all("404" in p for p in problems)
    page.close()


def test_two_categories_show_both_chips_and_the_union(
    browser, base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    page, problems = open_page(browser)
    page.goto(base_url + "/")
    facet = page.locator('section[aria-labelledby="facet-category"]')
    facet.locator("a", has_text="politics").click()
    page.wait_for_url("**category=politics*")
    assert page.locator(".results-count").inner_text().startswith("6 of 42")
    # The other categories are still listed with their counts, so a second can be added.
    business = facet.locator("a", has_text="business")
    assert business.locator(".count").inner_text() == "6"
    business.click()
    page.wait_for_url("**category=politics&category=business*")
    chips = page.locator(".chip").all_inner_texts()
    assert [" ".join(c.split()[:2]) for c in chips] == ["Category: politics", "Category: business"]
    assert page.locator(".results-count").inner_text().startswith("12 of 42")
    assert set(page.locator(".hit .category").all_inner_texts()) == {"politics", "business"}
    screenshot(page, "facets-two-categories.png", capsys)

    # A chip removes its own value only.
    page.locator(".chip", has_text="politics").click()
    page.wait_for_url(lambda url: "politics" not in url)
    assert page.locator(".chip").all_inner_texts()[0].split()[:2] == ["Category:", "business"]
    assert set(page.locator(".hit .category").all_inner_texts()) == {"business"}
    assert problems == []
    page.close()


def test_clicking_a_timeline_bar_sets_its_date_range(
    browser, base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    page, problems = open_page(browser)
    page.goto(base_url + "/?q=council")
    chart = page.locator("svg.timeline-chart")
    assert chart.is_visible() and chart.bounding_box()["height"] > 20
    screenshot(page, "timeline.png", capsys)
    bar = page.locator(".timeline-bar:not(.empty)").first
    label = bar.get_attribute("aria-label")
    month, count = label.split(": ")
    bar.click()
    page.wait_for_url(f"**from={month}-01*")
    assert page.locator("#from").input_value() == f"{month}-01"
    assert page.locator("#to").input_value().startswith(month)
    assert page.locator(".results-count").inner_text().startswith(f"{count} result")
    dates = page.locator(".hit time").all_inner_texts()
    assert len(dates) == int(count) and all(d.startswith(month) for d in dates)
    screenshot(page, "timeline-month.png", capsys)
    assert problems == []
    page.close()


def test_download_csv_gives_the_hits_of_the_page(browser, base_url: str) -> None:
    page, problems = open_page(browser)
    page.goto(base_url + "/?q=flood&category=environment")
    shown = {
        href.rsplit("/", 1)[-1]
        for href in page.locator(".hit h2 a").evaluate_all(
            "links => links.map(a => a.getAttribute('href').split('?')[0])"
        )
    }
    with page.expect_download() as info:
        page.locator(".downloads a", has_text="CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows and {row["category"] for row in rows} == {"environment"}
    assert {row["id"].rsplit("/", 1)[-1] for row in rows} == shown
    assert problems == []
    page.close()
