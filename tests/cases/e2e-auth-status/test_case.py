"""End-to-end tests of an auth service that rejects the suite: the service's verdict is the
assertion message. A 401 in an orders test, or a product assertion in an auth test, is not it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

VERDICTS = {
    "/auth/login": (401, {"detail": "JWT verification failed: Signature verification failed"}),
    "/auth/token": (401, {"error": "JWT secret not configured"}),
    "/auth/session": (403, {"detail": "Forbidden: AUTH_SECRET missing"}),
    "/auth/me": (200, {"role": "viewer"}),
    "/api/orders": (401, {"detail": "JWT verification failed"}),
    "/api/refunds": (401, {"detail": "refund not allowed for this account"}),
}


class Service(BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = VERDICTS[self.path]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    httpd = HTTPServer(("127.0.0.1", 0), Service)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{httpd.server_address[1]}", timeout=2) as c:
        yield c
    httpd.shutdown()
    httpd.server_close()


def test_auth_login(api):
    resp = api.get("/auth/login")
    assert resp.status_code == 200, resp.text


def test_auth_token_issued(api):
    resp = api.get("/auth/token")
    assert resp.status_code == 200, resp.json()["error"]


def test_auth_session(api):
    resp = api.get("/auth/session")
    assert resp.status_code == 200, resp.text


def test_auth_me_is_admin(api):
    resp = api.get("/auth/me")
    assert resp.status_code == 200, resp.text
    assert resp.json()["role"] == "admin", "JWT verification failed to grant the admin role"


def test_orders_list(api):
    resp = api.get("/api/orders")
    assert resp.status_code == 200, resp.text


def test_auth_refund(api):
    resp = api.get("/api/refunds")
    assert resp.status_code == 200, resp.text
