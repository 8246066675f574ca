"""The ceiling `make bench` measures against: a bare Flask app that answers "hello",
served by the same gunicorn as the portal."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
