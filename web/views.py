"""Helpers every blueprint's views use: page-or-fragment rendering, polls that cost
no body, role checks, looking a request up by its number, sending a document."""
import ipaddress
import re
from functools import wraps
from io import BytesIO

from flask import abort, current_app, make_response, render_template, request, send_file, url_for
from flask_login import current_user

from models import Document, InvalidNumber, ServiceRequest, parse_request_number

MAX_ID = 2 ** 63  # no larger id exists, and SQLite refuses to compare with one
NO_STORE = "private, no-store"  # every response but a static file's (app.security_headers)


def site_url_for(endpoint, **values):
    """The templates' url_for. The addresses every page repeats, the same for
    everyone (an endpoint without values: the menu, the footer; a static file, with
    its version), are built once per process instead of ten times on every page;
    any other goes to url_for."""
    plain = not values or (endpoint == "static" and values.keys() == {"filename"})
    if not plain or endpoint.startswith("."):
        return url_for(endpoint, **values)
    kept = current_app.extensions.setdefault("site_urls", {})  # bounded by the routes and the static files
    key = (request.script_root, endpoint, values.get("filename"))
    found = kept.get(key)
    if found is None:
        found = kept[key] = url_for(endpoint, **values)
    return found


def is_htmx_fragment_request():
    """True for an htmx request that wants a fragment; boosted and history-restore
    requests need the whole page (htmx docs)."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render(page, fragment, status=200, **context):
    """The whole page for a normal request, only the fragment for htmx."""
    template = fragment if is_htmx_fragment_request() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def shown_version_is(version):
    """True when a poller says it already shows `version` (header X-Shown-Version)."""
    return request.headers.get("X-Shown-Version") == version


def unchanged():
    """The answer to a poll when nothing changed: an empty 204, no Content-Type.
    htmx 4 does not swap a 204, so the page is left as it is."""
    response = make_response("", 204)
    del response.headers["Content-Type"]
    return response


def staff_required(view):
    """For officers and supervisors only (stack it under @login_required)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def supervisor_required(view):
    """For supervisors only: an officer gets 403 (stack it under staff_required)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.role != "supervisor":
            abort(403)
        return view(*args, **kwargs)
    return wrapped


ANY_OWNER = object()  # staff views: a request of any resident


def request_or_404(number, owner):
    """The request with this number among `owner`'s requests (ANY_OWNER for staff).
    A mistyped number, a missing one and someone else's all get the same 404."""
    try:
        number = parse_request_number(number)
    except InvalidNumber:
        abort(404)
    found = ServiceRequest.numbered(number, owner=None if owner is ANY_OWNER else owner)
    if found is None:
        abort(404)
    return found


def document_or_404(service_request, document_id):
    found = document_id < MAX_ID and Document.of_request(service_request, document_id)
    if not found:
        abort(404)
    return found


def send_document(document, inline=False):
    """A stored document: never sniffed, never cached (app.security_headers), inside
    a sandbox. Residents download it (attachment); staff open it in the browser (inline)."""
    response = send_file(BytesIO(document.data), mimetype=document.content_type, as_attachment=not inline,
                         download_name=document.name, etag=False)  # no-store: never revalidated
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"
    return response


# A path on this site, in the characters a URL may hold as they are (RFC 3986): one
# leading "/" (never "//", which names another host), no backslash (browsers read it
# as "/"), no space or control character (a line break would end the Location
# header), nothing a parser would strip or rewrite, so what is checked is what is sent.
LOCAL_PATH = re.compile(r"/(?!/)[A-Za-z0-9\-._~!$&'()*+,;=:@%/?#]*")
NEXT_MAX_LENGTH = 2000


def is_local_path(target):
    return len(target) <= NEXT_MAX_LENGTH and bool(LOCAL_PATH.fullmatch(target))


def safe_next(default):
    """The `next` parameter when it is a local path, else `default`: never redirect
    to another site, and never send a header made of anything else."""
    target = request.values.get("next") or ""
    return target if is_local_path(target) else default


def client_ip():
    return request.remote_addr


def client_network():
    """The client's address as sign-in pauses count it: an IPv6 client owns a whole
    /64, so all of it counts as one address."""
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:45]
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
