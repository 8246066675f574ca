"""gunicorn's settings for Tawasul: `gunicorn -c deploy/gunicorn.conf.py --bind ... "app:create_app()"`
(the Procfile, and the production service). The address and the control socket
are given on the command line, so one file serves every way of running it.

Every worker is a process of its own, so the metrics (web/metrics.py) are counted
in files in PROMETHEUS_MULTIPROC_DIR, one set per worker, and a scrape sums them.
The directory defaults to instance/metrics; it is emptied when the server starts
(the counts of a previous run must not be added again), and the files of a worker
that exits are marked so its live values are dropped."""
import glob
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Set before the app (and prometheus_client) is imported: the client chooses its mode then.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(ROOT, "instance", "metrics"))

workers = int(os.environ.get("WEB_CONCURRENCY", 3))  # about cores + 1; the systemd unit sets it
worker_class = "sync"


def on_starting(server):
    """In the master, before any worker: an empty metrics directory."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        for stale in glob.glob(os.path.join(path, "*.db")):
            os.remove(stale)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)
