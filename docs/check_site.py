"""Check the built documentation site in a real headless browser, offline.

Run after ``sphinx-build -W -b html docs docs/_build/html`` (``.ci/run`` does both)::

    python docs/check_site.py [docs/_build/html]

1. Every internal link and image of every page resolves to a file of the site (a crawl of the HTML; anchors are
   checked against the ids of the target page).
2. Headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by Selenium with the system driver, so
   nothing is downloaded) opens the landing page, an API page, a gallery page and an answers page, waits for
   MathJax, and checks that the math is typeset (MathJax's ``mjx-container`` elements in the DOM, no raw ``\\(``
   left), that every image has loaded (``complete`` with a natural width), and, on the landing page, that the
   figure is there.

Exit status 0 when every check passes; each failure is printed.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: The pages opened in the browser, and whether each must show typeset math.
PAGES = {
    "index.html": False,
    "api/generated/alignsim.tilting.tilt.html": True,
    "auto_examples/plot_rlvr.html": True,
    "answers/gkd-beta-ends.html": True,
}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("img", "script") and a.get("src"):
            self.links.append(a["src"])
        if tag == "link" and a.get("href") and a.get("rel") in ("stylesheet", "icon"):
            self.links.append(a["href"])


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    return p


def crawl(root: Path) -> list[str]:
    """Broken internal links and images: ``page -> target`` for every target that is not a file of the site (or
    whose anchor is not an id of the target page)."""
    # the theme ships Jinja macro files under _static (templates, not pages)
    parsed = {page: _parse(page) for page in root.rglob("*.html") if "_static" not in page.relative_to(root).parts}
    broken = []
    for page, links in parsed.items():
        for link in links.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue  # external: not checked offline
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(root)} -> {link}")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(root)} -> {link} (no such anchor)")
    return broken


def browse(root: Path) -> list[str]:
    """Open :data:`PAGES` in headless Chromium; return the failures."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--allow-file-access-from-files", "--window-size=1280,1600"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    failures = []
    try:
        for page, math in PAGES.items():
            path = root / page
            if not path.exists():
                failures.append(f"{page}: not built")
                continue
            driver.get(path.resolve().as_uri())
            WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
            if math:
                try:
                    WebDriverWait(driver, 30).until(
                        lambda d: d.execute_script("return document.querySelectorAll('mjx-container').length") > 0)
                except Exception:
                    failures.append(f"{page}: no typeset math (no mjx-container after 30 s)")
                raw = driver.execute_script(
                    "return Array.from(document.querySelectorAll('.math')).filter("
                    "e => !e.querySelector('mjx-container')).length")
                if raw:
                    failures.append(f"{page}: {raw} math elements left untypeset")
            images = driver.execute_script(
                "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
            bad = [src for src, ok in images if not ok]
            if bad:
                failures.append(f"{page}: images not loaded: {bad}")
            if page == "index.html" and not any(ok for _, ok in images):
                failures.append("index.html: the landing page shows no figure")
            shown = len(images), driver.execute_script("return document.querySelectorAll('mjx-container').length")
            print(f"  {page}: {shown[0]} images loaded, {shown[1]} formulas typeset, title {driver.title!r}")
    finally:
        driver.quit()
    return failures


def main(argv=None) -> int:
    root = Path((argv or sys.argv[1:] or ["docs/_build/html"])[0]).resolve()
    if not (root / "index.html").exists():
        print(f"no site at {root}: build it first (sphinx-build -W -b html docs docs/_build/html)")
        return 1
    broken = crawl(root)
    pages = sum(1 for p in root.rglob("*.html") if "_static" not in p.relative_to(root).parts)
    print(f"internal links and images: {pages} pages crawled, {len(broken)} broken")
    for b in broken[:50]:
        print("  broken:", b)
    failures = browse(root)
    for f in failures:
        print("  FAIL:", f)
    ok = not broken and not failures
    print("site check:", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
