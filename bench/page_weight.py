"""Bytes on the wire for a resident on a phone, measured in headless Chromium.

Prints: the first visit to a request page (HTML with the first screen's rules
inline, CSS, htmx, app.js, as served, compressed), the unchanged polls of the
next three seconds or so (a poll every second here), and a repeat visit with a
warm cache (and the cookie that says so: its page links app.css and inlines
nothing). With --screens DIR it also saves phone and desktop screenshots in
Arabic and English.

    .venv/bin/python bench/page_weight.py [--screens /tmp/screens]
"""
import argparse
import os
import secrets
import socket
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from cli.demo import DEMO_PASSWORD, load_demo  # noqa: E402
from models import ServiceRequest, User, db, upgrade  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
DESKTOP = dict(viewport={"width": 1280, "height": 800})


def serve(poll_seconds):
    path = os.path.join(tempfile.mkdtemp(), "bench.sqlite")
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": secrets.token_hex(32),
                      "STATUS_POLL_SECONDS": poll_seconds})
    with app.app_context(), db.connection_context():
        upgrade()
        load_demo()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{port}"


def sign_in(page, base, username="demo", landing="/requests/"):
    page.goto(f"{base}/auth/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button")
    page.wait_for_url(f"{base}{landing}")


class Wire:
    """Bytes received per response, from Chrome's own network log (CDP):
    encodedDataLength counts headers and the compressed body; 0 when cached."""

    def __init__(self, context, page):
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.urls, self.rows = {}, []
        self.cdp.on("Network.responseReceived", lambda e: self.urls.__setitem__(
            e["requestId"], (e["response"]["url"], e["response"]["status"])))
        self.cdp.on("Network.loadingFinished", self.finished)

    def finished(self, event):
        url, status = self.urls.get(event["requestId"], ("?", 0))
        self.rows.append((url.split("/", 3)[-1][:60], status, int(event["encodedDataLength"])))

    def take(self, page, wait_ms):
        page.wait_for_timeout(wait_ms)
        rows, self.rows = self.rows, []
        return rows


def report(title, rows):
    print(f"\n{title}")
    for path, status, size in rows:
        print(f"  {status}  {size:6d} B  /{path}")
    print(f"  total {sum(size for *_, size in rows)} B in {len(rows)} responses")


def measure(browser, base, number):
    context = browser.new_context(locale="ar-SA", **PHONE)
    page = context.new_page()
    sign_in(page, base)
    wire = Wire(context, page)
    wire.cdp.send("Network.clearBrowserCache")
    context.clear_cookies(name="css")  # as the sign-in page had never been seen here (web/first_screen.py)
    page.goto(f"{base}/requests/{number}")
    report("First visit to a request page (empty cache, no cookie but the session's, Arabic, phone): "
           "everything received",
           wire.take(page, 300))
    polls = wire.take(page, 3300)
    report("Unchanged polls (poll interval 1 s here; 10 s by default)", polls)
    page.goto(f"{base}/requests/{number}")
    report("Repeat visit (warm cache)", wire.take(page, 300))
    context.close()


SCREENS = {
    "demo": ("/requests/", ["/requests/", "/requests/new", "/requests/{number}", "/requests/{returned}", "/inquiry"]),
    "fahad": ("/staff/", ["/staff/", "/staff/requests/{number}", "/staff/figures"]),
}


def screenshots(browser, base, numbers, folder):
    os.makedirs(folder, exist_ok=True)
    for lang in ("ar", "en"):
        for label, device in (("phone", PHONE), ("desktop", DESKTOP)):
            for username, (landing, paths) in SCREENS.items():
                context = browser.new_context(locale="ar-SA" if lang == "ar" else "en-US", **device)
                page = context.new_page()
                sign_in(page, base, username, landing)
                for path in paths:
                    page.goto(base + path.format(**numbers))
                    name = path.format(number="detail", returned="returned").strip("/").replace("/", "-")
                    page.screenshot(path=f"{folder}/{lang}-{label}-{name}.png", full_page=True)
                context.close()
    print(f"\nscreenshots in {folder}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--screens", help="folder for screenshots")
    args = parser.parse_args()
    base = serve(poll_seconds=1)
    with db.connection_context():
        demo = User.get(User.username == "demo")
        mine = ServiceRequest.select().where(ServiceRequest.owner == demo)
        number = mine.where(ServiceRequest.status == "under_review").get().number
        returned = mine.where(ServiceRequest.status == "returned").get().number
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        measure(browser, base, number)
        if args.screens:
            screenshots(browser, base, dict(number=number, returned=returned), args.screens)
        browser.close()


if __name__ == "__main__":
    main()
