"""OAuth applications and OAuth access tokens through clerk-backend-api: every `oauth_applications` method (list,
create, get, update, delete, upload_logo, rotate_secret, revoke_token), `oauth_access_tokens.verify`, and
`security.verify_token` for `oat_…` tokens Tessera's provider issued. (`security.authenticate_request` is not used:
for machine tokens it builds its verify options without `api_url`, so it can only ask api.clerk.com.)

The tokens come from a real authorization-code flow with PKCE on the server's frontend host (a dev browser signed in
with a sign-in token, then /oauth/authorize and /oauth/token), without a browser.

Run by crates/server/tests/sdk.rs with TESSERA_API_URL, TESSERA_SECRET_KEY and TESSERA_PUBLISHABLE_KEY set. The
checks run in order and share state (later ones use what earlier ones created).
"""

import base64
import hashlib
import secrets
import time

import httpx
from clerk_backend_api import models
from clerk_backend_api.security import verify_token
from clerk_backend_api.security.types import TokenVerificationError, TokenVerificationErrorReason, VerifyTokenOptions

from common import API_URL, SECRET_KEY, Checks, client, env, expect_error

check = Checks()
clerk = client()

PUBLISHABLE_KEY = env("TESSERA_PUBLISHABLE_KEY")
FRONTEND_HOST = base64.b64decode(PUBLISHABLE_KEY.split("_")[2]).decode().rstrip("$")
# The Frontend API through Tessera's proxy path.
FAPI = f"{API_URL}/fapi/{FRONTEND_HOST}"
REDIRECT = "https://rp.example.com/callback"
PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"

# The typed errors the SDK raises (names generated from the operations).
VERIFY_404 = models.VerifyOAuthAccessTokenOauthAccessTokensResponseResponseBody
S: dict = {}
http = httpx.Client(timeout=10, follow_redirects=False)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def signed_in_browser(user_id: str) -> str:
    """A dev browser signed in as the user with a sign-in token: its token."""
    db = http.post(f"{FAPI}/v1/dev_browser").json()["id"]
    ticket = clerk.sign_in_tokens.create(request={"user_id": user_id, "expires_in_seconds": 600}).token
    r = http.post(f"{FAPI}/v1/client/sign_ins", params={"__clerk_db_jwt": db}, data={"strategy": "ticket", "ticket": ticket})
    assert r.json()["response"]["status"] == "complete", r.text[:400]
    return db


def token_request(client_id: str, secret: str, form: dict) -> httpx.Response:
    return http.post(f"{FAPI}/oauth/token", data=form, auth=(client_id, secret))


def tokens(app, secret: str, scope: str = "profile email") -> dict:
    """Authorization code + PKCE for an application without a consent screen: the token response."""
    verifier = b64url(secrets.token_bytes(32))
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": secrets.token_hex(8),
        "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
        "__clerk_db_jwt": S["browser"],
    }
    r = http.get(f"{FAPI}/oauth/authorize", params=query)
    assert r.status_code == 302, f"{r.status_code} {r.text[:400]}"
    location = httpx.URL(r.headers["location"])
    assert str(location).startswith(REDIRECT + "?"), location
    form = {
        "grant_type": "authorization_code",
        "code": location.params["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    r = token_request(app.client_id, secret, form)
    assert r.status_code == 200, r.text
    return r.json()


@check
def create_applications():
    """oauth_applications.create: a confidential client with its secret once; a public client with an empty one"""
    app = clerk.oauth_applications.create(
        request={"name": "Python RP", "redirect_uris": [REDIRECT], "scopes": "profile email", "consent_screen_enabled": False}
    )
    assert app.id.startswith("oa_") and app.object == "oauth_application"
    assert app.client_secret and len(app.client_secret) >= 32
    assert (app.public, app.consent_screen_enabled, app.pkce_required) == (False, False, False)
    assert app.authorize_url == f"https://{FRONTEND_HOST}/oauth/authorize"
    assert app.discovery_url == f"https://{FRONTEND_HOST}/.well-known/openid-configuration"
    S["app"], S["secret"] = app, app.client_secret
    public = clerk.oauth_applications.create(request={"name": "Python public client", "redirect_uris": [REDIRECT], "public": True})
    assert public.public is True and public.client_secret == "", public.client_secret
    S["public"] = public
    user = clerk.users.create(email_address=["oauth-py@example.com"], first_name="Ada")
    S["user"] = user.id
    S["browser"] = signed_in_browser(user.id)


@check
def get_list_update():
    """oauth_applications.get / list (order, name_query, paging) / update; unknown ids are typed 404s"""
    got = clerk.oauth_applications.get(oauth_application_id=S["app"].id)
    assert got.client_id == S["app"].client_id and not hasattr(got, "client_secret")
    expect_error(lambda: clerk.oauth_applications.get(oauth_application_id="oa_missing"), models.ClerkErrors)
    listed = clerk.oauth_applications.list(order_by="-created_at")
    assert listed.total_count == 2 and [a.id for a in listed.data] == [S["public"].id, S["app"].id]
    assert [a.id for a in clerk.oauth_applications.list(name_query="python rp").data] == [S["app"].id]
    page = clerk.oauth_applications.list(limit=1, offset=1, order_by="+created_at")
    assert [a.id for a in page.data] == [S["public"].id]
    # The SDK sends scopes="profile email" unless told otherwise (its model default): pass them explicitly.
    updated = clerk.oauth_applications.update(
        oauth_application_id=S["app"].id, name="Python RP (renamed)", scopes="profile email openid"
    )
    assert (updated.name, updated.scopes) == ("Python RP (renamed)", "profile email openid")


@check
def upload_logo():
    """oauth_applications.upload_logo: a PNG sets client_image_url, which serves the image"""
    app = clerk.oauth_applications.upload_logo(
        oauth_application_id=S["app"].id,
        file={"file_name": "logo.png", "content": PNG, "content_type": "image/png"},
    )
    assert app.client_image_url, app
    r = httpx.get(app.client_image_url)
    assert r.status_code == 200 and r.content == PNG, r.status_code


@check
def verify_opaque():
    """oauth_access_tokens.verify and security.verify_token accept an oat_ token Tessera issued"""
    t = tokens(S["app"], S["secret"])
    S["tokens"] = t
    access = t["access_token"]
    assert access.startswith("oat_") and t["refresh_token"].startswith("ort_")
    v = clerk.oauth_access_tokens.verify(access_token=access)
    assert isinstance(v, models.ResponseBody1), type(v)
    assert v.object == models.ResponseBodyObject.CLERK_IDP_OAUTH_ACCESS_TOKEN
    assert (v.client_id, v.subject, v.scopes, v.revoked, v.expired) == (
        S["app"].client_id, S["user"], ["profile", "email"], False, False
    )
    assert v.expiration and v.expiration > time.time() * 1000
    payload = verify_token(access, VerifyTokenOptions(secret_key=SECRET_KEY, api_url=API_URL))
    assert payload["subject"] == S["user"] and payload["client_id"] == S["app"].client_id, payload


@check
def revoke_token():
    """oauth_applications.revoke_token: 204; verify → typed 404; verify_token → token-invalid; refresh refused"""
    access, refresh = S["tokens"]["access_token"], S["tokens"]["refresh_token"]
    assert clerk.oauth_applications.revoke_token(oauth_application_id=S["app"].id, token=access) is None
    e = expect_error(lambda: clerk.oauth_access_tokens.verify(access_token=access), VERIFY_404)
    assert e.data.errors[0].code == "resource_not_found"
    err = expect_error(
        lambda: verify_token(access, VerifyTokenOptions(secret_key=SECRET_KEY, api_url=API_URL)), TokenVerificationError
    )
    assert err.reason == TokenVerificationErrorReason.TOKEN_INVALID, err.reason
    r = token_request(S["app"].client_id, S["secret"], {"grant_type": "refresh_token", "refresh_token": refresh})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant"), r.text


@check
def rotate_secret():
    """oauth_applications.rotate_secret: a new secret; the old one is an invalid_client"""
    rotated = clerk.oauth_applications.rotate_secret(oauth_application_id=S["app"].id)
    assert rotated.client_secret and rotated.client_secret != S["secret"]
    r = token_request(S["app"].client_id, S["secret"], {"grant_type": "refresh_token", "refresh_token": "ort_x"})
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client"), r.text
    S["secret"] = rotated.client_secret
    t = tokens(S["app"], S["secret"])
    assert clerk.oauth_access_tokens.verify(access_token=t["access_token"]).subject == S["user"]
    S["after_rotation"] = t


@check
def delete_applications():
    """oauth_applications.delete: a deleted object; its tokens no longer verify"""
    deleted = clerk.oauth_applications.delete(oauth_application_id=S["app"].id)
    assert (deleted.id, deleted.object, deleted.deleted) == (S["app"].id, "oauth_application", True)
    expect_error(lambda: clerk.oauth_access_tokens.verify(access_token=S["after_rotation"]["access_token"]), VERIFY_404)
    clerk.oauth_applications.delete(oauth_application_id=S["public"].id)
    assert clerk.oauth_applications.list().total_count == 0


check.run()
