"""The project reads the clock in one place (models/clock.py), so tests can move time
with time-machine and a date rule can be checked at any moment."""
import datetime as dt
import re
from pathlib import Path

from models import riyadh_date, riyadh_today, utcnow

ROOT = Path(__file__).resolve().parent.parent
READS_THE_CLOCK = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|time\.localtime)\(")


def application_sources():
    for folder in ("models", "blueprints", "web", "cli"):
        yield from (ROOT / folder).rglob("*.py")
    yield ROOT / "app.py"


def test_only_models_clock_reads_the_clock():
    readers = [str(path.relative_to(ROOT)) for path in application_sources()
               if READS_THE_CLOCK.search(path.read_text(encoding="utf-8"))]
    assert readers == ["models/clock.py"]


def test_today_in_riyadh_starts_at_21_utc(time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 31, 20, 59, tzinfo=dt.UTC), tick=False)
    assert riyadh_today() == dt.date(2026, 12, 31)
    time_machine.move_to(dt.datetime(2026, 12, 31, 21, 0, tzinfo=dt.UTC), tick=False)
    assert riyadh_today() == dt.date(2027, 1, 1)
    assert utcnow() == dt.datetime(2026, 12, 31, 21, 0) and utcnow().tzinfo is None


def test_riyadh_date_of_a_stored_moment():
    assert riyadh_date(dt.datetime(2028, 2, 28, 22, 30)) == dt.date(2028, 2, 29)
