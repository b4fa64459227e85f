"""Enterprise SSO and directory sync through clerk-backend-api: every `enterprise_connections` method but the test
runs, the deprecated `saml_connections`, `scim_directories` (with the 2026-05-12 `rotate_api_key` and group role
mappings), `admin_portal_link_tokens`; then the SCIM 2.0 service provider of a directory is checked with
`scim2-tester` (discovery, create/read/replace/delete of Users and Groups) and a user it provisioned is read back
through the SDK.

The SDK sends `Clerk-API-Version: 2025-11-10` on every call (its before-request hook overrides any header a call
passes) although version 7.0 also offers the ten operations 2026-05-12 added; Tessera serves those under every
version, as Clerk versions breaking changes only.

Run by crates/server/tests/sdk.rs with TESSERA_API_URL, TESSERA_SECRET_KEY and TESSERA_PUBLISHABLE_KEY set. The
checks run in order and share state (later ones use what earlier ones created).
"""

import base64
import os

import httpx
import httpx2
from clerk_backend_api import models
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from common import API_URL, Checks, client, env

check = Checks()
clerk = client()

PUBLISHABLE_KEY = env("TESSERA_PUBLISHABLE_KEY")
FRONTEND_HOST = base64.b64decode(PUBLISHABLE_KEY.split("_")[2]).decode().rstrip("$")
# A self-signed certificate is all the connection needs until a sign-in (the SAML tests sign with their own keys).
IDP_CERT = open(os.path.join(os.path.dirname(__file__), "../../../crates/testkit/fixtures/saml/idp.crt")).read()
S: dict = {}


def expect_error(fn, status: int) -> models.ClerkBaseError:
    """Calls fn, which must raise the SDK's error for an answer with this status; returns it."""
    try:
        result = fn()
    except models.ClerkBaseError as e:
        assert e.status_code == status, f"expected {status}, got {e.status_code}: {e}"
        return e
    raise AssertionError(f"expected an error {status}, got a result: {result!r}")


@check
def enterprise_connection_lifecycle():
    """enterprise_connections: create (SAML), get, list, update, and a second one for OIDC"""
    created = clerk.enterprise_connections.create(
        request={
            "name": "Acme SAML",
            "provider": "saml_custom",
            "domains": ["acme-sdk.example.com"],
            "saml": {
                "idp_entity_id": "https://idp.acme-sdk.example.com/",
                "idp_sso_url": "https://idp.acme-sdk.example.com/sso",
                "idp_certificate": IDP_CERT,
            },
        }
    )
    assert created.id.startswith("entconn_") or created.id, created
    assert created.name == "Acme SAML" and created.domains == ["acme-sdk.example.com"], created
    assert created.saml_connection is not None and created.saml_connection.acs_url, created
    assert FRONTEND_HOST in created.saml_connection.acs_url, created.saml_connection.acs_url
    S["connection"] = created.id

    got = clerk.enterprise_connections.get(enterprise_connection_id=created.id)
    assert got.id == created.id and got.saml_connection.idp_entity_id == "https://idp.acme-sdk.example.com/", got

    updated = clerk.enterprise_connections.update(enterprise_connection_id=created.id, name="Acme", active=True)
    assert updated.name == "Acme" and updated.active is True, updated

    listed = clerk.enterprise_connections.list()
    assert created.id in [c.id for c in listed.data] and listed.total_count >= 1, listed

    oidc = clerk.enterprise_connections.create(
        request={
            "name": "Beta OIDC",
            "provider": "oidc_custom",
            "domains": ["beta-sdk.example.com"],
            "oidc": {
                "client_id": "beta-client",
                "client_secret": "beta-secret-never-echoed",
                "auth_url": "https://idp.beta-sdk.example.com/authorize",
                "token_url": "https://idp.beta-sdk.example.com/token",
                "user_info_url": "https://idp.beta-sdk.example.com/userinfo",
            },
        }
    )
    assert "beta-secret-never-echoed" not in oidc.model_dump_json(), "the client secret came back"
    S["oidc_connection"] = oidc.id


@check
def enterprise_connection_errors():
    """enterprise_connections: a taken domain and an unknown id are Clerk errors the SDK raises"""
    expect_error(
        lambda: clerk.enterprise_connections.create(
            request={"name": "Dup", "provider": "saml_custom", "domains": ["acme-sdk.example.com"]}
        ),
        409,
    )
    expect_error(lambda: clerk.enterprise_connections.get(enterprise_connection_id="entconn_missing"), 404)


@check
def saml_connections_view():
    """saml_connections (deprecated): the same records — list, get, update, create, delete"""
    listed = clerk.saml_connections.list()
    # The SAML view has ids of its own and names the enterprise connection it shows.
    view = next(c for c in listed.data if c.enterprise_connection_id == S["connection"])
    got = clerk.saml_connections.get(saml_connection_id=view.id)
    assert got.idp_entity_id == "https://idp.acme-sdk.example.com/" and got.domains == ["acme-sdk.example.com"], got
    updated = clerk.saml_connections.update(saml_connection_id=view.id, name="Acme (SAML view)")
    assert updated.name == "Acme (SAML view)", updated
    assert clerk.enterprise_connections.get(enterprise_connection_id=S["connection"]).name == "Acme (SAML view)"

    extra = clerk.saml_connections.create(
        request={"name": "Gamma", "domains": ["gamma-sdk.example.com"], "provider": "saml_okta"}
    )
    deleted = clerk.saml_connections.delete(saml_connection_id=extra.id)
    assert deleted.id == extra.id and deleted.deleted is True, deleted
    expect_error(lambda: clerk.saml_connections.get(saml_connection_id=extra.id), 404)


@check
def scim_directory_and_api_key():
    """scim_directories: create (the API key shown once), get, list, update, rotate_api_key (2026-05-12)"""
    created = clerk.scim_directories.create(
        request={"enterprise_connection_id": S["connection"], "provider": "okta", "name": "Acme directory"}
    )
    assert created.api_key, "the API key is shown on creation"
    assert created.endpoint_url == f"https://{FRONTEND_HOST}/scim/v2/{created.id}", created.endpoint_url
    S["directory"], S["api_key"] = created.id, created.api_key

    got = clerk.scim_directories.get(scim_directory_id=created.id)
    assert got.api_key is None, "the API key is never shown again"
    assert created.id in [d.id for d in clerk.scim_directories.list().data]
    updated = clerk.scim_directories.update(scim_directory_id=created.id, name="Acme people")
    assert updated.name == "Acme people", updated

    rotated = clerk.scim_directories.rotate_api_key(scim_directory_id=created.id)
    assert rotated.api_key and rotated.api_key != created.api_key, rotated
    S["old_api_key"], S["api_key"] = created.api_key, rotated.api_key


@check
def group_role_mappings():
    """scim_directories: group role mappings (2026-05-12) — create, list, replace, delete"""
    clerk.instance_settings.update_organization_settings(request={"enabled": True})
    # Unlimited: scim2-tester provisions more people than a development instance's default of five members.
    org = clerk.organizations.create(request={"name": "Acme Org", "max_allowed_memberships": 0})
    S["org"] = org.id
    clerk.enterprise_connections.update(enterprise_connection_id=S["connection"], organization_id=org.id)
    clerk.scim_directories.update(scim_directory_id=S["directory"], group_role_mapping_enabled=True)
    roles = {r.key: r.id for r in clerk.organization_roles.list().data}
    admin, member = roles["org:admin"], roles["org:member"]

    first = clerk.scim_directories.create_group_role_mapping(
        scim_directory_id=S["directory"], scim_group_id="grp-admins", role_id=admin
    )
    assert first.role.id == admin and first.scim_group_id == "grp-admins", first
    listed = clerk.scim_directories.list_group_role_mappings(scim_directory_id=S["directory"])
    assert [m.id for m in listed.data] == [first.id], listed

    replaced = clerk.scim_directories.replace_group_role_mappings(
        scim_directory_id=S["directory"],
        mappings=[
            {"scim_group_id": "grp-admins", "role_id": admin, "precedence": 1},
            {"scim_group_id": "grp-staff", "role_id": member, "precedence": 2},
        ],
    )
    assert sorted(m.scim_group_id for m in replaced.data) == ["grp-admins", "grp-staff"], replaced
    staff = next(m for m in replaced.data if m.scim_group_id == "grp-staff")
    deleted = clerk.scim_directories.delete_group_role_mapping(
        scim_directory_id=S["directory"], mapping_id=staff.id
    )
    assert deleted.id == staff.id and deleted.DELETED is True, deleted
    after = clerk.scim_directories.list_group_role_mappings(scim_directory_id=S["directory"])
    assert [m.scim_group_id for m in after.data] == ["grp-admins"], after


def scim_http(api_key: str, engine=httpx):
    # The directory's endpoint_url is on the frontend host; this server is reached through its /fapi/{host} path.
    return engine.Client(
        base_url=f"{API_URL}/fapi/{FRONTEND_HOST}/scim/v2/{S['directory']}",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=10,
    )


def keeps_active(result) -> bool:
    """The one deliberate departure: every user has `active` (without it a user is active — RFC 7643 leaves the
    meaning to the provider — and deprovisioning is `active: false`), so removing it answers `active: true`."""
    return result.title == "check_remove_attribute" and (result.data or {}).get("urn") == "active"


@check
def scim_compliance():
    """SCIM 2.0: scim2-tester's discovery and CRUD checks of Users and Groups all pass with the rotated key"""
    scim = SyncSCIMClient(scim_http(S["api_key"], engine=httpx2))
    results = check_server(scim)
    failed = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED) and not keeps_active(r)]
    passed = [r for r in results if r.status == Status.SUCCESS]
    print(f"  scim2-tester: {len(passed)} passed, {len(results) - len(passed) - len(failed)} skipped", flush=True)
    assert len(passed) >= 10, [(r.title, r.status) for r in results]
    assert not failed, "\n".join(f"{r.title}: {r.status} {r.reason}" for r in failed)


@check
def scim_provisioned_user_through_the_sdk():
    """SCIM: a user provisioned by the IdP is a Clerk user with its external_id; deactivation deprovisions"""
    http = scim_http(S["api_key"])
    r = http.post(
        "/Users",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@acme-sdk.example.com",
            "externalId": "okta-ada",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@acme-sdk.example.com", "primary": True}],
            "active": True,
        },
    )
    assert r.status_code == 201, r.text[:400]
    users = clerk.users.list(request={"email_address": ["ada@acme-sdk.example.com"]})
    assert len(users) == 1 and users[0].first_name == "Ada", users
    assert users[0].external_id == "okta-ada", users[0].external_id
    r = http.patch(
        f"/Users/{r.json()['id']}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        },
    )
    assert r.status_code == 200 and r.json()["active"] is False, r.text[:400]


@check
def scim_old_key_within_its_grace():
    """SCIM: the key before the rotation still works within its grace period; a wrong key is refused"""
    assert scim_http(S["old_api_key"]).get("/ServiceProviderConfig").status_code == 200
    assert scim_http("not-the-key").get("/Users").status_code == 401


@check
def admin_portal_link_token():
    """admin_portal_link_tokens: create for the organization opens the portal once; a revoked token opens nothing"""
    opened = clerk.admin_portal_link_tokens.create_admin_portal_link_token(
        organization_id=S["org"], scopes=["sso", "directory_sync"]
    )
    assert opened.token and opened.organization_id == S["org"] and opened.revoked is False, opened
    page = httpx.get(f"{API_URL}/admin-portal/open/{opened.token}", timeout=10, follow_redirects=True)
    assert page.status_code == 200 and "Acme" in page.text, (page.status_code, page.text[:300])

    token = clerk.admin_portal_link_tokens.create_admin_portal_link_token(organization_id=S["org"], scopes=["sso"])
    revoked = clerk.admin_portal_link_tokens.revoke_admin_portal_link_token(
        admin_portal_link_token_id=token.id, revocation_reason="test"
    )
    assert revoked.revoked is True and revoked.id == token.id, revoked
    page = httpx.get(f"{API_URL}/admin-portal/open/{token.token}", timeout=10, follow_redirects=True)
    assert page.status_code in (401, 403, 404, 410), (page.status_code, page.text[:200])


@check
def delete_everything():
    """scim_directories.delete and enterprise_connections.delete; both are gone afterwards"""
    clerk.scim_directories.delete(scim_directory_id=S["directory"])
    expect_error(lambda: clerk.scim_directories.get(scim_directory_id=S["directory"]), 404)
    for connection in (S["connection"], S["oidc_connection"]):
        deleted = clerk.enterprise_connections.delete(enterprise_connection_id=connection)
        assert deleted.id == connection and deleted.deleted is True, deleted
    expect_error(lambda: clerk.enterprise_connections.get(enterprise_connection_id=S["connection"]), 404)


check.run()
