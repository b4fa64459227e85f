"""Machine authentication through clerk-backend-api: API keys, machines (scopes, secret-key rotation), M2M tokens and
`clerk_backend_api.security.verify_token` for `ak_…` and `mt_…` tokens.

Run by crates/server/tests/sdk.rs with TESSERA_API_URL and TESSERA_SECRET_KEY set. The checks run in order and share
state (later ones use what earlier ones created).
"""

import base64
import json
import secrets
import time

import httpx
from clerk_backend_api import Clerk, models
from clerk_backend_api.security import verify_token
from clerk_backend_api.security.types import TokenVerificationError, TokenVerificationErrorReason, VerifyTokenOptions

from common import API_URL, NO_RETRIES, SECRET_KEY, Checks, client, expect_error

check = Checks()
clerk = client()

# Query strings the SDK sent, to show what the server had to accept.
SENT_URLS: list = []


def _record(request: httpx.Request) -> None:
    SENT_URLS.append(str(request.url))


recording = Clerk(
    bearer_auth=SECRET_KEY,
    server_url=f"{API_URL}/v1",
    retry_config=NO_RETRIES,
    timeout_ms=10_000,
    client=httpx.Client(event_hooks={"request": [_record]}),
)


def fake_id(prefix: str) -> str:
    """A syntactically valid `user_…`/`org_…` id (27 word characters after the prefix)."""
    return f"{prefix}_" + secrets.token_hex(14)[:27]


def now_ms() -> float:
    return time.time() * 1000


def assert_recent_ms(t, what: str) -> None:
    assert isinstance(t, (int, float)) and abs(t - now_ms()) < 120_000, f"{what} is not a recent Unix time in ms: {t}"


def jwt_part(token: str, i: int) -> dict:
    part = token.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# The typed errors the SDK raises for these statuses (its names are generated from the operations).
VERIFY_KEY_404 = models.VerifyAPIKeyAPIKeysResponseResponseBody
GET_KEY_404 = models.GetAPIKeyAPIKeysResponseResponseBody
DELETE_KEY_404 = models.DeleteAPIKeyAPIKeysResponseResponseBody
VERIFY_M2M_404 = models.VerifyM2MTokenM2mResponseResponseBody
REVOKE_M2M_404 = models.RevokeM2MTokenM2mResponseResponseBody
LIST_M2M_403 = models.GetM2MTokensM2mResponseResponseBody


def sdk_verify(token: str, **options) -> dict:
    """`security.verify_token` against Tessera (`api_url` without /v1, as the helper expects)."""
    return verify_token(token, VerifyTokenOptions(api_url=API_URL, **options))


def verify_reason(token: str, **options) -> TokenVerificationErrorReason:
    return expect_error(lambda: sdk_verify(token, **options), TokenVerificationError).reason


def expect(obj, **want) -> None:
    """The named attributes (or keys, for a dict) of `obj` equal `want`."""
    got = {k: obj[k] if isinstance(obj, dict) else getattr(obj, k) for k in want}
    assert got == want, f"got {got}, want {want}"


def status_error(e, status: int, code=None) -> None:
    """A typed Clerk error with `status` (and the first error's `code`, when given)."""
    assert e.status_code == status, f"status {e.status_code}: {e}"
    if code is not None:
        assert e.data.errors[0].code == code, e.data


# API-key subjects of the user_ kind must be users of the instance.
USER = clerk.users.create(first_name="Ada").id
CREATOR = fake_id("user")
S: dict = {}  # what the checks create

# --- API keys ----------------------------------------------------------------------------------------------------


@check
def api_key_create():
    """api_keys.create_api_key: 201, the secret once, every field as sent"""
    key = clerk.api_keys.create_api_key(
        name="python-deploy-key",
        subject=USER,
        description="Deploys from Python",
        claims={"tier": "gold", "max_seats": 5},
        scopes=["read:reports", "write:deploys"],
        created_by=CREATOR,
        seconds_until_expiration=3600,
    )
    assert isinstance(key, models.CreateAPIKeyResponseBody), type(key)
    assert key.object.value == "api_key"
    assert key.id.startswith("ak_") and len(key.id) == 35, key.id
    assert key.secret.startswith("ak_") and key.secret != key.id, key.secret
    expect(key, type="api_key", name="python-deploy-key", subject=USER, description="Deploys from Python")
    assert key.claims == {"tier": "gold", "max_seats": 5}, key.claims
    assert key.scopes == ["read:reports", "write:deploys"], key.scopes
    assert key.created_by == CREATOR
    assert (key.revoked, key.revocation_reason, key.expired, key.last_used_at) == (False, None, False, None)
    assert_recent_ms(key.created_at, "created_at")
    assert key.expiration == key.created_at + 3_600_000, (key.expiration, key.created_at)
    S["key"] = key
    S["key2"] = clerk.api_keys.create_api_key(name="python-second-key", subject=USER)
    assert S["key2"].expiration is None and S["key2"].scopes == [] and S["key2"].claims is None


@check
def api_key_list():
    """api_keys.get_api_keys (limit=10.0&offset=0.0): data and total_count, newest first"""
    SENT_URLS.clear()
    page = recording.api_keys.get_api_keys(subject=USER)
    assert any("limit=10.0" in u and "offset=0.0" in u for u in SENT_URLS), SENT_URLS
    assert page.total_count == 2, page
    assert [k.id for k in page.data] == [S["key2"].id, S["key"].id], page.data
    found = clerk.api_keys.get_api_keys(subject=USER, query="deploy")
    assert [k.id for k in found.data] == [S["key"].id] and found.total_count == 1, found
    second = clerk.api_keys.get_api_keys(subject=USER, limit=1, offset=1)
    assert [k.id for k in second.data] == [S["key"].id] and second.total_count == 2, second


@check
def api_key_get_update_secret():
    """api_keys.get_api_key / update_api_key / get_api_key_secret"""
    key = clerk.api_keys.get_api_key(api_key_id=S["key"].id)
    expect(key, id=S["key"].id, name="python-deploy-key", scopes=S["key"].scopes, claims=S["key"].claims)
    assert not hasattr(key, "secret") or getattr(key, "secret", None) is None

    updated = clerk.api_keys.update_api_key(
        api_key_id=S["key"].id,
        scopes=["read:reports"],
        claims={"tier": "platinum"},
        description="Deploys from Python (monthly)",
    )
    expect(updated, scopes=["read:reports"], claims={"tier": "platinum"}, description="Deploys from Python (monthly)")
    assert updated.name == "python-deploy-key" and updated.expiration == S["key"].expiration, updated

    assert clerk.api_keys.get_api_key_secret(api_key_id=S["key"].id).secret == S["key"].secret

    e = expect_error(lambda: clerk.api_keys.get_api_key(api_key_id="ak_" + secrets.token_hex(16)), GET_KEY_404)
    status_error(e, 404)


@check
def api_key_verify():
    """api_keys.verify_api_key: the key, last_used_at recorded"""
    key = clerk.api_keys.verify_api_key(secret=S["key"].secret)
    expect(key, id=S["key"].id, subject=USER, scopes=["read:reports"], claims={"tier": "platinum"})
    assert key.revoked is False and key.expired is False
    assert_recent_ms(key.last_used_at, "last_used_at")


@check
def api_key_security_verify_token():
    """security.verify_token(ak_…) posts {secret} to /api_keys/verify: the key as a dict"""
    data = sdk_verify(S["key"].secret, secret_key=SECRET_KEY)
    assert data["object"] == "api_key" and data["id"] == S["key"].id, data
    assert (data["subject"], data["scopes"], data["claims"]) == (USER, ["read:reports"], {"tier": "platinum"}), data


@check
def api_key_revoke():
    """api_keys.revoke_api_key: revoked; verify → typed 404; security.verify_token → token-invalid"""
    key = clerk.api_keys.revoke_api_key(api_key_id=S["key"].id, revocation_reason="leaked")
    assert (key.revoked, key.revocation_reason) == (True, "leaked"), key
    e = expect_error(lambda: clerk.api_keys.verify_api_key(secret=S["key"].secret), VERIFY_KEY_404)
    status_error(e, 404)
    assert e.data.errors[0].long_message, e.data
    reason = verify_reason(S["key"].secret, secret_key=SECRET_KEY)
    assert reason == TokenVerificationErrorReason.TOKEN_INVALID, reason

    valid = clerk.api_keys.get_api_keys(subject=USER)
    assert [k.id for k in valid.data] == [S["key2"].id] and valid.total_count == 1, valid
    everything = clerk.api_keys.get_api_keys(subject=USER, include_invalid=models.IncludeInvalid.TRUE)
    assert [k.id for k in everything.data] == [S["key2"].id, S["key"].id], everything
    assert everything.data[1].revoked is True


@check
def api_key_unknown():
    """api_keys.verify_api_key with an unknown secret: typed 404"""
    unknown = "ak_" + secrets.token_hex(24)
    e = expect_error(lambda: clerk.api_keys.verify_api_key(secret=unknown), VERIFY_KEY_404)
    status_error(e, 404)
    reason = verify_reason(unknown, secret_key=SECRET_KEY)
    assert reason == TokenVerificationErrorReason.TOKEN_INVALID, reason


@check
def api_key_expired():
    """api_keys: a key with seconds_until_expiration=1 verifies, then answers a typed 404 once expired"""
    key = clerk.api_keys.create_api_key(name="short-lived", subject=USER, seconds_until_expiration=1)
    assert key.expiration == key.created_at + 1000, key
    assert clerk.api_keys.verify_api_key(secret=key.secret).id == key.id
    time.sleep(1.3)
    e = expect_error(lambda: clerk.api_keys.verify_api_key(secret=key.secret), VERIFY_KEY_404)
    status_error(e, 404)
    stored = clerk.api_keys.get_api_key(api_key_id=key.id)
    assert (stored.expired, stored.revoked) == (True, False), stored


@check
def api_key_delete():
    """api_keys.delete_api_key: {id, object, deleted}; then get → typed 404"""
    deleted = clerk.api_keys.delete_api_key(api_key_id=S["key2"].id)
    assert (deleted.id, deleted.object.value, deleted.DELETED) == (S["key2"].id, "api_key", True), deleted
    e = expect_error(lambda: clerk.api_keys.get_api_key(api_key_id=S["key2"].id), GET_KEY_404)
    status_error(e, 404)
    e = expect_error(lambda: clerk.api_keys.delete_api_key(api_key_id=S["key2"].id), DELETE_KEY_404)
    status_error(e, 404)


# --- machines ----------------------------------------------------------------------------------------------------


@check
def machines_create():
    """machines.create: MachineCreated with the secret key; scoped machines expanded"""
    callee = clerk.machines.create(request={"name": "py-inventory-api"})
    assert isinstance(callee, models.MachineCreated), type(callee)
    assert callee.id.startswith("mch_") and len(callee.id) == 31, callee.id
    assert callee.secret_key.startswith("ak_"), callee.secret_key
    assert (callee.name, callee.scoped_machines, callee.default_token_ttl) == ("py-inventory-api", [], 3600)
    assert callee.instance_id.startswith("ins_")
    caller = clerk.machines.create(
        request={"name": "py-billing-worker", "scoped_machines": [callee.id], "default_token_ttl": 600}
    )
    assert [(s.id, s.name) for s in caller.scoped_machines] == [(callee.id, "py-inventory-api")], caller.scoped_machines
    assert caller.default_token_ttl == 600
    other = clerk.machines.create(request={"name": "py-analytics"})
    S.update(callee=callee, caller=caller, other=other)
    S["caller_key"] = caller.secret_key


@check
def machines_list():
    """machines.list with query and order_by: data and total_count"""
    everything = clerk.machines.list()
    assert everything.total_count == 3, everything
    assert [x.id for x in everything.data] == [S["other"].id, S["caller"].id, S["callee"].id], "newest first"
    by_name = clerk.machines.list(order_by="name")
    assert [x.name for x in by_name.data] == ["py-analytics", "py-billing-worker", "py-inventory-api"], by_name
    by_name_desc = clerk.machines.list(order_by="-name", limit=2)
    assert [x.name for x in by_name_desc.data] == ["py-inventory-api", "py-billing-worker"], by_name_desc
    assert by_name_desc.total_count == 3, by_name_desc
    partial = clerk.machines.list(query="billing")
    assert [x.id for x in partial.data] == [S["caller"].id] and partial.total_count == 1, partial
    exact = clerk.machines.list(query=S["callee"].id)
    assert [x.id for x in exact.data] == [S["callee"].id], exact


@check
def machines_get_update():
    """machines.get / machines.update"""
    got = clerk.machines.get(machine_id=S["caller"].id)
    assert isinstance(got, models.Machine)
    expect(got, name="py-billing-worker", default_token_ttl=600)
    assert [s.id for s in got.scoped_machines] == [S["callee"].id], got
    updated = clerk.machines.update(machine_id=S["caller"].id, name="py-billing-service", default_token_ttl=900)
    assert (updated.name, updated.default_token_ttl) == ("py-billing-service", 900), updated
    e = expect_error(lambda: clerk.machines.get(machine_id="mch_" + "x" * 27), models.ClerkErrors)
    status_error(e, 404)


@check
def machines_scopes():
    """machines.create_scope / delete_scope"""
    scope = clerk.machines.create_scope(machine_id=S["caller"].id, to_machine_id=S["other"].id)
    assert scope.object.value == "machine_scope", scope
    expect(scope, from_machine_id=S["caller"].id, to_machine_id=S["other"].id)
    assert_recent_ms(scope.created_at, "created_at")
    ids = sorted(s.id for s in clerk.machines.get(machine_id=S["caller"].id).scoped_machines)
    assert ids == sorted([S["callee"].id, S["other"].id]), ids
    deleted = clerk.machines.delete_scope(machine_id=S["caller"].id, other_machine_id=S["other"].id)
    expect(deleted, from_machine_id=S["caller"].id, to_machine_id=S["other"].id, DELETED=True)
    assert [s.id for s in clerk.machines.get(machine_id=S["caller"].id).scoped_machines] == [S["callee"].id]


@check
def machines_secret_key_rotation():
    """machines.get_secret_key / rotate_secret_key: the old key mints inside previous_token_ttl, not after 0"""
    assert clerk.machines.get_secret_key(machine_id=S["caller"].id).secret == S["caller_key"]
    old = S["caller_key"]
    rotated = clerk.machines.rotate_secret_key(machine_id=S["caller"].id, previous_token_ttl=60)
    assert rotated.object.value == "machine_secret_key" and rotated.secret.startswith("ak_") and rotated.secret != old
    assert clerk.machines.get_secret_key(machine_id=S["caller"].id).secret == rotated.secret
    for key in (old, rotated.secret):
        token = client(key).m2m.create_token()
        assert token.subject == S["caller"].id and token.token.startswith("mt_"), token

    replaced = rotated.secret
    rotated = clerk.machines.rotate_secret_key(machine_id=S["caller"].id, previous_token_ttl=0)
    e = expect_error(lambda: client(replaced).m2m.create_token(), models.SDKError)
    assert e.status_code == 401, e
    assert json.loads(e.body)["errors"][0]["code"] == "machine_secret_key_invalid", e.body
    assert client(rotated.secret).m2m.create_token().subject == S["caller"].id
    S["caller_key"] = rotated.secret


@check
def machines_delete():
    """machines.delete: MachineDeleted; then get → 404 and its key is rejected"""
    doomed = clerk.machines.create(request={"name": "py-doomed"})
    deleted = clerk.machines.delete(machine_id=doomed.id)
    assert (deleted.object.value, deleted.id, deleted.DELETED) == ("machine", doomed.id, True), deleted
    status_error(expect_error(lambda: clerk.machines.get(machine_id=doomed.id), models.ClerkErrors), 404)
    e = expect_error(lambda: client(doomed.secret_key).m2m.create_token(), models.SDKError)
    assert e.status_code == 401, e


# --- M2M tokens --------------------------------------------------------------------------------------------------


@check
def m2m_create_opaque():
    """m2m.create_token with a machine-key client: opaque mt_ token, 201"""
    token = client(S["caller_key"]).m2m.create_token(seconds_until_expiration=300, claims={"job": "py-nightly"})
    assert isinstance(token, models.CreateM2MTokenResponseBody)
    assert token.object.value == "machine_to_machine_token"
    assert token.id.startswith("mt_") and len(token.id) == 35, token.id
    assert token.token.startswith("mt_") and token.token != token.id
    expect(token, subject=S["caller"].id, scopes=[S["callee"].id], claims={"job": "py-nightly"})
    assert (token.revoked, token.expired, token.revocation_reason) == (False, False, None)
    assert_recent_ms(token.created_at, "created_at")
    assert token.expiration == token.created_at + 300_000, token
    S["opaque"] = token
    e = expect_error(lambda: clerk.m2m.create_token(), models.SDKError)
    assert e.status_code == 401, "the instance secret key cannot mint"


@check
def m2m_reuse():
    """m2m.create_token(min_remaining_ttl_seconds): the same live opaque token again"""
    caller = client(S["caller_key"])
    first = caller.m2m.create_token(seconds_until_expiration=120, claims={"pool": "py"}, min_remaining_ttl_seconds=60)
    again = caller.m2m.create_token(seconds_until_expiration=120, claims={"pool": "py"}, min_remaining_ttl_seconds=60)
    assert (again.id, again.token) == (first.id, first.token), (first, again)
    # Revoked at once so that the list counts below stay about the tokens minted for them.
    clerk.m2m.revoke_token(m2m_token_id=first.id)


@check
def m2m_create_jwt():
    """m2m.create_token(token_format=jwt): an RS256 JWT with cat cl_B7d4PD333AAA"""
    token = client(S["caller_key"]).m2m.create_token(token_format=models.TokenFormat.JWT, claims={"job": "py-reindex"})
    header, payload = jwt_part(token.token, 0), jwt_part(token.token, 1)
    assert (header["alg"], header["cat"]) == ("RS256", "cl_B7d4PD333AAA"), header
    assert header["kid"] in [k.kid for k in clerk.jwks.get_jwks().keys]
    assert (payload["sub"], payload["jti"], payload["job"]) == (S["caller"].id, token.id, "py-reindex"), payload
    assert payload["exp"] - payload["iat"] == 900, "the machine's default_token_ttl"
    expect(token, subject=S["caller"].id, scopes=[S["callee"].id], claims={"job": "py-reindex"})
    S["jwt"] = token


@check
def m2m_verify():
    """m2m.verify_token: with the callee's key or the instance key; an unscoped machine's key → typed 404"""
    for who, c in (("callee key", client(S["callee"].secret_key)), ("instance key", clerk)):
        for token in (S["opaque"], S["jwt"]):
            v = c.m2m.verify_token(token=token.token)
            expect(v, id=token.id, subject=S["caller"].id, scopes=[S["callee"].id], claims=token.claims)
            expect(v, revoked=False, expired=False, expiration=token.expiration)
            if token is S["opaque"]:
                assert_recent_ms(v.last_used_at, "last_used_at of an opaque token")
    for key in (S["other"].secret_key, S["caller_key"]):
        e = expect_error(lambda: client(key).m2m.verify_token(token=S["opaque"].token), VERIFY_M2M_404)
        status_error(e, 404)
    e = expect_error(lambda: clerk.m2m.verify_token(token="mt_" + secrets.token_hex(24)), VERIFY_M2M_404)
    status_error(e, 404)


@check
def m2m_security_verify_token():
    """security.verify_token(mt_…) posts {secret} to /m2m_tokens/verify, with a secret key or a machine key"""
    data = sdk_verify(S["opaque"].token, secret_key=SECRET_KEY)
    assert data["object"] == "machine_to_machine_token", data
    expect(data, id=S["opaque"].id, subject=S["caller"].id, scopes=[S["callee"].id], claims={"job": "py-nightly"})
    data = sdk_verify(S["opaque"].token, machine_secret_key=S["callee"].secret_key)
    assert data["id"] == S["opaque"].id, data
    reason = verify_reason(S["opaque"].token, machine_secret_key=S["other"].secret_key)
    assert reason == TokenVerificationErrorReason.TOKEN_INVALID, "not scoped to that machine"


@check
def m2m_list():
    """m2m.list_tokens (limit=10.0&offset=0.0): opaque tokens only, with the instance key or the own machine key"""
    SENT_URLS.clear()
    page = recording.m2m.list_tokens(subject=S["caller"].id)
    assert any("limit=10.0" in u for u in SENT_URLS), SENT_URLS
    # Two from the 60-second rotation, one after the 0-second rotation, one opaque above; the JWT is not stored.
    assert page.total_count == 4, page
    ids = [x.id for x in page.m2m_tokens]
    assert S["opaque"].id in ids and S["jwt"].id not in ids, ids
    assert all(x.subject == S["caller"].id for x in page.m2m_tokens)
    own = client(S["caller_key"]).m2m.list_tokens(subject=S["caller"].id)
    assert [x.id for x in own.m2m_tokens] == ids, own
    e = expect_error(lambda: client(S["other"].secret_key).m2m.list_tokens(subject=S["caller"].id), LIST_M2M_403)
    status_error(e, 403, "authorization_invalid")


@check
def m2m_revoke():
    """m2m.revoke_token: revoked; verify → typed 404; security.verify_token → token-invalid"""
    revoked = client(S["caller_key"]).m2m.revoke_token(m2m_token_id=S["opaque"].id, revocation_reason="done")
    assert (revoked.id, revoked.revoked, revoked.revocation_reason) == (S["opaque"].id, True, "done"), revoked
    e = expect_error(lambda: clerk.m2m.verify_token(token=S["opaque"].token), VERIFY_M2M_404)
    status_error(e, 404)
    reason = verify_reason(S["opaque"].token, secret_key=SECRET_KEY)
    assert reason == TokenVerificationErrorReason.TOKEN_INVALID, reason
    listed = clerk.m2m.list_tokens(subject=S["caller"].id)
    assert listed.total_count == 3 and S["opaque"].id not in [x.id for x in listed.m2m_tokens], listed
    with_revoked = clerk.m2m.list_tokens(subject=S["caller"].id, revoked=True)
    # …plus the two revoked ones: this token and the one of the reuse check.
    assert with_revoked.total_count == 5, with_revoked
    assert {x.id for x in with_revoked.m2m_tokens if x.revoked} >= {S["opaque"].id}, with_revoked
    e = expect_error(lambda: clerk.m2m.revoke_token(m2m_token_id="mt_" + secrets.token_hex(16)), REVOKE_M2M_404)
    status_error(e, 404)


if __name__ == "__main__":
    check.run()
