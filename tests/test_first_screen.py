"""A first visit paints in one round trip (web/first_screen.py): app.css's first-screen
rules inline, the whole file at the end of the body; later pages link it in the head."""
import re

from tests.conftest import sign_in
from tests.factories import sign_in_client
from web.first_screen import STYLE, first_screen_rules

HX = {"HX-Request": "true"}


def stylesheet_in_head(page):
    return 'rel="stylesheet"' in page.split("</head>")[0]


def stylesheet_after_footer(page):
    return 'rel="stylesheet"' in page.split("</footer>")[1]


def test_only_the_marked_rules_are_inlined_without_comments_and_spaces():
    css = """a { color: red; }
/* first screen */
/* The page */
b, c > d { margin: 0 auto;
  padding: 1px; }
/* end of first screen */
e { color: blue; }
/* first screen */
@media (max-width: 30rem) { f { flex: 1 1 0; } }
/* end of first screen */"""
    assert first_screen_rules(css) == "b, c > d{margin: 0 auto;padding: 1px}@media (max-width: 30rem){f{flex: 1 1 0}}"


def test_the_inline_rules_are_app_css_s_marked_ones(app):
    with open(f"{app.root_path}/static/css/app.css", encoding="utf-8") as file:
        css = file.read()
    assert css.count("/* first screen */") == css.count("/* end of first screen */") > 0
    assert ".panel{" in STYLE and ".badge.status-under_review{" in STYLE and ".top nav{" in STYLE
    assert "table{" not in STYLE and "@media print" not in STYLE


def test_a_first_visit_inlines_the_first_screen_and_loads_app_css_at_the_end(client):
    response = client.get("/auth/login")
    page = response.get_data(as_text=True)
    assert f"<style>{STYLE}</style>" in page.split("</head>")[0]
    assert not stylesheet_in_head(page) and stylesheet_after_footer(page)
    version = re.search(r'href="/static/css/app\.css\?v=(\w+)"', page).group(1)
    cookie = client.get_cookie("css")
    assert cookie.value == version and cookie.http_only and cookie.same_site == "Lax"


def test_later_pages_link_app_css_in_the_head_as_before(client):
    client.get("/auth/login")
    response = client.get("/auth/login")
    page = response.get_data(as_text=True)
    assert "<style" not in page and stylesheet_in_head(page) and not stylesheet_after_footer(page)
    assert not any(header.startswith("css=") for header in response.headers.getlist("Set-Cookie"))


def test_staff_pages_wait_for_app_css_as_before(client, officer):
    """Their tables and filters are not among the first-screen rules."""
    sign_in_client(client, "noura")
    client.delete_cookie("css")
    page = client.get("/staff/").get_data(as_text=True)
    assert "<style" not in page and stylesheet_in_head(page) and not stylesheet_after_footer(page)


def test_a_changed_app_css_is_inlined_again(client):
    client.get("/auth/login")
    client.set_cookie("css", "an-old-version")
    page = client.get("/auth/login").get_data(as_text=True)
    assert "<style>" in page and stylesheet_after_footer(page)
    assert client.get_cookie("css").value != "an-old-version"


def test_a_redirect_does_not_say_app_css_is_kept(client):
    """A redirect makes the browser fetch no app.css."""
    assert client.get("/requests/").status_code == 302
    assert client.get_cookie("css") is None


def test_a_fragment_does_not_say_app_css_is_kept(client, service_request):
    sign_in_client(client)
    client.delete_cookie("css")
    response = client.get(f"/requests/{service_request.number}/status", headers=HX)
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert client.get_cookie("css") is None


def test_the_request_page_kept_once_rendered_comes_in_both_forms(app, client, service_request):
    """The request page is kept per worker (web/rendered.py): the first-visit form and
    the usual one are two pages."""
    sign_in_client(client)
    url = f"/requests/{service_request.number}"
    client.delete_cookie("css")
    first = client.get(url).get_data(as_text=True)
    later = client.get(url).get_data(as_text=True)
    client.delete_cookie("css")
    first_again = client.get(url).get_data(as_text=True)
    assert "<style>" in first and "<style>" in first_again and stylesheet_after_footer(first_again)
    assert "<style" not in later and stylesheet_in_head(later)
    assert service_request.number in later


def test_chromium_applies_the_inline_rules_without_a_csp_refusal(browser, live, e2e_resident):
    """A first visit in Chromium: the header and the form are styled before app.css
    arrives (held back here), and the CSP refuses nothing; then the whole sheet applies."""
    context = browser.new_context(locale="en-US", viewport={"width": 360, "height": 740})
    page = context.new_page()
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    held = []
    page.route("**/static/css/app.css*", lambda route: held.append(route))
    page.goto(f"{live}/auth/login", wait_until="commit")
    page.wait_for_selector("main form button")
    page.wait_for_function("() => document.querySelector('footer')")
    assert held, "app.css was asked for"
    header = page.eval_on_selector("header.top", "e => getComputedStyle(e).backgroundColor")
    button = page.eval_on_selector("main form button", "e => getComputedStyle(e).backgroundColor")
    assert header == button == "rgb(11, 110, 79)"  # --brand, from the inline rules alone
    page.unroute("**/static/css/app.css*")  # lets the held request go on
    page.wait_for_load_state("load")
    assert page.eval_on_selector("html", "e => document.styleSheets.length") == 2
    sign_in(page, live)  # the next pages link app.css in the head
    assert page.eval_on_selector("html", "e => document.querySelectorAll('style').length") == 0
    assert page.eval_on_selector("header.top", "e => getComputedStyle(e).backgroundColor") == "rgb(11, 110, 79)"
    assert not [text for text in messages if "Refused" in text or "Content Security Policy" in text], messages
    context.close()
