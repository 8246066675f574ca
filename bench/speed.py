"""`make bench`: the portal's speed over HTTP, as a ratio to what a bare Flask app
gets from the same server on the same machine in the same run.

For each engine (SQLite, and PostgreSQL when it answers on 127.0.0.1:5432) it
starts the portal exactly as `make run` does (the Procfile's gunicorn line, on a
fresh database with the demo data), signs the demo resident and an officer in, and
then alternates wrk runs (8 connections) of:

    hello        a bare Flask "hello" under the same gunicorn flags
    hello-sync   the same hello under plain sync workers, as many (with the Procfile's
                 own sync workers the two are alike; --flags with threads tells them apart)
    poll         the status panel's poll when nothing changed (204)
    poll-changed the same poll when the panel changed (the fragment)
    page         the request page (kept once rendered, per version: web/rendered.py)
    page-render  the same page from a second portal that keeps no rendered page
                 (RENDERED_CACHE_SIZE=0), so each view renders it, as the first view
                 after a change does
    my-requests  My requests
    queue        the officers' queue
    performance  the published figures (/performance) as a returning visitor reads
                 them (the figures and their rendering kept ten minutes per worker)
    performance-first  the same for a first visit, without a cookie: the page's
                 CSRF token (the language switch) starts a session, a database write

The ceiling of each alternation is the faster hello. It prints req/s, latency
percentiles and each ratio to the ceiling: the median of 3 alternations (5 when a
goal is within 10% either way). With --readme the table is written into README.md.

    .venv/bin/python bench/speed.py [--seconds 5] [--engines sqlite postgres] [--readme]
"""
import argparse
import http.cookiejar
import os
import re
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import pyotp  # noqa: E402

from cli.demo import DEMO_PASSWORD, DEMO_TOTP_SECRETS  # noqa: E402
from models.clock import utcnow  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
GOALS = {"poll": 0.5, "page": 0.15}
TARGETS = ["hello", "hello-sync", "poll", "poll-changed", "page", "page-render", "my-requests", "queue",
           "performance", "performance-first"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_gunicorn():
    """The gunicorn arguments of the Procfile's web line, as `make run` starts them."""
    with open(os.path.join(ROOT, "Procfile"), encoding="utf-8") as file:
        line = next(line for line in file if line.startswith("web:"))
    words = shlex.split(line.split(":", 1)[1])
    return words[1:words.index("--bind")] + words[words.index("--bind") + 2:-1]


def start(app_spec, port, env, flags):
    command = [os.path.join(ROOT, ".venv", "bin", "gunicorn"), *flags, "--bind", f"127.0.0.1:{port}", app_spec]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz" if "create_app" in app_spec
                                   else f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{app_spec} did not start on port {port}")


class Browser:
    """Just enough of a browser to sign in: cookies and the CSRF token."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path):
        return self.opener.open(self.base + path).read().decode()

    def post_form(self, path, page, **fields):
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(dict(fields, csrf_token=token)).encode()
        return self.opener.open(self.base + path, data).read().decode()

    def sign_in(self, username, password):
        page = self.post_form("/auth/login", self.get("/auth/login"), username=username, password=password)
        if username in DEMO_TOTP_SECRETS:
            self.post_form("/auth/login/code", page, code=pyotp.TOTP(DEMO_TOTP_SECRETS[username]).now())
        return self

    def cookie(self):
        return next(f"{c.name}={c.value}" for c in self.jar if c.name == "session")


def portal_targets(base):
    """The URL and headers of each portal target, with the demo resident's request
    under review (its panel polls) and its current panel version."""
    resident = Browser(base).sign_in("demo", DEMO_PASSWORD)
    listing = resident.get("/requests/")
    numbers = re.findall(r'href="/requests/(\d{9})"', listing)
    for number in numbers:
        page = resident.get(f"/requests/{number}")
        version = re.search(r'"X-Shown-Version": "([^"]+)"', page)
        if version:
            break
    officer = Browser(base).sign_in("noura", DEMO_PASSWORD)
    cookie, staff = [("Cookie", resident.cookie())], [("Cookie", officer.cookie())]
    reader = Browser(base)
    reader.get("/performance")
    poll = [*cookie, ("HX-Request", "true")]
    return {"poll": (f"{base}/requests/{number}/status", [*poll, ("X-Shown-Version", version.group(1))]),
            "poll-changed": (f"{base}/requests/{number}/status", [*poll, ("X-Shown-Version", "0-ar")]),
            "page": (f"{base}/requests/{number}", cookie),
            "my-requests": (f"{base}/requests/", cookie),
            "queue": (f"{base}/staff/", staff),
            "performance": (f"{base}/performance", [("Cookie", reader.cookie())]),
            "performance-first": (f"{base}/performance", [])}


def wrk(url, headers, seconds):
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", url]
    for name, value in headers:
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: to_ms(re.search(rf"^\s+{p}%\s+(\S+)", out, re.M).group(1)) for p in ("50", "90", "99")}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, latency, int(errors.group(1)) if errors else 0


def to_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def run_engine(engine, database_url, seconds, flags, targets):
    env = dict(os.environ, DATABASE_URL=database_url, FLASK_SECRET_KEY=secrets.token_urlsafe(48),
               FLASK_RATELIMIT_ENABLED="false")
    subprocess.run([os.path.join(ROOT, ".venv", "bin", "flask"), "--app", "app", "init-db", "--demo"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    sync_flags = ["--workers", flags[flags.index("--workers") + 1], "--worker-class", "sync"]
    ports = {"portal": free_port(), "rendering": free_port(), "hello": free_port(), "hello-sync": free_port()}
    bench_env = dict(env, PYTHONPATH=os.path.join(ROOT, "bench"))
    processes = [start("app:create_app()", ports["portal"], env, flags),
                 start("app:create_app()", ports["rendering"], dict(env, FLASK_RENDERED_CACHE_SIZE="0"), flags),
                 start("hello:app", ports["hello"], bench_env, flags),
                 start("hello:app", ports["hello-sync"], bench_env, sync_flags)]
    try:
        urls = portal_targets(f"http://127.0.0.1:{ports['portal']}")
        page, cookie = urls["page"]
        urls["page-render"] = (page.replace(f":{ports['portal']}/", f":{ports['rendering']}/"), cookie)
        urls["hello"] = (f"http://127.0.0.1:{ports['hello']}/", [])
        urls["hello-sync"] = (f"http://127.0.0.1:{ports['hello-sync']}/", [])
        return alternate(urls, seconds, targets)
    finally:
        for process in processes:
            process.terminate()
            process.wait()


def alternate(urls, seconds, targets):
    rounds = []
    while len(rounds) < 3 or (len(rounds) < 5 and near_a_goal(rounds)):
        results = {target: wrk(*urls[target], seconds) for target in targets}
        ceiling = max(results["hello"][0], results["hello-sync"][0])
        rounds.append({target: (*result, result[0] / ceiling) for target, result in results.items()})
        print(f"  alternation {len(rounds)}: " + ", ".join(f"{t} {rounds[-1][t][3]:.3f}" for t in targets),
              flush=True)
    return rounds


def near_a_goal(rounds):
    return any(abs(statistics.median(r[target][3] for r in rounds) / goal - 1) < 0.1
               for target, goal in GOALS.items() if target in rounds[0])


def table(engine, rounds):
    lines = [f"| {engine} | req/s | p50 ms | p90 ms | p99 ms | errors | ÷ ceiling | goal |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for target in rounds[0]:
        rate = statistics.median(r[target][0] for r in rounds)
        latency = {p: statistics.median(r[target][1][p] for r in rounds) for p in ("50", "90", "99")}
        errors = sum(r[target][2] for r in rounds)
        ratio = statistics.median(r[target][3] for r in rounds)
        goal = f"≥ {GOALS[target]}" if target in GOALS else ""
        lines.append(f"| {target} | {rate:,.0f} | {latency['50']:.2f} | {latency['90']:.2f} | {latency['99']:.2f} "
                     f"| {errors} | {ratio:.3f} | {goal} |")
    return "\n".join(lines)


def postgres_url():
    try:
        import psycopg2
        connection = psycopg2.connect(PG_URL, connect_timeout=2)
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL here
        return None
    schema = f"tawasul_bench_{os.getpid()}"
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    connection.close()
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def write_readme(text):
    path = os.path.join(ROOT, "README.md")
    with open(path, encoding="utf-8") as file:
        readme = file.read()
    block = f"<!-- bench:start -->\n{text}\n<!-- bench:end -->"
    readme = re.sub(r"<!-- bench:start -->.*?<!-- bench:end -->", lambda _: block, readme, flags=re.S)
    with open(path, "w", encoding="utf-8") as file:
        file.write(readme)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="each wrk run")
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--readme", action="store_true", help="write the tables into README.md")
    parser.add_argument("--flags", help="gunicorn flags to try instead of the Procfile's, e.g. '--workers 3'")
    parser.add_argument("--targets", nargs="+", choices=TARGETS[2:], default=TARGETS[2:],
                        help="the portal's targets to run (both hellos always run)")
    args = parser.parse_args()
    flags = shlex.split(args.flags) if args.flags else procfile_gunicorn()
    if args.readme and (args.flags or args.targets != TARGETS[2:]):
        parser.error("--readme writes only a run of the Procfile's flags and every target")
    tables = [f"Measured {utcnow():%Y-%m-%d} on {os.cpu_count()} cores, gunicorn "
              f"{'as in the Procfile ' if not args.flags else ''}({' '.join(flags)}), "
              f"wrk -t2 -c8 -d{args.seconds}s; median of the alternations."]
    for engine in args.engines:
        if engine == "sqlite":
            url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.sqlite")
        else:
            url = postgres_url()
            if url is None:
                print("PostgreSQL is not reachable on 127.0.0.1:5432: skipped")
                continue
        print(f"{engine}:", flush=True)
        targets = ["hello", "hello-sync", *args.targets]
        tables.append(table(engine, run_engine(engine, url, args.seconds, flags, targets)))
        print(tables[-1], flush=True)
    if args.readme:
        write_readme("\n\n".join(tables))


if __name__ == "__main__":
    main()
