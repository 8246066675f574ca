"""How big a backup is and how long `flask db backup` and `flask db restore` take:
the demo data, then N requests (bench/staff_queue.py's bulk fill, no documents), on
SQLite and on PostgreSQL. Each restore goes into a new empty database, as onto a new
server. Prints a Markdown table (README's "Backups").

    .venv/bin/python bench/backup.py [--rows 100000] [--engine sqlite|postgres|both]
                                     [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

SQLite files and the backups go to a temporary folder, removed at the end; PostgreSQL
uses the databases tawasul_bench_backup_source and _target, dropped at the end.
"""
import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import create_app  # noqa: E402
from bench.staff_queue import fill  # noqa: E402
from cli.backups import backup, restore  # noqa: E402
from cli.demo import load_demo  # noqa: E402
from models import db, upgrade  # noqa: E402

PG_DATABASES = ("tawasul_bench_backup_source", "tawasul_bench_backup_target")


def make_app(url):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32)})


def recreate_postgres(admin_url, drop_only=False):
    import psycopg2
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        for name in PG_DATABASES:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            if not drop_only:
                cursor.execute(f"CREATE DATABASE {name}")
    connection.close()
    return [admin_url.rsplit("/", 1)[0] + "/" + name for name in PG_DATABASES]


def measure(engine, data, rows, folder, pg_url):
    """One row of the table: fill a new source, back it up, restore it into a new target."""
    if engine == "sqlite":
        source, target = (f"sqlite:///{os.path.join(folder, name)}.sqlite" for name in ("source", "target"))
        for name in ("source", "target"):
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(os.path.join(folder, name + ".sqlite" + suffix)):
                    os.remove(os.path.join(folder, name + ".sqlite" + suffix))
    else:
        source, target = recreate_postgres(pg_url)
    started = time.perf_counter()
    with make_app(source).app_context():
        upgrade()
        load_demo() if data == "demo" else fill(rows)
        filled = time.perf_counter() - started
        made = backup(os.path.join(folder, f"{engine}-{data}.backup"))
        db.obj.close_all()
    with make_app(target).app_context():
        restored = restore(made.path)
        db.obj.close_all()
    os.remove(made.path)
    print(f"  ({engine}, {data}: filled in {filled:.0f} s)", file=sys.stderr, flush=True)
    return made, restored


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    folder = tempfile.mkdtemp(prefix="tawasul-bench-backup-")
    print("| engine | data | requests | documents | backup file | backup | restore (new database) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    try:
        for engine in engines:
            for data in ("demo", f"{args.rows:,} requests"):
                made, restored = measure(engine, "demo" if data == "demo" else "bulk", args.rows, folder,
                                                args.pg_url)
                print(f"| {'SQLite' if engine == 'sqlite' else 'PostgreSQL'} | {data} | {made.requests:,} | "
                      f"{made.documents:,} | {made.size / 1e6:.1f} MB | {made.seconds:.2f} s | "
                      f"{restored.seconds:.2f} s |", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if "postgres" in engines:
            recreate_postgres(args.pg_url, drop_only=True)


if __name__ == "__main__":
    main()
