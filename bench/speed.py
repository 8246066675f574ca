"""`make bench`: the portal's speed over HTTP as users meet it, as a ratio to what a
bare Flask app gets from the same server on the same machine in the same run.

For each engine (SQLite, and PostgreSQL when it answers on 127.0.0.1:5432) it
starts the portal exactly as `make run` does (the Procfile's gunicorn line, on a
fresh database with the demo data), adds the bench's crowd (bench/crowd.py: 200
residents with 3 requests each, under review, received and decided, and 4 officers
who hold the undecided ones, 100 each), signs each of them in over HTTP, and then
alternates wrk runs (8 connections) of:

    hello        a bare Flask "hello" under the same gunicorn flags
    hello-sync   the same hello under plain sync workers, as many (with the Procfile's
                 own sync workers the two are alike; --flags with threads tells them apart)
    poll         a status panel's poll when nothing changed (204), each undecided
                 request of each resident in turn, with its own session and version
    poll-changed the same polls when the panel changed (the fragment)
    page         the request pages, each resident's in turn: a worker renders a page
                 the first time it sees it, then keeps it (web/rendered.py); the
                 `kept` column is the share of views answered from the kept page
    page-render  the same pages from a second portal that keeps none
                 (RENDERED_CACHE_SIZE=0), so each view renders, as the first view
                 after a change does
    my-requests  My requests, each resident's in turn
    queue        the officers' queue (Assigned to me, 50 rows), each officer's in turn
    performance  the published figures (/performance) as a returning visitor reads
                 them (the figures and their rendering kept ten minutes per worker)
    performance-first  the same for a first visit, without a cookie: the page's
                 CSRF token (the language switch) starts a session, a database write

bench/rotate.lua takes the entries in turn and counts as an error every answer that
is not the expected one: a 204 for the unchanged poll; else a 200 that holds the
page's own marker (its panel, queue or figures; the request's number, the resident's
own row, the officer's first row). A redirect to the sign-in page is an error, as is
a socket error. The portal says whether each request page was kept or rendered in a
Server-Timing header (FLASK_SERVER_TIMING=1, set here only).

The ceiling of each alternation is the faster hello. It prints req/s, latency
percentiles, errors and each ratio to the ceiling: the median of 3 alternations (5
when a goal is within 10% either way) and the lowest, against the goals of issue 16
(GOALS; the unchanged poll's in every alternation, so against its lowest). With
--readme the table is written into README.md.

    .venv/bin/python bench/speed.py [--seconds 5] [--engines sqlite postgres] [--residents 200] [--readme]
"""
import argparse
import json
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
import urllib.request
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from crowd import Browser, populate, sign_in_all  # noqa: E402

from models.clock import utcnow  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ENGINES = ("sqlite", "postgres")
GOALS = {  # issue 16: the ratio to the ceiling each target must reach, on (SQLite, PostgreSQL)
    "poll": (0.9, 0.7),  # in every alternation
    "poll-changed": (0.35, 0.30),
    "page-render": (0.30, 0.25),  # the request page rendered at each view
    "my-requests": (0.30, 0.25),
    "queue": (0.12, 0.10),  # 50 rows
    "performance": (0.5, 0.5),
    "performance-first": (0.5, 0.5),
}
IN_EVERY_ALTERNATION = {"poll"}
TARGETS = ["hello", "hello-sync", "poll", "poll-changed", "page", "page-render", "my-requests", "queue",
           "performance", "performance-first"]
KEPT_PAGES = {"page", "page-render"}  # the targets whose pages say kept or rendered (Server-Timing)
QUEUE_ROWS = 50  # the queue's page (blueprints/staff/routes.PAGE_SIZE)
PROFILED_AS = {  # a target whose goal is not met, and the view bench/profile_views.py profiles for it
    "poll": "poll", "poll-changed": "poll-changed", "page-render": "page", "my-requests": "my-requests",
    "queue": "queue", "performance": "performance", "performance-first": "performance",
}


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


PANEL = 'id="status-panel"'  # only the request page and its panel have it
QUEUE = 'id="queue"'
FIGURES = 'id="perf-'  # the figures' tables on /performance


@dataclass
class Target:
    """What wrk asks for, in turn (bench/rotate.lua), and what counts as the right
    answer: `status`, the page's own `marker`, and each entry's own marker."""
    base: str
    entries: list  # [(path, [(header, value)], the entry's own marker or None)]
    status: int = 200
    marker: str = None


def portal_targets(base, rendering, residents, officers):
    """Each portal target over the bench's residents (their own sessions, requests and
    panel versions) and officers (their own queues)."""
    polls = [(resident, filed) for resident in residents for filed in resident.requests if filed.undecided]

    def poll(changed):
        """Each open panel's poll, with the version it shows (or an older one: changed)."""
        return [(f"/requests/{filed.number}/status",
                 [("Cookie", resident.cookie), ("HX-Request", "true"),
                  ("X-Shown-Version", "0-ar" if changed else f"{filed.version}-ar")],  # wrk asks for no language
                 f"/requests/{filed.number}/status" if changed else None)  # the fragment polls on
                for resident, filed in polls]
    pages = [(f"/requests/{filed.number}", [("Cookie", resident.cookie)], filed.number)
             for resident in residents for filed in resident.requests]
    reader = Browser(base)
    reader.get("/performance")
    return {"poll": Target(base, poll(changed=False), 204),
            "poll-changed": Target(base, poll(changed=True), 200, PANEL),
            "page": Target(base, pages, 200, PANEL),
            "page-render": Target(rendering, pages, 200, PANEL),
            "my-requests": Target(base, [("/requests/", [("Cookie", resident.cookie)],
                                          f'<li id="req-{resident.requests[0].number}">') for resident in residents]),
            "queue": Target(base, [("/staff/", [("Cookie", officer.cookie)], first_row(base, officer))
                                   for officer in officers], 200, QUEUE),
            "performance": Target(base, [("/performance", [("Cookie", reader.cookie())], None)], 200, FIGURES),
            "performance-first": Target(base, [("/performance", [], None)], 200, FIGURES)}


def first_row(base, officer):
    """The marker of the first row of the officer's queue (Assigned to me), after
    checking it shows a full page."""
    page = urllib.request.urlopen(urllib.request.Request(base + "/staff/", headers={"Cookie": officer.cookie})).read()
    rows = re.findall(r'<tr id="req-(\d{9})"', page.decode())
    if len(rows) < QUEUE_ROWS:
        raise SystemExit(f"{officer.username}'s queue shows {len(rows)} rows, not {QUEUE_ROWS}: more residents")
    return f'<tr id="req-{rows[0]}"'


def lua_script(target, folder, name):
    """bench/rotate.lua with the target's entries before it."""
    entries = ",\n".join(lua_entry(*entry) for entry in target.entries)
    path = os.path.join(folder, f"{name}.lua")
    with open(os.path.join(ROOT, "bench", "rotate.lua"), encoding="utf-8") as file:
        code = file.read()
    with open(path, "w", encoding="utf-8") as file:
        file.write(f"entries = {{\n{entries}\n}}\nexpected = {target.status}\n"
                   f"marker = {lua_text(target.marker)}\n\n{code}")
    return path


def lua_entry(path, headers, marker):
    fields = ", ".join(f"[{lua_text(name)}] = {lua_text(value)}" for name, value in headers)
    return f"{{{lua_text(path)}, {{{fields}}}, {lua_text(marker)}}}"


def lua_text(value):
    """A Lua string (a JSON string of ASCII is one), or nil."""
    if value is None:
        return "nil"
    if not value.isascii():
        raise ValueError(f"not ASCII: {value!r}")
    return json.dumps(value)


def wrk(target, script, seconds):
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", script, target.base + "/"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: to_ms(re.search(rf"^\s+{p}%\s+(\S+)", out, re.M).group(1)) for p in ("50", "90", "99")}
    counted = re.search(r"^bench: good (\d+) bad (\d+) kept (\d+) rendered (\d+)$", out, re.M)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(counted.group(2)) + (sum(map(int, sockets.groups())) if sockets else 0)
    return dict(rate=rate, latency=latency, errors=errors, kept=int(counted.group(3)),
                rendered=int(counted.group(4)))


def to_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def run_engine(engine, database_url, seconds, flags, targets, residents):
    env = dict(os.environ, DATABASE_URL=database_url, FLASK_SECRET_KEY=secrets.token_urlsafe(48),
               FLASK_RATELIMIT_ENABLED="false", FLASK_SERVER_TIMING="1")
    subprocess.run([os.path.join(ROOT, ".venv", "bin", "flask"), "--app", "app", "init-db", "--demo"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    people, officers = populate(database_url, residents=residents)
    sync_flags = ["--workers", flags[flags.index("--workers") + 1], "--worker-class", "sync"]
    ports = {"portal": free_port(), "rendering": free_port(), "hello": free_port(), "hello-sync": free_port()}
    bench_env = dict(env, PYTHONPATH=os.path.join(ROOT, "bench"))
    processes = [start("app:create_app()", ports["portal"], env, flags),
                 start("app:create_app()", ports["rendering"], dict(env, FLASK_RENDERED_CACHE_SIZE="0"), flags),
                 start("hello:app", ports["hello"], bench_env, flags),
                 start("hello:app", ports["hello-sync"], bench_env, sync_flags)]
    try:
        base, rendering = (f"http://127.0.0.1:{ports[name]}" for name in ("portal", "rendering"))
        began = time.monotonic()
        sign_in_all(base, people + officers)
        print(f"  {len(people)} residents and {len(officers)} officers signed in in "
              f"{time.monotonic() - began:.0f} s", flush=True)
        runs = portal_targets(base, rendering, people, officers)
        for name in ("hello", "hello-sync"):
            runs[name] = Target(f"http://127.0.0.1:{ports[name]}", [("/", [], None)], 200, "hello")
        with tempfile.TemporaryDirectory() as folder:
            scripts = {name: lua_script(runs[name], folder, name) for name in targets}
            return alternate(runs, scripts, seconds, targets, engine)
    finally:
        for process in processes:
            process.terminate()
            process.wait()


def alternate(runs, scripts, seconds, targets, engine):
    rounds = []
    while len(rounds) < 3 or (len(rounds) < 5 and near_a_goal(rounds, engine)):
        results = {target: wrk(runs[target], scripts[target], seconds) for target in targets}
        ceiling = max(results["hello"]["rate"], results["hello-sync"]["rate"])
        for result in results.values():
            result["ratio"] = result["rate"] / ceiling
        rounds.append(results)
        print(f"  alternation {len(rounds)}: " + ", ".join(
            f"{t} {results[t]['ratio']:.3f}" + (f" ({results[t]['errors']} errors)" if results[t]["errors"] else "")
            for t in targets), flush=True)
    return rounds


def goal_of(target, engine):
    return GOALS[target][ENGINES.index(engine)] if target in GOALS else None


def measured(rounds, target):
    """The figure a goal is held against: the median of the alternations, or for a
    goal in every alternation the lowest."""
    ratios = [r[target]["ratio"] for r in rounds]
    return min(ratios) if target in IN_EVERY_ALTERNATION else statistics.median(ratios)


def near_a_goal(rounds, engine):
    return any(abs(measured(rounds, target) / goal_of(target, engine) - 1) < 0.1
               for target in GOALS if target in rounds[0])


def unmet(rounds, engine):
    """The views (bench/profile_views.py's names) whose targets missed their goal."""
    return sorted({PROFILED_AS[target] for target in GOALS
                   if target in rounds[0] and measured(rounds, target) < goal_of(target, engine)})


def profile_unmet(engine, views):
    """Where the time goes in each view that missed its goal: bench/profile_views.py's
    cProfile of it, rendered each time, in one process beside a bare Flask app."""
    print(f"\n== {engine}: where the time goes in {', '.join(views)} (goals not met)", flush=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "profile_views.py"), "--engines", engine,
                    "--views", *views, "--repeat", "100", "--profile", "--top", "15"], cwd=ROOT, check=True)


def kept_share(rounds, target):
    if target not in KEPT_PAGES:
        return ""
    kept, rendered = (sum(r[target][key] for r in rounds) for key in ("kept", "rendered"))
    return f"{kept / (kept + rendered):.0%}" if kept + rendered else "–"


def table(engine, rounds):
    lines = [f"| {engine} | req/s | p50 ms | p90 ms | p99 ms | errors | kept | ÷ ceiling | lowest | goal | |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for target in rounds[0]:
        rate = statistics.median(r[target]["rate"] for r in rounds)
        latency = {p: statistics.median(r[target]["latency"][p] for r in rounds) for p in ("50", "90", "99")}
        errors = sum(r[target]["errors"] for r in rounds)
        ratios = [r[target]["ratio"] for r in rounds]
        goal, verdict = goal_of(target, engine), ""
        if goal is not None:
            verdict = "met" if measured(rounds, target) >= goal else "**not met**"
        goal_text = "" if goal is None else f"≥ {goal:.2f}" + (" each" if target in IN_EVERY_ALTERNATION else "")
        lines.append(f"| {target} | {rate:,.0f} | {latency['50']:.2f} | {latency['90']:.2f} | {latency['99']:.2f} "
                     f"| {errors} | {kept_share(rounds, target)} | {statistics.median(ratios):.3f} "
                     f"| {min(ratios):.3f} | {goal_text} | {verdict} |")
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


def drop_schema(url):
    """The bench's PostgreSQL schema (postgres_url) dropped once its run is over."""
    import psycopg2
    schema = re.search(r"search_path%3D(\w+)", url).group(1)
    connection = psycopg2.connect(PG_URL, connect_timeout=2)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    connection.close()


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
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--residents", type=int, default=200, help="the bench's residents (3 requests each)")
    parser.add_argument("--readme", action="store_true", help="write the tables into README.md")
    parser.add_argument("--flags", help="gunicorn flags to try instead of the Procfile's, e.g. '--workers 3'")
    parser.add_argument("--targets", nargs="+", choices=TARGETS[2:], default=TARGETS[2:],
                        help="the portal's targets to run (both hellos always run)")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile of the views that missed a goal")
    args = parser.parse_args()
    missed = {}
    flags = shlex.split(args.flags) if args.flags else procfile_gunicorn()
    if args.readme and (args.flags or args.targets != TARGETS[2:] or args.residents != 200):
        parser.error("--readme writes only a run of the Procfile's flags, every target and 200 residents")
    tables = [f"Measured {utcnow():%Y-%m-%d} on {os.cpu_count()} cores, gunicorn "
              f"{'as in the Procfile ' if not args.flags else ''}({' '.join(flags)}), "
              f"wrk -t2 -c8 -d{args.seconds}s; {args.residents} residents with 3 requests each and 4 officers "
              f"with 100 each, every one signed in; median and lowest of the alternations; goals of issue 16."]
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
        try:
            rounds = run_engine(engine, url, args.seconds, flags, targets, args.residents)
        finally:
            if engine == "postgres":
                drop_schema(url)
        tables.append(table(engine, rounds))
        print(tables[-1], flush=True)
        missed[engine] = unmet(rounds, engine)
    if args.readme:
        write_readme("\n\n".join(tables))
    for engine, views in missed.items():
        if views and not args.no_profile:
            profile_unmet(engine, views)


if __name__ == "__main__":
    main()
