"""Many open status panels at once, on loopback: how many one core holds.

Starts the portal as `make run` does (bench/speed.py), adds PANELS residents with a
request under review each (bench/crowd.py) and signs each of them in over HTTP, then
opens PANELS panels, each resident's own on her own request with her own session,
that each poll like an open panel right after a change (every 10 s, the shortest
interval; the back-off only lowers the load), for SECONDS.
As a browser does, a panel reuses its connection while the server keeps it open and
closes its side when the server says it closes; the Procfile's sync workers close
after every answer, so each poll comes on a new connection. Reports polls served per second, p50/p95/p99
latency, errors, the server's CPU (its processes' user + system time from /proc)
and from them the open panels one core holds at this interval and at the steady
60 s of the back-off.

    .venv/bin/python bench/panels.py [--panels 2000] [--seconds 120] [--engine sqlite|postgres]
"""
import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import crowd  # noqa: E402  (bench/crowd.py: the residents, signed in)
import speed  # noqa: E402  (bench/speed.py: starting the portal)


def cpu_seconds(pid):
    """User + system CPU seconds of a process and its children (gunicorn's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for child in [pid, *children(pid)]:
        try:
            with open(f"/proc/{child}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / ticks


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as file:
                    if int(file.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                pass
    return found


async def panel(port, path, headers, interval, until, latencies, errors):
    await asyncio.sleep(random.uniform(0, interval))  # panels were opened at different moments
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
               + "\r\n").encode()
    connection = None
    while time.monotonic() < until:
        start = time.monotonic()
        try:
            connection, status = await poll_once(port, request, connection)
            latencies.append(time.monotonic() - start)
            if status != 204:
                errors.append(status)
        except (OSError, asyncio.IncompleteReadError) as error:
            errors.append(repr(error))
            connection = None
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - start)))
    if connection:
        connection[1].close()


async def poll_once(port, request, connection):
    """One poll, as a browser sends it: on the kept-alive connection if the server
    keeps it (gunicorn closes idle ones after its keep-alive), else on a new one."""
    for attempt in (1, 2):
        if connection is None:
            connection = await asyncio.open_connection("127.0.0.1", port)
        reader, writer = connection
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
        except (OSError, asyncio.IncompleteReadError):
            writer.close()
            connection = None
            if attempt == 2:
                raise
            continue
        length = re.search(rb"(?i)content-length: (\d+)", head)
        if length:
            await reader.readexactly(int(length.group(1)))
        if re.search(rb"(?i)\r\nconnection: close\r\n", head):  # a browser closes its side at once
            writer.close()  # (gunicorn's sync workers wait up to 2 s for it)
            connection = None
        return connection, int(head.split(b" ", 2)[1])


async def load(port, panels, seconds, interval):
    latencies, errors = [], []
    until = time.monotonic() + seconds
    await asyncio.gather(*(panel(port, path, headers, interval, until, latencies, errors) for path, headers in panels))
    return latencies, errors


def open_panels(people):
    """Each resident's panel on her request under review: (path, headers), with the
    version it shows (in Arabic: the panels ask for no language)."""
    return [(f"/requests/{filed.number}/status",
             [("Cookie", resident.cookie), ("HX-Request", "true"), ("X-Shown-Version", f"{filed.version}-ar")])
            for resident in people for filed in resident.requests]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--panels", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--interval", type=float, default=10)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    url = ("sqlite:///" + os.path.join(tempfile.mkdtemp(), "panels.sqlite") if args.engine == "sqlite"
           else speed.postgres_url())
    env = dict(os.environ, DATABASE_URL=url, FLASK_SECRET_KEY=speed.secrets.token_urlsafe(48),
               FLASK_RATELIMIT_ENABLED="false")
    speed.subprocess.run([os.path.join(speed.ROOT, ".venv", "bin", "flask"), "--app", "app", "init-db", "--demo"],
                         cwd=speed.ROOT, env=env, check=True, capture_output=True)
    people, _ = crowd.populate(url, residents=args.panels, per_resident=1, officers=0)
    port = speed.free_port()
    server = speed.start("app:create_app()", port, env, speed.procfile_gunicorn())
    try:
        began = time.monotonic()
        crowd.sign_in_all(f"http://127.0.0.1:{port}", people)
        print(f"{len(people)} residents signed in in {time.monotonic() - began:.0f} s", flush=True)
        cpu_before, wall = cpu_seconds(server.pid), time.monotonic()
        latencies, errors = asyncio.run(load(port, open_panels(people), args.seconds, args.interval))
        cpu, wall = cpu_seconds(server.pid) - cpu_before, time.monotonic() - wall
    finally:
        server.terminate()
        server.wait()
        if args.engine == "postgres":
            speed.drop_schema(url)
    report(args, latencies, errors, cpu, wall)


def report(args, latencies, errors, cpu, wall):
    latencies.sort()
    rate = len(latencies) / wall
    cores_busy = cpu / wall
    per_core = args.panels / cores_busy if cores_busy else float("inf")

    def pick(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"{args.panels} open panels polling every {args.interval:g} s for {wall:.0f} s ({args.engine}, "
          f"gunicorn {' '.join(speed.procfile_gunicorn())}):")
    print(f"  polls served   {len(latencies):,} ({rate:,.0f}/s)")
    print(f"  latency ms     p50 {pick(0.5):.1f}  p95 {pick(0.95):.1f}  p99 {pick(0.99):.1f}  "
          f"(mean {statistics.mean(latencies) * 1000:.1f})")
    print(f"  errors         {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(f"  server CPU     {cpu:.1f} s = {cores_busy:.2f} cores busy")
    print(f"  one core holds {per_core:,.0f} panels polling every {args.interval:g} s, "
          f"{per_core * 60 / args.interval:,.0f} at the back-off's 60 s")


if __name__ == "__main__":
    main()
