"""A resident on a slow link: how long until the page is readable, in headless Chromium.

Starts the portal as `make run` does (bench/speed.py's helpers: the Procfile's
gunicorn line, a fresh database with the demo data), signs the demo resident in,
then opens, in Debian's Chromium with the link emulated through the DevTools
protocol (Network.emulateNetworkConditions: the latency is added to every
request, the throughput shared by both directions' transfers):

    request   the demo resident's request under review, signed in, as from the
              SMS link: an empty cache, no cookie but the session's
    sign-in   /auth/login, anonymous, an empty cache

Each first visit is followed by a repeat visit in the same browser (the cache and
the cookies the first one left), and by a visit with the cache emptied but the
cookies kept ("cache lost": the `css` cookie says app.css is kept, so the page
links it in the head and waits for it, as every page did before; see
web/first_screen.py). Bytes received are counted as Chrome's network log counts
them (headers and compressed bodies; 0 for a cached file).

"Readable" is the moment the page's key element (the status badge; the sign-in
button) is first painted with its final styles: its own paint time (the Element
Timing API; the attribute is set by an init script as the parser inserts it),
or, when no inline <style> rule applies to it, the end of app.css's download if
that is later (the styles it is painted with come from app.css). A stylesheet in
the <head> blocks painting anyway, so the second case only matters if it does not.
Also printed: the first contentful paint, and whether it came before app.css had
arrived (the first screen painted from the inline rules).

Medians of --runs visits (5) at each link: 400 kbps / 400 ms, 250 kbps / 800 ms.

    .venv/bin/python bench/slow_link.py [--runs 5]
"""
import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile

import speed  # bench/speed.py: starting the portal, signing in over HTTP

sys.path.insert(0, speed.ROOT)

from playwright.sync_api import sync_playwright  # noqa: E402

from cli.demo import DEMO_PASSWORD  # noqa: E402

LINKS = {"400 kbps / 400 ms": (400, 400), "250 kbps / 800 ms": (250, 800)}
VISITS = ["first", "repeat", "cache lost"]
PAGES = {"request": "#status-panel .badge", "sign-in": "main form button"}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True,
             locale="ar-SA")

# Runs in the page before its own HTML: marks the key element for Element Timing as
# the parser inserts it, and keeps the paint entries.
OBSERVE = """
window.__slow = {paints: {}, element: null};
new PerformanceObserver(list => list.getEntries().forEach(e => window.__slow.paints[e.name] = e.startTime))
  .observe({type: "paint", buffered: true});
new PerformanceObserver(list => list.getEntries().forEach(e => {
  if (e.identifier === "key" && window.__slow.element === null) window.__slow.element = e.renderTime || e.loadTime;
})).observe({type: "element", buffered: true});
new MutationObserver((_, observer) => {
  const key = document.querySelector(%r);
  if (key) { key.setAttribute("elementtiming", "key"); observer.disconnect(); }
}).observe(document, {childList: true, subtree: true});
"""

# After the load: the figures, and whether an inline rule styles the key element.
COLLECT = """selector => {
  const key = document.querySelector(selector);
  const inline = [...document.querySelectorAll("style")].some(style =>
    [...style.sheet.cssRules].some(rule => rule.selectorText && key.matches(rule.selectorText)));
  const css = performance.getEntriesByType("resource").find(r => r.name.includes("/css/app.css"));
  return {element: window.__slow.element, fcp: window.__slow.paints["first-contentful-paint"],
          inline: inline, css_end: css ? css.responseEnd : null};
}"""


def start_portal():
    """The portal under the Procfile's gunicorn flags, on a fresh SQLite database with the demo data."""
    env = dict(os.environ, DATABASE_URL="sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.sqlite"),
               FLASK_SECRET_KEY=secrets.token_urlsafe(48), FLASK_RATELIMIT_ENABLED="false")
    subprocess.run([os.path.join(speed.ROOT, ".venv", "bin", "flask"), "--app", "app", "init-db", "--demo"],
                   cwd=speed.ROOT, env=env, check=True, capture_output=True)
    port = speed.free_port()
    return speed.start("app:create_app()", port, env, speed.procfile_gunicorn()), f"http://127.0.0.1:{port}"


def resident_and_request(base):
    """The signed-in resident's session cookie, and the address of their first request under review."""
    resident = speed.Browser(base).sign_in("demo", DEMO_PASSWORD)
    listing = resident.get("/requests/")
    for number in dict.fromkeys(speed.re.findall(r'href="/requests/(\d{9})"', listing)):  # in the listing's order
        if "data-poll" in resident.get(f"/requests/{number}"):
            return resident.cookie(), f"/requests/{number}"
    raise SystemExit("the demo resident has no request under review")


class Visit:
    """One browser context on an emulated link; its CDP session counts the bytes received."""

    def __init__(self, browser, base, cookie, link, selector):
        self.context = browser.new_context(**PHONE)
        if cookie:
            name, value = cookie.split("=", 1)
            self.context.add_cookies([{"name": name, "value": value, "url": base}])
        self.context.add_init_script(OBSERVE % selector)
        self.page = self.context.new_page()
        self.selector = selector
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        kbps, latency = link
        self.cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": latency,
            "downloadThroughput": kbps * 1000 / 8, "uploadThroughput": kbps * 1000 / 8})
        self.received = []
        self.cdp.on("Network.loadingFinished", lambda e: self.received.append(int(e["encodedDataLength"])))

    def open(self, url, cache):
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": not cache})
        self.received = []
        self.page.goto(url, wait_until="load")
        for _ in range(100):  # wait_for_function would evaluate a string, which the page's CSP refuses
            figures = self.page.evaluate(COLLECT, self.selector)
            if figures["element"] is not None:
                break
            self.page.wait_for_timeout(50)
        readable = figures["element"]
        if not figures["inline"] and figures["css_end"]:
            readable = max(readable, figures["css_end"])
        early = figures["css_end"] is not None and figures["fcp"] < figures["css_end"]
        return dict(readable=readable, fcp=figures["fcp"], early=early, bytes=sum(self.received))


def measure(browser, base, cookie, url, selector, link, runs):
    """First visits, repeat visits, and visits whose cache lost app.css while the
    cookie says it has it (the page then waits for app.css in the head, as before)."""
    first, repeat, evicted = [], [], []
    for _ in range(runs):
        visit = Visit(browser, base, cookie, link, selector)
        first.append(visit.open(base + url, cache=False))
        repeat.append(visit.open(base + url, cache=True))
        evicted.append(visit.open(base + url, cache=False))
        visit.context.close()
    return first, repeat, evicted


def row(page, link, visit, results):
    readable = statistics.median(r["readable"] for r in results)
    fcp = statistics.median(r["fcp"] for r in results)
    size = statistics.median(r["bytes"] for r in results)
    early = sum(r["early"] for r in results)
    return (f"| {page} | {link} | {visit} | {readable / 1000:.2f} s | {fcp / 1000:.2f} s "
            f"| {early}/{len(results)} | {size:,.0f} B |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    process, base = start_portal()
    try:
        cookie, request_url = resident_and_request(base)
        lines = ["| page | link | visit | readable | first paint | painted before app.css | received |",
                 "| --- | --- | --- | --- | --- | --- | --- |"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for link, conditions in LINKS.items():
                for page, selector in PAGES.items():
                    visits = measure(browser, base, cookie if page == "request" else None,
                                     request_url if page == "request" else "/auth/login",
                                     selector, conditions, args.runs)
                    lines += [row(page, link, name, results) for name, results in zip(VISITS, visits, strict=True)]
                    print(*lines[-3:], sep="\n", flush=True)
            browser.close()
        print(f"\nSlow links, Chromium (phone, Arabic), median of {args.runs}:\n" + "\n".join(lines))
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
