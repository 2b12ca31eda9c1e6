import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest


class Unauthorized(BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), Unauthorized)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_login(server):
    httpx.post(f"{server}/auth/token", data={"user": "ci"}, timeout=1).raise_for_status()


def test_orders_api(server):
    httpx.post(f"{server}/api/orders", json={}, timeout=1).raise_for_status()
