"""Pages for development only: app.py registers this blueprint when DEMO is on
(FLASK_DEMO=1, as `make run` sets it); otherwise its addresses are 404."""
from flask import Blueprint, render_template

from models import Notice
from models.notices import NOTICE_STATUS_LABELS

bp = Blueprint("dev", __name__, template_folder="../../templates")


@bp.route("/outbox")
def outbox():
    """The latest SMS notices, newest first: in a demo nothing leaves the server, so
    a newcomer reads their sign-up code here."""
    return render_template("dev/outbox.html", notices=list(Notice.latest()), labels=NOTICE_STATUS_LABELS)
