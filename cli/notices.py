"""flask notices deliver: the worker that sends the outbox (models/notices.py) through
the SMS gateway chosen by SMS_GATEWAY: "log" (the default, for development: each
message is only noted in the log, by its key) or "http" (a JSON POST to SMS_GATEWAY_URL)."""
import http.client
import json
import logging
import urllib.error
import urllib.request
from collections import Counter

import click
from flask import current_app
from flask.cli import AppGroup

from cli.worker import run_until_stopped
from models import Notice, mask_mobile
from models.notices import BATCH, DELIVERED, FAILED, PENDING

notices = AppGroup("notices", help="SMS notices.")


class NotSent(Exception):
    """The gateway did not take the message; `permanent` when sending it again
    cannot help (the gateway refused the message itself)."""

    def __init__(self, error, permanent=False):
        super().__init__(error)
        self.permanent = permanent


def log_gateway(logger):
    """Says only which notice would have gone, to a masked mobile, and how long it is:
    an SMS's mobile and text (a sign-up code) never go into a log. The demo shows the
    messages themselves at /dev/outbox."""
    def send(notice):
        logger.info("SMS %s to %s (%s characters), not sent: SMS_GATEWAY is log",
                    notice.key, mask_mobile(notice.to), len(notice.text))
    return send


def http_gateway(url, token, timeout):
    """POST {"id", "to", "text"} as JSON with a Bearer token; any 2xx is delivered.
    A 4xx other than 408 and 429 is permanent; anything else (5xx, a timeout, no
    connection) is tried again later."""
    def send(notice):
        body = json.dumps({"id": notice.key, "to": notice.to, "text": notice.text}).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            detail = error.read(200).decode("utf-8", "replace")
            raise NotSent(f"HTTP {error.code}: {detail}".strip(),
                          permanent=400 <= error.code < 500 and error.code not in (408, 429)) from None
        except (OSError, ValueError, http.client.HTTPException) as error:  # refused, timed out, garbled
            raise NotSent(f"{type(error).__name__}: {error}") from None
    return send


def gateway_from(config, logger):
    if config["SMS_GATEWAY"] == "log":
        return log_gateway(logger)
    if config["SMS_GATEWAY"] == "http":
        if not config["SMS_GATEWAY_URL"]:
            raise click.ClickException("SMS_GATEWAY is http: set FLASK_SMS_GATEWAY_URL (and FLASK_SMS_GATEWAY_TOKEN).")
        return http_gateway(config["SMS_GATEWAY_URL"], config["SMS_GATEWAY_TOKEN"] or "",
                            float(config["SMS_GATEWAY_TIMEOUT"]))
    raise click.ClickException(f"Unknown SMS_GATEWAY {config['SMS_GATEWAY']!r}: use log or http.")


def deliver_due(send, batch=BATCH, stopping=()):
    """Claim and send due notices, a batch at a time, until none is left (or
    `stopping` becomes true): {status: how many}, where a notice still pending will
    be tried again."""
    counts = Counter()
    while not stopping and (due := Notice.claim_due(batch)):
        for notice in due:
            try:
                send(notice)
            except NotSent as error:
                counts[notice.not_delivered(str(error), error.permanent)] += 1
            else:
                counts[notice.delivered()] += 1
    return counts


@notices.command("deliver")
@click.option("--once", is_flag=True, help="Send what is due now, then stop.")
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="Seconds between looks at the outbox.")
def deliver(once, interval):
    """Send the outbox's due SMS notices, again and again (or --once). One worker
    is enough; on PostgreSQL several may run at once (models/notices.py)."""
    logger = current_app.logger
    logger.setLevel(logging.INFO)
    send = gateway_from(current_app.config, logger)
    if once:
        counts = deliver_due(send)
        click.echo(f"{counts[DELIVERED]} delivered, {counts[PENDING]} to retry, {counts[FAILED]} failed.")
        return
    if current_app.config["SMS_GATEWAY"] == "log":
        logger.warning("SMS_GATEWAY is log: messages are noted here, not sent.")

    def one_pass(stopping):  # a stop finishes the batch under way
        counts = deliver_due(send, stopping=stopping)
        if counts:
            logger.info("%s delivered, %s to retry, %s failed", counts[DELIVERED], counts[PENDING], counts[FAILED])

    run_until_stopped(one_pass, interval, logger)
