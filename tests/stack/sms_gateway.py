"""A recording SMS gateway for the stack (deploy/stack.py): it takes what the http
gateway of cli/notices.py posts (JSON {"id", "to", "text"} with a Bearer token),
appends each message to a JSON-lines file, and lists them all at GET /messages, so
the stack test can see every SMS that was sent, and how many times.

    python tests/stack/sms_gateway.py PORT TOKEN FILE
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, TOKEN, FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()


class Gateway(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"error": "bad token"})
        try:
            message = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            record = {key: message[key] for key in ("id", "to", "text")}
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"error": "expected JSON with id, to and text"})
        with lock, open(FILE, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.answer(200, {"accepted": record["id"]})

    def do_GET(self):
        if self.path != "/messages":
            return self.answer(404, {"error": "not found"})
        with lock:
            try:
                with open(FILE, encoding="utf-8") as records:
                    messages = [json.loads(line) for line in records]
            except FileNotFoundError:
                messages = []
        self.answer(200, messages)

    def answer(self, status, body):
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Gateway).serve_forever()
