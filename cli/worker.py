"""The loop of the long-running commands (`flask notices deliver`, `flask staff
watch`): a pass every few seconds until SIGTERM or SIGINT, which finish the pass
under way; a database that restarts is waited for, never fatal."""
import signal
import time

from peewee import DatabaseError, InterfaceError

from models import db


def run_until_stopped(one_pass, interval, logger):
    """Call `one_pass(stopping)` every `interval` seconds; `stopping` becomes true
    (a non-empty list) when a stop is asked, so a long pass can end early."""
    stopping = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.append(True))
    while not stopping:
        try:
            db.connect(reuse_if_open=True)
            one_pass(stopping)
        except (DatabaseError, InterfaceError) as error:  # the database restarts: wait and go on
            logger.warning("the database: %s", error)
            db.close()
        waited = 0.0
        while not stopping and waited < interval:  # a stop is heard within a second
            time.sleep(min(1.0, interval - waited))
            waited += 1.0
    db.close()
