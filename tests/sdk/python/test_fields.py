"""The field sweep of issue 17 through clerk-backend-api 7.0: the main resources, as Tessera answers them, parse
into the SDK's models (pydantic: a required field missing, or a field of the wrong type, fails). The Python twin of
tests/sdk/js/fields.mjs, which checks presence against what @clerk/backend's fromJSON reads.
"""

import httpx

from clerk_backend_api import models
from clerk_backend_api.utils import unmarshal

from common import API_URL, SECRET_KEY, Checks

check = Checks()
http = httpx.Client(base_url=f"{API_URL}/v1", headers={"Authorization": f"Bearer {SECRET_KEY}"}, timeout=10)

def raw(method: str, path: str, body=None) -> dict:
    r = http.request(method, path, json=body)
    assert r.is_success, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def fields(model, data: dict, where: str) -> None:
    """Parses `data` into `model` and checks that each field the model declares is present."""
    parsed = unmarshal(data, model)
    assert isinstance(parsed, model), where
    # The models' optional fields are UNSET when absent (Clerk leaves them out too): the required ones must be there.
    keys = [f.alias or attr for attr, f in model.model_fields.items() if f.is_required()]
    missing = [k for k in keys if k not in data]
    assert not missing, f"{model.__name__} lacks {missing} ({where}): {data}"


S = {}


@check
def users_and_identifiers():
    """User, EmailAddress, PhoneNumber parse and carry their fields"""
    user = raw("POST", "/users", {"email_address": ["py@example.com"], "phone_number": ["+15555550101"], "first_name": "Py"})
    S["user"] = user
    fields(models.User, user, "POST /users")
    fields(models.EmailAddress, user["email_addresses"][0], "user.email_addresses[0]")
    fields(models.PhoneNumber, user["phone_numbers"][0], "user.phone_numbers[0]")


@check
def organizations_and_role_sets():
    """Organization, OrganizationMembership, OrganizationInvitation, OrganizationSettings, Role, Permission, RoleSet"""
    fields(models.OrganizationSettings, raw("PATCH", "/instance/organization_settings", {"enabled": True}), "settings")
    org = raw("POST", "/organizations", {"name": "Py Org", "created_by": S["user"]["id"]})
    fields(models.Organization, org, "POST /organizations")
    memberships = raw("GET", f"/organizations/{org['id']}/memberships")
    fields(models.OrganizationMembership, memberships["data"][0], "membership")
    inv = raw(
        "POST",
        f"/organizations/{org['id']}/invitations",
        {"email_address": "py-guest@example.com", "role": "org:member", "inviter_user_id": S["user"]["id"]},
    )
    fields(models.OrganizationInvitation, inv, "organization invitation")
    fields(models.Role, raw("GET", "/organization_roles")["data"][0], "role")
    fields(models.Permission, raw("GET", "/organization_permissions")["data"][0], "permission")
    role_set = raw("GET", "/role_sets")["data"][0]
    fields(models.RoleSet, role_set, "role set")
    fields(models.RoleSetItem, role_set["roles"][0], "role set item")


@check
def sessions_and_the_rest():
    """Session, Client, Invitation, lists, Domain, JWT template, redirect URL, tokens, restrictions, machines"""
    session = raw("POST", "/sessions", {"user_id": S["user"]["id"]})
    fields(models.Session, session, "session")
    fields(models.Client, raw("GET", f"/clients/{session['client_id']}"), "client")
    fields(models.Invitation, raw("POST", "/invitations", {"email_address": "py-inv@example.com", "notify": False}), "invitation")
    fields(models.AllowlistIdentifier, raw("POST", "/allowlist_identifiers", {"identifier": "py-ok@example.com", "notify": False}), "allowlist")
    fields(models.BlocklistIdentifier, raw("POST", "/blocklist_identifiers", {"identifier": "py-no@example.com"}), "blocklist")
    fields(models.Domain, raw("GET", "/domains")["data"][0], "domain")
    fields(models.JWTTemplate, raw("POST", "/jwt_templates", {"name": "py", "claims": {"a": 1}}), "jwt template")
    redirect = raw("POST", "/redirect_urls", {"url": "https://py.example.com/cb"})
    fields(models.RedirectURL, redirect, "redirect url")
    fields(models.DeletedObject, raw("DELETE", f"/redirect_urls/{redirect['id']}"), "deleted object")
    fields(models.SignInToken, raw("POST", "/sign_in_tokens", {"user_id": S["user"]["id"]}), "sign-in token")
    fields(models.WaitlistEntry, raw("POST", "/waitlist_entries", {"email_address": "py-wait@example.com"}), "waitlist entry")
    fields(models.InstanceRestrictions, raw("PATCH", "/instance/restrictions", {}), "restrictions")
    fields(models.Machine, raw("POST", "/machines", {"name": "py machine"}), "machine")


check.run()
