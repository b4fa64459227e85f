"""Every Instance Settings, Beta Features and Domains operation through clerk-backend-api.

Usage (run by crates/server/tests/sdk.rs):
    test_instance_settings.py                 set values, read them back, check errors
    test_instance_settings.py --after-restart check that the values set by the first phase survived a restart

Environment: TESSERA_API_URL, TESSERA_SECRET_KEY (a development instance) and TESSERA_PRODUCTION_SECRET_KEY (a
production instance in the same database, for the operations that only production instances have).

The expected values below are shared by both phases, so the second one knows what the first one left behind.
"""

import sys
import warnings

from clerk_backend_api import models

from common import Checks, client, env, expect_error

# `update_production_instance_domain` is deprecated in the SDK; calling it is the point here.
warnings.filterwarnings("ignore", category=DeprecationWarning)

AFTER_RESTART = "--after-restart" in sys.argv[1:]

dev = client()
prod = client(env("TESSERA_PRODUCTION_SECRET_KEY"))
check = Checks()

# --- what the first phase leaves behind -------------------------------------------------------------------------

ALLOWED_ORIGINS = ["chrome-extension://abcdefghijklmnopabcdefghijklmnop", "capacitor://localhost", "http://localhost:3000"]
RESTRICTIONS = {
    "allowlist": True,
    "blocklist": True,
    "allowlist_blocklist_disabled_on_sign_in": True,
    "block_email_subaddresses": True,
    "block_disposable_email_domains": False,
}
PROTECT = {"rules_enabled": True, "specter_enabled": False}
# XK (Kosovo, +383) is no ISO 3166-1 code but a region phone numbers belong to: kept (issue 17).
BLOCKED_COUNTRIES = ["DE", "FR", "XK"]
OAUTH_SETTINGS = {
    "dynamic_oauth_client_registration": True,
    "default_scopes": ["email", "openid", "profile"],
    "oauth_jwt_access_tokens": True,
    "client_id_metadata_documents_advertised": True,
    "client_id_metadata_documents_only_allow_pre_registered_clients": True,
    "client_id_metadata_documents_block_implicitly_allowed_clients": False,
}
ORG_SETTINGS = {
    "enabled": True,
    "max_allowed_memberships": 7,
    "admin_delete_enabled": False,
    "domains_enabled": True,
    "slug_disabled": True,
    "domains_enrollment_modes": ["automatic_invitation", "automatic_suggestion"],
}
BETA_SETTINGS = {"restricted_to_allowlist": True, "from_email_address": "notifications", "progressive_sign_up": False}
DEV_SATELLITE = "satellite-renamed.example.com"
PROD_HOME_HOST = "app.prodtwo.example"  # set with is_secondary=true, so the subdomain is kept


def fields(obj, names):
    """The named attributes of an SDK model as a dict, enums as their values, lists sorted."""
    out = {}
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, list):
            value = sorted(getattr(v, "value", v) for v in value)
        out[name] = getattr(value, "value", value)
    return out


def expect_fields(obj, expected):
    want = {k: sorted(v) if isinstance(v, list) else v for k, v in expected.items()}
    got = fields(obj, expected)
    assert got == want, f"got {got}, want {want}"


def status_of(e) -> int:
    return e.status_code


def clerk_error(fn, statuses):
    """fn must raise the typed ClerkErrors with one of the given statuses; returns the first error entry."""
    e = expect_error(fn, models.ClerkErrors)
    assert status_of(e) in statuses, f"status {status_of(e)}, want one of {statuses}: {e.data}"
    err = e.data.errors[0]
    assert err.code and err.message and err.long_message, e.data
    return err


def primary_domain(domains):
    primaries = [d for d in domains.data if not d.is_satellite]
    assert len(primaries) == 1, f"exactly one primary domain: {domains.data}"
    return primaries[0]


# --- phase 1: drive every operation -------------------------------------------------------------------------------

if not AFTER_RESTART:

    @check
    def get_instance():
        """instance_settings.get: the development and the production instance"""
        d = dev.instance_settings.get()
        assert d.object.value == "instance" and d.id.startswith("ins_"), d
        assert d.environment_type == "development", d
        p = prod.instance_settings.get()
        assert p.environment_type == "production" and p.id != d.id, p

    @check
    def update_instance():
        """instance_settings.update: 204, allowed_origins read back, other instance untouched"""
        before = prod.instance_settings.get().allowed_origins
        result = dev.instance_settings.update(
            request={
                "test_mode": True,
                "hibp": False,
                "support_email": "support@example.com",
                "clerk_js_version": "5",
                "development_origin": "http://localhost:3000",
                "allowed_origins": ALLOWED_ORIGINS,
                "url_based_session_syncing": True,
                "preferred_sign_in_strategy_when_password_required": "otp",
            }
        )
        assert result is None, result
        assert dev.instance_settings.get().allowed_origins == ALLOWED_ORIGINS
        assert prod.instance_settings.get().allowed_origins == before, "instance isolation"
        # An empty PATCH changes nothing.
        assert dev.instance_settings.update(request={}) is None
        assert dev.instance_settings.get().allowed_origins == ALLOWED_ORIGINS

    @check
    def update_restrictions():
        """instance_settings.update_restrictions: all five toggles, then a partial update keeps the rest"""
        first = dict(RESTRICTIONS, blocklist=False, block_disposable_email_domains=True)
        r = dev.instance_settings.update_restrictions(request=first)
        assert r.object.value == "instance_restrictions", r
        expect_fields(r, first)
        r = dev.instance_settings.update_restrictions(request={"blocklist": True, "block_disposable_email_domains": False})
        expect_fields(r, RESTRICTIONS)
        # No GET exists: an empty PATCH is the read.
        expect_fields(dev.instance_settings.update_restrictions(request={}), RESTRICTIONS)
        p = prod.instance_settings.update_restrictions(request={})
        assert fields(p, RESTRICTIONS) != RESTRICTIONS, "instance isolation"

    @check
    def instance_protect():
        """instance_settings.get_instance_protect / update_instance_protect"""
        initial = dev.instance_settings.get_instance_protect()
        assert initial.object.value == "instance_protect", initial
        r = dev.instance_settings.update_instance_protect(request={"rules_enabled": True, "specter_enabled": True})
        expect_fields(r, {"rules_enabled": True, "specter_enabled": True, "checks_bypassed": initial.checks_bypassed})
        r = dev.instance_settings.update_instance_protect(request={"specter_enabled": False})
        expect_fields(r, dict(PROTECT, checks_bypassed=initial.checks_bypassed))
        expect_fields(dev.instance_settings.get_instance_protect(), PROTECT)

    @check
    def communication():
        """instance_settings.get_communication / update_communication: replace, no-op, invalid code"""
        initial = dev.instance_settings.get_communication()
        assert initial.object.value == "instance_communication", initial
        assert initial.blocked_country_codes == [], initial
        r = dev.instance_settings.update_communication(request={"blocked_country_codes": BLOCKED_COUNTRIES})
        expect_fields(r, {"blocked_country_codes": BLOCKED_COUNTRIES})
        r = dev.instance_settings.update_communication(request={})
        expect_fields(r, {"blocked_country_codes": BLOCKED_COUNTRIES})
        clerk_error(lambda: dev.instance_settings.update_communication(request={"blocked_country_codes": ["de"]}), {422})
        # A well-formed code of no country is dropped silently, as the spec says; the rest is stored.
        r = dev.instance_settings.update_communication(request={"blocked_country_codes": ["ZZ", *BLOCKED_COUNTRIES]})
        expect_fields(r, {"blocked_country_codes": BLOCKED_COUNTRIES})
        expect_fields(dev.instance_settings.get_communication(), {"blocked_country_codes": BLOCKED_COUNTRIES})
        assert prod.instance_settings.get_communication().blocked_country_codes == [], "instance isolation"

    @check
    def oauth_application_settings():
        """instance_settings.get_o_auth_application_settings / update_o_auth_application_settings (null resets scopes)"""
        initial = dev.instance_settings.get_o_auth_application_settings()
        assert initial.object.value == "oauth_application_settings", initial
        r = dev.instance_settings.update_o_auth_application_settings(request=OAUTH_SETTINGS)
        expect_fields(r, OAUTH_SETTINGS)
        expect_fields(dev.instance_settings.get_o_auth_application_settings(), OAUTH_SETTINGS)
        r = dev.instance_settings.update_o_auth_application_settings(request={"default_scopes": None})
        assert r.default_scopes == initial.default_scopes, f"reset to defaults: {r.default_scopes}"
        assert r.oauth_jwt_access_tokens is True, "other settings kept"
        r = dev.instance_settings.update_o_auth_application_settings(
            request={"default_scopes": OAUTH_SETTINGS["default_scopes"]}
        )
        expect_fields(r, OAUTH_SETTINGS)

    @check
    def organization_settings():
        """instance_settings.get_organization_settings / update_organization_settings"""
        initial = dev.instance_settings.get_organization_settings()
        assert initial.object.value == "organization_settings", initial
        r = dev.instance_settings.update_organization_settings(request=ORG_SETTINGS)
        expect_fields(r, ORG_SETTINGS)
        expect_fields(dev.instance_settings.get_organization_settings(), ORG_SETTINGS)
        r = dev.instance_settings.update_organization_settings(request={})
        expect_fields(r, ORG_SETTINGS)

    @check
    def beta_instance_settings():
        """beta_features.update_instance_settings: values, null = unchanged, invalid from_email_address"""
        r = dev.beta_features.update_instance_settings(
            request={
                "restricted_to_allowlist": True,
                "from_email_address": "notifications",
                "progressive_sign_up": True,
                "test_mode": True,
            }
        )
        assert r.object.value == "instance_settings", r
        expect_fields(r, dict(BETA_SETTINGS, progressive_sign_up=True))
        # The SDK sends `restricted_to_allowlist: false` unless told otherwise; null means "not provided".
        r = dev.beta_features.update_instance_settings(
            request={"restricted_to_allowlist": None, "progressive_sign_up": False}
        )
        expect_fields(r, BETA_SETTINGS)
        clerk_error(
            lambda: dev.beta_features.update_instance_settings(
                request={"restricted_to_allowlist": None, "from_email_address": "not valid@example.com"}
            ),
            {422},
        )

    @check
    def production_domain_changes():
        """instance_settings.change_domain and beta_features.update_production_instance_domain: 202, primary renamed"""
        assert prod.beta_features.update_production_instance_domain(request={"home_url": "https://prodone.com"}) is None
        assert primary_domain(prod.domains.list()).name == "prodone.com"
        result = prod.instance_settings.change_domain(
            request={"home_url": f"https://{PROD_HOME_HOST}", "is_secondary": True}
        )
        assert result is None, result
        assert primary_domain(prod.domains.list()).name == PROD_HOME_HOST
        assert primary_domain(dev.domains.list()).name != PROD_HOME_HOST, "instance isolation"

    @check
    def domains():
        """domains.list / add / update / delete on the development instance"""
        initial = dev.domains.list()
        assert initial.total_count == len(initial.data) == 1, initial
        primary = primary_domain(initial)
        assert primary.object.value == "domain", primary
        one = dev.domains.add(request={"name": "satellite-one.example.com", "is_satellite": True})
        assert (one.name, one.is_satellite) == ("satellite-one.example.com", True), one
        two = dev.domains.add(request={"name": "satellite-two.example.com", "is_satellite": True})
        listed = dev.domains.list()
        assert listed.total_count == 3 and {d.id for d in listed.data} == {primary.id, one.id, two.id}, listed
        renamed = dev.domains.update(domain_id=one.id, name=DEV_SATELLITE)
        assert (renamed.id, renamed.name, renamed.is_satellite) == (one.id, DEV_SATELLITE, True), renamed
        # proxy_url can be set only on production instances.
        clerk_error(lambda: dev.domains.update(domain_id=one.id, proxy_url="https://proxy.example.com/__clerk"), {400, 422})
        deleted = dev.domains.delete(domain_id=two.id)
        assert (deleted.object, deleted.id, deleted.deleted) == ("domain", two.id, True), deleted
        err = clerk_error(lambda: dev.domains.delete(domain_id=two.id), {404})
        assert err.code == "resource_not_found", err
        clerk_error(lambda: dev.domains.update(domain_id=two.id, name="x.example.com"), {404})
        clerk_error(lambda: dev.domains.delete(domain_id=primary.id), {403})
        # Another instance's domain is not found.
        prod_primary = primary_domain(prod.domains.list())
        clerk_error(lambda: dev.domains.delete(domain_id=prod_primary.id), {404})
        listed = dev.domains.list()
        assert listed.total_count == 2, listed
        assert {d.name for d in listed.data} == {primary.name, DEV_SATELLITE}, listed

    @check
    def production_proxy_url():
        """domains.add / update with proxy_url on a production instance; null clears it"""
        sat = prod.domains.add(
            request={"name": "sat.prodtwo.example", "is_satellite": True, "proxy_url": "https://sat.prodtwo.example/__clerk"}
        )
        assert sat.proxy_url == "https://sat.prodtwo.example/__clerk", sat
        updated = prod.domains.update(domain_id=sat.id, proxy_url="https://proxy.prodtwo.example/__clerk")
        assert updated.proxy_url == "https://proxy.prodtwo.example/__clerk", updated
        cleared = prod.domains.update(domain_id=sat.id, proxy_url=None)
        assert cleared.proxy_url is None, cleared
        assert prod.domains.delete(domain_id=sat.id).deleted is True
        assert DEV_SATELLITE not in {d.name for d in prod.domains.list().data}, "instance isolation"


# --- phase 2: the same database after a restart -------------------------------------------------------------------

else:

    @check
    def persisted_instance():
        """after restart: allowed_origins"""
        assert dev.instance_settings.get().allowed_origins == ALLOWED_ORIGINS

    @check
    def persisted_restrictions():
        """after restart: restrictions"""
        expect_fields(dev.instance_settings.update_restrictions(request={}), RESTRICTIONS)

    @check
    def persisted_protect():
        """after restart: protect"""
        expect_fields(dev.instance_settings.get_instance_protect(), PROTECT)

    @check
    def persisted_communication():
        """after restart: communication"""
        expect_fields(dev.instance_settings.get_communication(), {"blocked_country_codes": BLOCKED_COUNTRIES})

    @check
    def persisted_oauth_settings():
        """after restart: OAuth application settings"""
        expect_fields(dev.instance_settings.get_o_auth_application_settings(), OAUTH_SETTINGS)

    @check
    def persisted_organization_settings():
        """after restart: organization settings"""
        expect_fields(dev.instance_settings.get_organization_settings(), ORG_SETTINGS)

    @check
    def persisted_beta_settings():
        """after restart: beta instance settings"""
        r = dev.beta_features.update_instance_settings(request={"restricted_to_allowlist": None})
        expect_fields(r, BETA_SETTINGS)

    @check
    def persisted_domains():
        """after restart: domains of both instances"""
        names = {d.name for d in dev.domains.list().data}
        assert DEV_SATELLITE in names and len(names) == 2, names
        assert primary_domain(prod.domains.list()).name == PROD_HOME_HOST


if __name__ == "__main__":
    check.run()
