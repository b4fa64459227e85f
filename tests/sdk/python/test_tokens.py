"""Session tokens and JWT-template tokens through clerk-backend-api: create a user and a session, mint tokens
(plain and from a template) and verify them with `security.verify_token` against /v1/jwks; an expired token and
a token signed by a foreign key are refused. Also a sign-up attempt made by a browser through the Frontend API (plain
HTTP on the proxy path /fapi/{frontend host}/v1/client/sign_ups with a dev browser), read and updated through
sign_ups.get / sign_ups.update. Agent tasks
(agent_tasks.create / revoke), a proxy check (proxy_checks.verify) against a local stand-in proxy, and the interstitial
(miscellaneous.get_public_interstitial).

Run by crates/server/tests/sdk.rs with TESSERA_API_URL and TESSERA_SECRET_KEY set; exits 0 only if every check passed.
"""

import base64
import http.server
import json
import secrets
import threading
import time

import httpx
from clerk_backend_api import models
from clerk_backend_api.security import verify_token
from clerk_backend_api.security.types import TokenVerificationError, TokenVerificationErrorReason, VerifyTokenOptions
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from common import API_URL, SECRET_KEY, Checks, client, expect_error

check = Checks()
clerk = client()
S = {}


def bapi(method: str, path: str, body=None) -> dict:
    r = httpx.request(method, f"{API_URL}/v1{path}", json=body, headers={"authorization": f"Bearer {SECRET_KEY}"})
    assert r.status_code == 200, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def part(jwt: str, i: int) -> dict:
    p = jwt.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def sdk_verify(token: str) -> dict:
    return verify_token(token, VerifyTokenOptions(secret_key=SECRET_KEY, api_url=API_URL))


@check
def user_and_session():
    """users.create + sessions.create"""
    user = clerk.users.create(
        email_address=[f"sdk-tokens-{secrets.token_hex(4)}@example.com"],
        first_name="Ada",
        public_metadata={"plan": "pro"},
    )
    S["user"] = user
    session = clerk.sessions.create(request={"user_id": user.id})
    assert session.user_id == user.id
    S["session"] = session
    # Minted now, checked last (tokens live at least 30 s).
    S["short"] = bapi("POST", f"/sessions/{session.id}/tokens", {"expires_in_seconds": 30})["jwt"]
    S["short_at"] = time.monotonic()


@check
def session_token_verifies():
    """sessions.create_token → security.verify_token accepts it (sub, sid)"""
    token = clerk.sessions.create_token(session_id=S["session"].id)
    claims = sdk_verify(token.jwt)
    assert claims["sub"] == S["user"].id, claims
    assert claims["sid"] == S["session"].id, claims
    S["kid"] = part(token.jwt, 0)["kid"]


@check
def foreign_key_refused():
    """a token signed by a foreign key (same kid) → refused"""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    header = b64url(json.dumps({"alg": "RS256", "kid": S["kid"], "typ": "JWT"}).encode())
    payload = b64url(
        json.dumps({"sub": S["user"].id, "sid": S["session"].id, "iat": now, "nbf": now - 10, "exp": now + 60}).encode()
    )
    sig = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    e = expect_error(lambda: sdk_verify(f"{header}.{payload}.{b64url(sig)}"), TokenVerificationError)
    assert e.reason == TokenVerificationErrorReason.TOKEN_INVALID_SIGNATURE, e.reason


@check
def template_token_verifies():
    """jwt_templates + sessions.create_token_from_template → security.verify_token accepts it"""
    name = f"sdk_{secrets.token_hex(4)}"
    claims = {"name": "{{user.first_name}}", "plan": "{{user.public_metadata.plan}}"}
    # The generated SDK models `claims` as an object without properties and sends it as {}: create over HTTP,
    # read it back through the SDK.
    created = bapi("POST", "/jwt_templates", {"name": name, "claims": claims, "lifetime": 300})
    tmpl = clerk.jwt_templates.get(template_id=created["id"])
    assert (tmpl.name, tmpl.lifetime) == (name, 300), tmpl
    token = clerk.sessions.create_token_from_template(session_id=S["session"].id, template_name=name)
    claims = sdk_verify(token.jwt)
    assert claims["sub"] == S["user"].id, claims
    assert (claims["name"], claims["plan"]) == ("Ada", "pro"), claims
    assert claims["exp"] - claims["iat"] == 300, claims


def browser_sign_up(fields: dict) -> dict:
    """A sign-up made as clerk-js makes one: a dev browser, then a form-encoded POST on the instance's Frontend API,
    reached through the proxy path /fapi/{frontend host} (the host read from the instance's primary domain)."""
    domains = bapi("GET", "/domains")
    primary = next(d for d in domains["data"] if not d["is_satellite"])
    host = httpx.URL(primary["frontend_api_url"]).host
    fapi = f"{API_URL}/fapi/{host}/v1"
    db = httpx.post(f"{fapi}/dev_browser")
    assert db.status_code == 200, db.text
    r = httpx.post(f"{fapi}/client/sign_ups", params={"__clerk_db_jwt": db.json()["id"]}, data=fields)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["client"]["sign_up"]["id"] == body["response"]["id"], body
    return body["response"]


@check
def sign_up_read_and_updated():
    """sign-up made by a browser through the Frontend API → sign_ups.get / sign_ups.update read it back"""
    email = f"sdk-signup-{secrets.token_hex(4)}@example.com"
    created = browser_sign_up({"email_address": email, "password": "correct horse battery", "last_name": "L"})
    got = clerk.sign_ups.get(id=created["id"])
    assert (got.id, got.email_address, got.last_name) == (created["id"], email, "L"), got
    assert got.status == "missing_requirements", got.status
    assert got.unverified_fields == ["email_address"], got.unverified_fields
    assert (got.custom_action, got.external_id, got.password_enabled) == (False, None, True), got
    updated = clerk.sign_ups.update(id=created["id"], external_id="sdk-ext-2", custom_action=True)
    assert (updated.external_id, updated.custom_action) == ("sdk-ext-2", True), updated
    # The email address is still unverified: no user yet.
    assert (updated.status, updated.created_user_id) == ("missing_requirements", None), updated
    assert clerk.sign_ups.get(id=created["id"]).external_id == "sdk-ext-2"


@check
def agent_tasks_create_and_revoke():
    """agent_tasks.create → a ticket URL; agent_tasks.revoke → the task without url; revoking twice → 400"""
    body = {
        "on_behalf_of": {"user_id": S["user"].id},
        "permissions": "*",
        "agent_name": "sdk-agent-py",
        "task_description": "SDK suite",
        "redirect_url": "http://localhost:3000/after",
    }
    task = clerk.agent_tasks.create(request=body)
    assert task.agent_id.startswith("agt_") and task.agent_task_id.startswith("agttsk_"), task
    assert task.task_id == task.agent_task_id, task
    assert "/v1/tickets/accept?ticket=" in task.url, task.url
    again = clerk.agent_tasks.create(request=body)
    assert again.agent_id == task.agent_id and again.agent_task_id != task.agent_task_id, again
    revoked = clerk.agent_tasks.revoke(agent_task_id=task.agent_task_id)
    assert (revoked.agent_task_id, revoked.url) == (task.agent_task_id, None), revoked
    e = expect_error(lambda: clerk.agent_tasks.revoke(agent_task_id=task.agent_task_id), models.ClerkErrors)
    assert (e.status_code, e.data.errors[0].code) == (400, "agent_task_cannot_be_revoked"), e


@check
def proxy_check_against_a_local_proxy():
    """proxy_checks.verify → GET {proxy}/v1/proxy-health, healthy → successful, unhealthy → not"""
    seen = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append((self.path, dict(self.headers)))
            healthy = self.path.startswith("/__clerk/")
            body = json.dumps({"status": "healthy"} if healthy else {"status": "unhealthy", "message": "no"}).encode()
            self.send_response(200 if healthy else 503)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{proxy.server_address[1]}"
        domain = bapi("GET", "/domains")["data"][0]["id"]
        ok = clerk.proxy_checks.verify(request={"domain_id": domain, "proxy_url": f"{base}/__clerk"})
        assert (ok.successful, ok.domain_id, ok.proxy_url) == (True, domain, f"{base}/__clerk"), ok
        path, headers = seen[0]
        assert path == f"/__clerk/v1/proxy-health?domain_id={domain}", path
        lower = {k.lower(): v for k, v in headers.items()}
        assert lower.get("clerk-proxy-url") == f"{base}/__clerk", lower
        assert "clerk-secret-key" not in lower and "authorization" not in lower, lower
        bad = clerk.proxy_checks.verify(request={"domain_id": domain, "proxy_url": f"{base}/elsewhere"})
        assert bad.successful is False, bad
        e = expect_error(lambda: clerk.proxy_checks.verify(request={"domain_id": "dmn_unknown"}), models.ClerkErrors)
        assert e.status_code == 422, e
    finally:
        proxy.shutdown()


@check
def public_interstitial():
    """miscellaneous.get_public_interstitial: 200 with a frontend API; 400 without"""
    assert clerk.miscellaneous.get_public_interstitial(frontend_api_query_parameter1="clerk.example.com") is None
    r = httpx.get(f"{API_URL}/v1/public/interstitial", params={"frontend_api": "clerk.example.com"})
    assert r.headers["content-type"] == "text/html; charset=utf-8", r.headers
    assert "https://clerk.example.com/npm/@clerk/clerk-js@6/dist/clerk.browser.js" in r.text, r.text
    e = expect_error(lambda: clerk.miscellaneous.get_public_interstitial(), models.SDKError)
    assert e.status_code == 400, e


@check
def expired_token_refused():
    """an expired token → token-expired"""
    wait = S["short_at"] + 37 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    e = expect_error(lambda: sdk_verify(S["short"]), TokenVerificationError)
    assert e.reason == TokenVerificationErrorReason.TOKEN_EXPIRED, e.reason


if __name__ == "__main__":
    check.run()
