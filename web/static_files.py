"""Static files, served from memory: fingerprinted URLs (`?v=<hash>`) cached for a
year, and brotli / gzip bodies compressed once at start-up at the highest level."""
import functools
import gzip
import hashlib
import mimetypes
import os

import brotli
from flask import Response, abort, current_app, request

IMMUTABLE = "public, max-age=31536000, immutable"


class StaticFile:
    def __init__(self, path):
        with open(path, "rb") as handle:
            self.raw = handle.read()
        self.version = hashlib.sha256(self.raw).hexdigest()[:12]
        self.mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        self.bodies = {"br": brotli.compress(self.raw, quality=11),
                       "gzip": gzip.compress(self.raw, compresslevel=9, mtime=0)}

    def response(self, accepted, version):
        encoding = next((e for e in ("br", "gzip") if e in accepted), None)
        body = self.bodies[encoding] if encoding else self.raw
        if encoding and len(body) >= len(self.raw):
            encoding, body = None, self.raw
        response = Response(body, mimetype=self.mimetype)
        if encoding:
            response.headers["Content-Encoding"] = encoding
        response.vary.add("Accept-Encoding")
        response.set_etag(f"{self.version}-{encoding or 'identity'}")
        response.cache_control.no_cache = None
        response.headers["Cache-Control"] = IMMUTABLE if version == self.version else "no-cache"
        return response.make_conditional(request)


@functools.cache
def static_file(path, mtime_ns, size):
    """Compressing at brotli 11 is slow: once per process for each version of a file."""
    return StaticFile(path)


def load(folder):
    files = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            stat = os.stat(path)
            name = os.path.relpath(path, folder).replace(os.sep, "/")
            files[name] = static_file(path, stat.st_mtime_ns, stat.st_size)
    return files


def init_app(app):
    app.extensions["static_files"] = load(os.path.join(app.root_path, "static"))
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=serve)
    app.url_defaults(add_version)


def serve(filename):
    static = current_app.extensions["static_files"].get(filename)
    if static is None:
        abort(404)
    return static.response(request.headers.get("Accept-Encoding", ""), request.args.get("v"))


def add_version(endpoint, values):
    if endpoint == "static" and "v" not in values:
        static = current_app.extensions["static_files"].get(values.get("filename"))
        if static:
            values["v"] = static.version
