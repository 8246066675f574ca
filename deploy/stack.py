"""`make stack`: the whole multi-server deployment of deploy/ on this one machine, from
the same files a real one installs, so their command lines and settings are proven:

- nginx (Debian's, as a private instance under instance/stack/, never the system's
  configuration or port 80) with deploy/nginx/tawasul.conf and its locations, on
  https://127.0.0.1:8443 with a self-signed certificate;
- two app servers (deploy/systemd/tawasul-app@.service as tawasul-app@8101 and @8102),
  two SMS workers (tawasul-notices@1, @2) and the watcher: each unit's ExecStartPre and
  ExecStart lines run as systemd would run them (its EnvironmentFile, Environment,
  RuntimeDirectory and %i), in a process group of its own with a pid file;
- the environment file rendered from deploy/tawasul.env.example (every variable there,
  the stack's own values where it needs them);
- PostgreSQL's database `tawasul_stack` (made anew) and Redis databases 11 and 12
  (emptied) on the servers already running on 127.0.0.1; a recording SMS gateway
  (tests/stack/sms_gateway.py) for the http gateway.

The production files name real places (/srv/tawasul, /etc/tawasul, the app servers'
addresses ...); SITE maps each to its place here, and every one of them must be found,
so the files and the stack cannot drift apart. Besides tawasul.conf the stack's nginx
has two servers of its own, https://127.0.0.1:8444 and :8445, with the same locations
file but one app server each, so a test can reach a given server through the proxy.

    .venv/bin/python deploy/stack.py up      # (again: stops what runs first)
    .venv/bin/python deploy/stack.py down
    .venv/bin/python deploy/stack.py test    # up, tests/stack/test_stack.py, down

Without PostgreSQL or Redis on 127.0.0.1, `test` skips (as the suite's tests that need
them do), unless TAWASUL_REQUIRE_SERVICES=1 (.ci/run), where it fails.
"""
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
STACK = ROOT / "instance" / "stack"
RUN, LOG, NGINX = STACK / "run", STACK / "log", STACK / "nginx"

APP_PORTS = (8101, 8102)
PROXY_PORT, PINNED_PORTS, HTTP_PORT = 8443, (8444, 8445), 8480
GATEWAY_PORT = 8109
DATABASE = "tawasul_stack"
ADMIN_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_DBS = {"limits": 11, "sessions": 12}
GATEWAY_TOKEN = "stack-gateway-token"
WORKERS = 2  # gunicorn workers per app server: two of them and the rest share 2 cores here
NOTICE_WORKERS = ("1", "2")
READY_SECONDS = 60

# Each production place in deploy/ and its place in the stack.
SITE = {
    "/srv/tawasul/": f"{ROOT}/",
    "/srv/tawasul": str(ROOT),
    "/etc/tawasul/tawasul.env": str(STACK / "tawasul.env"),
    "/etc/tawasul/tls/": f"{STACK}/tls/",
    "/etc/nginx/snippets/": f"{NGINX}/",
    "/var/log/nginx/": f"{LOG}/",
    "/run/": f"{RUN}/",
    "10.0.0.11:8000": f"127.0.0.1:{APP_PORTS[0]}",
    "10.0.0.12:8000": f"127.0.0.1:{APP_PORTS[1]}",
    "listen 443 ssl": f"listen 127.0.0.1:{PROXY_PORT} ssl",
    "listen 80;": f"listen 127.0.0.1:{HTTP_PORT};",
    "--bind 0.0.0.0:": "--bind 127.0.0.1:",
}

ENV = {
    "FLASK_SECRET_KEY": None,  # instance/stack/secret_key, made once
    "DATABASE_URL": DATABASE_URL,
    "FLASK_RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:6379/{REDIS_DBS['limits']}",
    "FLASK_SESSION_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DBS['sessions']}",
    "FLASK_PUBLIC_URL": f"https://127.0.0.1:{PROXY_PORT}",
    "FLASK_SMS_GATEWAY_URL": f"http://127.0.0.1:{GATEWAY_PORT}/send",
    "FLASK_SMS_GATEWAY_TOKEN": GATEWAY_TOKEN,
    "FLASK_METRICS_ALLOW": "127.0.0.1/32",
    "WEB_CONCURRENCY": str(WORKERS),
}


def mapped(text, used):
    for production, local in SITE.items():
        if production in text:
            used.add(production)
            text = text.replace(production, local)
    return text


# ------------------------------------------------------------------ the files

def render_env():
    """deploy/tawasul.env.example with the stack's values: every variable the example
    sets, and only those."""
    key_file = STACK / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
    values = dict(ENV, FLASK_SECRET_KEY=key_file.read_text().strip())
    lines, seen = [], set()
    for line in (DEPLOY / "tawasul.env.example").read_text().splitlines():
        key = line.split("=", 1)[0]
        if not line.startswith("#") and "=" in line and key in values:
            line, _ = f"{key}={values[key]}", seen.add(key)
        lines.append(line)
    missing = set(values) - seen
    if missing:
        sys.exit(f"deploy/tawasul.env.example does not set {', '.join(sorted(missing))}")
    (STACK / "tawasul.env").write_text("\n".join(lines) + "\n")


def certificate():
    tls = STACK / "tls"
    tls.mkdir(exist_ok=True)
    if not (tls / "fullchain.pem").exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", tls / "privkey.pem", "-out", tls / "fullchain.pem"],
                       check=True, capture_output=True)


def render_nginx(used):
    """The site and its locations as deploy/ has them; the main nginx.conf (Debian's
    /etc/nginx/nginx.conf on a server) and the two pinned servers are the stack's."""
    NGINX.mkdir(exist_ok=True)
    site = mapped((DEPLOY / "nginx" / "tawasul.conf").read_text(), used)
    locations = mapped((DEPLOY / "nginx" / "tawasul-locations.conf").read_text(), used)
    (NGINX / "tawasul.conf").write_text(site)
    (NGINX / "tawasul-locations.conf").write_text(locations)
    pinned = []
    for name, app_port, port in zip("ab", APP_PORTS, PINNED_PORTS, strict=True):
        if "proxy_pass http://tawasul;" not in locations:
            sys.exit("tawasul-locations.conf no longer passes to the upstream `tawasul`")
        (NGINX / f"locations-{name}.conf").write_text(
            locations.replace("proxy_pass http://tawasul;", f"proxy_pass http://tawasul_{name};"))
        pinned.append(f"""
upstream tawasul_{name} {{ server 127.0.0.1:{app_port}; }}
server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {STACK}/tls/fullchain.pem;
    ssl_certificate_key {STACK}/tls/privkey.pem;
    access_log {LOG}/tawasul.access.log tawasul;
    include {NGINX}/locations-{name}.conf;
}}""")
    (NGINX / "pinned.conf").write_text("# The stack's own: one app server each.\n" + "\n".join(pinned) + "\n")
    user = "" if os.geteuid() else "user root;\n"  # its temporary files under instance/stack
    (NGINX / "nginx.conf").write_text(f"""{user}worker_processes 2;
pid {RUN}/nginx.pid;
error_log {LOG}/nginx.error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    server_tokens off;
    client_body_temp_path {STACK}/nginx-tmp/body;
    proxy_temp_path {STACK}/nginx-tmp/proxy;
    fastcgi_temp_path {STACK}/nginx-tmp/fastcgi;
    uwsgi_temp_path {STACK}/nginx-tmp/uwsgi;
    scgi_temp_path {STACK}/nginx-tmp/scgi;
    include {NGINX}/tawasul.conf;
    include {NGINX}/pinned.conf;
}}
""")
    (STACK / "nginx-tmp").mkdir(exist_ok=True)


# ------------------------------------------------------------------ systemd units

def unit(name, instance=""):
    """(environment, [pre-commands], command, working directory) of a unit file of
    deploy/systemd, as systemd would run it (%i is the instance)."""
    used = set()
    text = mapped((DEPLOY / "systemd" / name).read_text().replace("%i", instance), used)
    service = text.split("[Service]", 1)[1].split("\n[", 1)[0]
    settings = [line.split("=", 1) for line in service.splitlines() if "=" in line and not line.startswith("#")]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/")}
    pre, command, cwd = [], None, ROOT
    for key, value in settings:
        if key == "EnvironmentFile":
            env.update(read_env_file(value))
        elif key == "Environment":
            env.update(dict([value.split("=", 1)]))
        elif key == "RuntimeDirectory":
            for directory in value.split():  # made anew, as systemd does at each start
                shutil.rmtree(RUN / directory, ignore_errors=True)
                (RUN / directory).mkdir(parents=True)
        elif key == "WorkingDirectory":
            cwd = value
        elif key == "ExecStartPre":
            pre.append(shlex.split(value))
        elif key == "ExecStart":
            command = shlex.split(value)
    return env, pre, command, cwd


def read_env_file(path):
    pairs = (line.split("=", 1) for line in Path(path).read_text().splitlines()
             if "=" in line and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def start(label, command, env, cwd):
    """A process in a group of its own (its children too: gunicorn's workers), its pid
    in instance/stack/run/<label>.pid, its output in instance/stack/log/<label>.log."""
    with open(LOG / f"{label}.log", "ab") as log:  # the child keeps its own copy
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    (RUN / f"{label}.pid").write_text(str(process.pid))
    return process


def start_unit(name, instance=""):
    env, pre, command, cwd = unit(name, instance)
    label = name.replace("@.service", f"@{instance}").removesuffix(".service")
    for step in pre:
        with open(LOG / f"{label}.log", "ab") as log:
            subprocess.run(step, cwd=cwd, env=env, check=True, stdout=log, stderr=subprocess.STDOUT)
    return start(label, command, env, cwd)


# ------------------------------------------------------------------ services

def fresh_database():
    import psycopg2
    import redis
    admin = psycopg2.connect(ADMIN_DB)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    admin.close()
    for number in REDIS_DBS.values():  # only the stack's own
        redis.Redis(host="127.0.0.1", port=6379, db=number).flushdb()


def nginx(*args):
    binary = shutil.which("nginx") or "/usr/sbin/nginx"  # Debian's, outside a user's PATH
    return subprocess.run([binary, "-p", str(STACK), "-c", str(NGINX / "nginx.conf"), *args],
                          capture_output=True, text=True)


def wait_until_ready(url, what):
    context = ssl._create_unverified_context()
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as response:
                response.read()
                return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
            problem = error
        except OSError as error:
            problem = error
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not answer at {url} within {READY_SECONDS} s: {problem} "
                             f"(see {LOG})")
        time.sleep(0.3)


def up():
    down(quiet=True)
    for folder in (RUN, LOG):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    used = set()
    render_env()
    certificate()
    render_nginx(used)
    checked = nginx("-t")
    if checked.returncode:
        sys.exit(checked.stderr)
    fresh_database()
    (STACK / "sms.jsonl").unlink(missing_ok=True)
    start("sms-gateway", [sys.executable, str(ROOT / "tests" / "stack" / "sms_gateway.py"), str(GATEWAY_PORT),
                          GATEWAY_TOKEN, str(STACK / "sms.jsonl")], dict(os.environ), ROOT)
    units = [("tawasul-app@.service", str(port)) for port in APP_PORTS]
    units += [("tawasul-notices@.service", number) for number in NOTICE_WORKERS] + [("tawasul-watcher.service", "")]
    with ThreadPoolExecutor(len(units)) as pool:  # as systemd starts them: at once (migrations take turns)
        list(pool.map(lambda named: start_unit(*named), units))
    for name in ("tawasul-app@.service", "tawasul-notices@.service", "tawasul-watcher.service"):
        unit_used = set()
        mapped((DEPLOY / "systemd" / name).read_text(), unit_used)
        used |= unit_used
    unused = set(SITE) - used
    if unused:
        sys.exit(f"deploy/ no longer holds {', '.join(sorted(unused))}: update SITE in deploy/stack.py")
    started = nginx()
    if started.returncode:
        sys.exit(started.stderr)
    for port in APP_PORTS:
        wait_until_ready(f"http://127.0.0.1:{port}/auth/login", f"the app server on {port}")
    wait_until_ready(f"http://127.0.0.1:{GATEWAY_PORT}/messages", "the SMS gateway")
    for port in (PROXY_PORT, *PINNED_PORTS):
        wait_until_ready(f"https://127.0.0.1:{port}/auth/login", f"nginx on {port}")
    print(json.dumps(dict(proxy=f"https://127.0.0.1:{PROXY_PORT}", pinned=[f"https://127.0.0.1:{p}" for p in
                                                                              PINNED_PORTS],
                          apps=[f"http://127.0.0.1:{p}" for p in APP_PORTS], database=DATABASE_URL,
                          gateway=f"http://127.0.0.1:{GATEWAY_PORT}", logs=str(LOG))))


def down(quiet=False):
    """Stops every process of the pid files, each with its whole group (nginx too: it
    leads its own), gently first (SIGQUIT for nginx, SIGTERM for the rest)."""
    groups = []
    for pid_file in sorted(RUN.glob("*.pid")) if RUN.exists() else ():
        pid = int(pid_file.read_text().strip() or 0)
        if pid and alive(pid):
            signal_group(pid, signal.SIGQUIT if pid_file.name == "nginx.pid" else signal.SIGTERM)
            groups.append(pid)
        pid_file.unlink(missing_ok=True)
    deadline = time.monotonic() + 40
    while any(alive(pid) for pid in groups) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in groups:
        signal_group(pid, signal.SIGKILL)
    if not quiet:
        print(f"stopped {len(groups)} process groups")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (our own child) is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def signal_group(pid, signum):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def services_missing():
    """Which of PostgreSQL and Redis does not answer on 127.0.0.1."""
    missing = []
    for name, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        with socket.socket() as sock:
            sock.settimeout(1)
            if sock.connect_ex(("127.0.0.1", port)):
                missing.append(f"{name} (127.0.0.1:{port})")
    return missing


def test():
    missing = services_missing()
    if missing:
        message = f"the stack needs {' and '.join(missing)}"
        if os.environ.get("TAWASUL_REQUIRE_SERVICES") == "1":
            sys.exit(message)
        print(f"SKIPPED the stack test: {message}")
        return 0
    started = time.monotonic()
    try:
        up()
        status = subprocess.run([sys.executable, "-m", "pytest", "-o", "addopts=-ra -v", "-p", "no:xdist",
                                 "-p", "no:cacheprovider", str(ROOT / "tests" / "stack" / "test_stack.py")],
                                cwd=ROOT).returncode
    finally:
        down()
    print(f"the stack test took {time.monotonic() - started:.0f} s (up, tests, down)")
    return status


if __name__ == "__main__":
    STACK.mkdir(parents=True, exist_ok=True)
    actions = {"up": up, "down": down, "test": test}
    action = actions.get(sys.argv[1] if len(sys.argv) > 1 else "")
    if action is None:
        sys.exit(__doc__)
    sys.exit(action() or 0)
