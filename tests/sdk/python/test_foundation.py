"""Foundation checks through clerk-backend-api: JWKS, secret-key errors, typed errors answered at once."""

import base64
import json
import time

from clerk_backend_api import models
from clerk_backend_api.security import verify_token
from clerk_backend_api.security.types import TokenVerificationError, TokenVerificationErrorReason, VerifyTokenOptions

from common import API_URL, SECRET_KEY, WRONG_KEY, Checks, client, expect_error

check = Checks()
clerk = client()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_token(kid: str) -> str:
    """A JWT-shaped token with a plausible header and payload and a signature that cannot verify."""
    now = int(time.time())
    header = b64url(json.dumps({"alg": "RS256", "kid": kid, "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": "user_123", "sid": "sess_123", "iat": now, "nbf": now - 10, "exp": now + 60}).encode())
    return f"{header}.{payload}.{b64url(b'not a signature' * 16)}"


@check
def jwks():
    """jwks.get_jwks returns the instance's RSA key"""
    keys = clerk.jwks.get_jwks().keys
    assert keys, "no keys"
    for k in keys:
        assert (k.kty, k.alg, k.use, k.e) == ("RSA", "RS256", "sig", "AQAB"), k
        assert k.kid
        assert len(base64.urlsafe_b64decode(k.n + "=" * (-len(k.n) % 4))) == 256, "2048-bit modulus"


@check
def wrong_key():
    """wrong secret key: 401 clerk_key_invalid (SDKError: GetJWKS lists no 401)"""
    e = expect_error(lambda: client(WRONG_KEY).jwks.get_jwks(), models.SDKError)
    assert e.status_code == 401, e
    body = json.loads(e.body)
    assert body["errors"][0]["code"] == "clerk_key_invalid", body
    assert body["errors"][0]["message"] and body["errors"][0]["long_message"], body


def verify_reason(token: str, secret_key: str) -> TokenVerificationErrorReason:
    try:
        verify_token(token, VerifyTokenOptions(secret_key=secret_key, api_url=API_URL))
    except TokenVerificationError as e:
        return e.reason
    raise AssertionError("verify_token accepted a forged token")


@check
def verify_token_wrong_key():
    """security.verify_token with a wrong secret key cannot load the JWKS"""
    kid = clerk.jwks.get_jwks().keys[0].kid
    reason = verify_reason(forged_token(kid), WRONG_KEY)
    assert reason == TokenVerificationErrorReason.JWK_FAILED_TO_LOAD, reason


@check
def verify_token_unknown_kid():
    """security.verify_token loads the JWKS; an unknown kid is a kid mismatch"""
    reason = verify_reason(forged_token("kid_that_does_not_exist"), SECRET_KEY)
    assert reason == TokenVerificationErrorReason.JWK_KID_MISMATCH, reason


@check
def verify_token_bad_signature():
    """security.verify_token turns the published JWK into an RSA key; a forged signature is rejected"""
    kid = clerk.jwks.get_jwks().keys[0].kid
    reason = verify_reason(forged_token(kid), SECRET_KEY)
    assert reason == TokenVerificationErrorReason.TOKEN_INVALID_SIGNATURE, reason


# A 404 the operation types (ClerkErrors), answered at once: the client does not retry it.
@check
def typed_not_found():
    """a 404 the operation declares is typed: ClerkErrors resource_not_found, no retries"""
    started = time.monotonic()
    e = expect_error(
        lambda: clerk.enterprise_connections.list_test_runs(enterprise_connection_id="entc_2abcdefghijklmnopqrstuvwxyz1"),
        models.ClerkErrors,
    )
    assert e.status_code == 404, e
    assert e.data.errors[0].code == "resource_not_found", e.data
    assert time.monotonic() - started < 5, "answered at once"


if __name__ == "__main__":
    check.run()
