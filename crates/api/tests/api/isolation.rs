//! Instance isolation, for every routed operation with a path id: instance B's secret key on instance A's real ids
//! answers 404 — never A's data, never a change to it.
//!
//! The operations are found by asking the server (see [`crate::probe`]), so a newly routed operation is covered
//! automatically. Its path parameters need a fixture in [`FIXTURES`]: a function that creates the resource in
//! instance A and returns its id (see docs/CONVENTIONS.md).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use crate::probe::{self, fill, path_params};

/// What fixtures share: the app (instance A) and the ids created so far, by path-parameter name.
pub struct Fixtures<'a> {
    /// The app; requests use instance A's key by default.
    pub app: &'a TestApp,
    ids: HashMap<&'static str, String>,
    /// Objects fixtures created, by path-parameter name, for fixtures that derive from them.
    pub objects: HashMap<&'static str, Value>,
}

impl Fixtures<'_> {
    /// The id for `param`, created on first use by its fixture.
    pub async fn id(&mut self, param: &str) -> String {
        if let Some(id) = self.ids.get(param) {
            return id.clone();
        }
        let Some((name, fixture)) = FIXTURES.iter().find(|(name, _)| *name == param) else {
            panic!(
                "no isolation fixture for path parameter `{param}`: add a line to FIXTURES in \
                 crates/api/tests/api/isolation.rs with a function that creates this resource in instance A and \
                 returns its id (see docs/CONVENTIONS.md)"
            )
        };
        let id = fixture(self).await;
        self.ids.insert(name, id.clone());
        id
    }

    /// `POST path` with `body` on instance A; the response body (2xx asserted).
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let res = self.app.post(path, body).send().await;
        assert!((200..300).contains(&res.status), "fixture POST {path}: {} {}", res.status, res.json);
        res.json
    }
}

/// A fixture: creates one resource in instance A and returns its id.
pub type Fixture = for<'a, 'b> fn(&'a mut Fixtures<'b>) -> Pin<Box<dyn Future<Output = String> + 'a>>;

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

/// Path-parameter name → fixture. One line per parameter; keep alphabetical.
pub const FIXTURES: &[(&str, Fixture)] = &[
    ("actor_token_id", |f| {
        Box::pin(async move {
            let user = f.id("user_id").await;
            id_of(&f.create("/v1/actor_tokens", json!({ "user_id": user, "actor": { "sub": "user_isolation" } })).await)
        })
    }),
    ("adminPortalLinkTokenID", |f| {
        Box::pin(async move {
            let res = f.app.post("/v1/admin_portal_link_tokens", json!({})).send().await.assert_status(201);
            id_of(&res.json)
        })
    }),
    ("agent_task_id", |f| {
        Box::pin(async move {
            let user = f.id("user_id").await;
            let body = json!({ "on_behalf_of": { "user_id": user }, "permissions": "*", "agent_name": "isolation",
                               "task_description": "isolation", "redirect_url": "http://localhost:3000/" });
            f.create("/v1/agents/tasks", body).await["agent_task_id"].as_str().unwrap().to_owned()
        })
    }),
    ("apiKeyID", |f| {
        Box::pin(async move {
            let user = f.id("user_id").await;
            id_of(&f.create("/v1/api_keys", json!({ "name": "isolation key", "subject": user })).await)
        })
    }),
    ("client_id", |f| {
        Box::pin(async move {
            f.id("session_id").await;
            f.objects["session_id"]["client_id"].as_str().expect("session client_id").to_owned()
        })
    }),
    ("directory_id", |f| {
        Box::pin(async move {
            let ec = f.id("enterprise_connection_id").await;
            id_of(&f.create("/v1/directories", json!({ "enterprise_connection_id": ec, "provider": "okta" })).await)
        })
    }),
    ("discount_id", |f| {
        Box::pin(async move {
            crate::billing::enable(f.app).await;
            crate::billing::discount_id(f.app, "half").await
        })
    }),
    ("domain_id", |f| {
        Box::pin(async move {
            let list = f.app.get("/v1/domains").send().await.assert_status(200).json;
            id_of(&list["data"][0])
        })
    }),
    // Passkeys, external accounts and trusted devices cannot be created through this API yet: a well-formed id
    // under A's real user still must answer 404 to B (the user is A's).
    ("email_address_id", |f| {
        Box::pin(async move {
            f.id("user_id").await;
            id_of(&f.objects["user_id"]["email_addresses"][0])
        })
    }),
    ("enterprise_connection_id", |f| {
        Box::pin(async move {
            let body = json!({ "name": "isolation", "provider": "saml_custom", "domains": ["isolation-ec.example"] });
            let res = f.app.post("/v1/enterprise_connections", body).send().await.assert_status(201);
            id_of(&res.json)
        })
    }),
    ("external_account_id", |_| Box::pin(async { "eac_2x1sOlAtIoNfIxTuReId00000".to_owned() })),
    // `{id}` is the redirect URL's path parameter.
    ("id", |f| {
        Box::pin(async move {
            id_of(&f.create("/v1/redirect_urls", json!({ "url": "https://isolation.example/cb" })).await)
        })
    }),
    // `{identifier_id}` names allow-list and block-list entries alike; an allow-list entry serves both.
    ("identifier_id", |f| {
        Box::pin(async move {
            id_of(&f.create("/v1/allowlist_identifiers", json!({ "identifier": "isolation@allowed.example" })).await)
        })
    }),
    // Also fills the organization-scoped `…/invitations/{invitation_id}` (and `…/domains/{domain_id}` below gets the
    // instance domain): there A's organization already answers 404 to B; isolation of organization invitations
    // and domains themselves is tested in organizations/invitations.rs and organizations/domains.rs.
    ("invitation_id", |f| {
        Box::pin(async move {
            id_of(&f.create("/v1/invitations", json!({ "email_address": "invitee@isolation.example" })).await)
        })
    }),
    ("m2m_token_id", |f| {
        Box::pin(async move {
            f.id("machine_id").await;
            let key = f.objects["machine_id"]["secret_key"].as_str().expect("machine secret key").to_owned();
            let res = f.app.post("/m2m_tokens", json!({})).bearer(&key).send().await.assert_status(201);
            id_of(&res.json)
        })
    }),
    ("machine_id", |f| {
        Box::pin(async move {
            let other = f.id("other_machine_id").await;
            let m = f.create("/v1/machines", json!({ "name": "isolation machine", "scoped_machines": [other] })).await;
            f.objects.insert("machine_id", m.clone());
            id_of(&m)
        })
    }),
    ("mapping_id", |f| {
        Box::pin(async move {
            let d = f.id("directory_id").await;
            let on = json!({ "group_role_mapping_enabled": true });
            f.app.patch(&format!("/v1/directories/{d}"), on).send().await.assert_status(200);
            let role = id_of(&f.create("/v1/organization_roles", json!({ "name": "iso", "key": "org:iso_map" })).await);
            let body = json!({ "directory_group_id": "isolation-group", "role_id": role });
            let path = format!("/v1/directories/{d}/group_role_mappings");
            id_of(&f.app.post(&path, body).api_version("2026-05-12").send().await.assert_status(200).json)
        })
    }),
    ("other_machine_id", |f| {
        Box::pin(async move { id_of(&f.create("/v1/machines", json!({ "name": "isolation callee" })).await) })
    }),
    ("oauth_application_id", |f| {
        Box::pin(async move { id_of(&f.create("/v1/oauth_applications", json!({ "name": "isolation app" })).await) })
    }),
    ("organization_id", |f| {
        Box::pin(async move {
            let user = f.id("user_id").await;
            id_of(&f.create("/v1/organizations", json!({ "name": "Isolation Org", "created_by": user })).await)
        })
    }),
    ("organization_role_id", |f| {
        Box::pin(async move {
            id_of(&f.create("/v1/organization_roles", json!({ "name": "Isolation", "key": "org:isolation" })).await)
        })
    }),
    ("passkey_identification_id", |_| Box::pin(async { "idn_2x1sOlAtIoNpAsSkEy000000".to_owned() })),
    ("permission_id", |f| {
        Box::pin(async move {
            let body = json!({ "name": "Isolation", "key": "org:isolation:read", "description": "isolation" });
            id_of(&f.create("/v1/organization_permissions", body).await)
        })
    }),
    ("phone_number_id", |f| {
        Box::pin(async move {
            let user = f.id("user_id").await;
            id_of(&f.create("/v1/phone_numbers", json!({ "user_id": user, "phone_number": "+15555550123" })).await)
        })
    }),
    ("provider", |_| Box::pin(async { "oauth_google".to_owned() })),
    ("role_set_key_or_id", |f| {
        Box::pin(async move {
            let body = json!({ "name": "Isolation set", "default_role_key": "org:member",
                               "creator_role_key": "org:admin", "roles": ["org:admin", "org:member"] });
            id_of(&f.create("/v1/role_sets", body).await)
        })
    }),
    ("saml_connection_id", |f| {
        Box::pin(async move {
            let body = json!({ "name": "isolation", "provider": "saml_custom", "domain": "isolation-saml.example" });
            id_of(&f.create("/v1/saml_connections", body).await)
        })
    }),
    ("scim_directory_id", |f| {
        Box::pin(async move {
            let ec = f.id("enterprise_connection_id").await;
            id_of(
                &f.create("/v1/scim_directories", json!({ "enterprise_connection_id": ec, "provider": "okta" })).await,
            )
        })
    }),
    ("session_id", |f| {
        Box::pin(async move {
            let user = f.id("user_id").await;
            let s = f.create("/v1/sessions", json!({ "user_id": user })).await;
            f.objects.insert("session_id", s.clone());
            id_of(&s)
        })
    }),
    ("sign_in_token_id", |f| {
        Box::pin(async move {
            let user = f.id("user_id").await;
            id_of(&f.create("/v1/sign_in_tokens", json!({ "user_id": user })).await)
        })
    }),
    ("statementID", |f| {
        Box::pin(async move {
            f.id("subscription_item_id").await;
            let list = f.app.get("/v1/billing/statements").send().await.assert_status(200).json;
            id_of(&list["data"][0])
        })
    }),
    ("subscription_item_id", |f| {
        Box::pin(async move {
            crate::billing::enable(f.app).await;
            let user = f.id("user_id").await;
            let t = crate::billing::transition(f.app, &user, "free_user", "plus").await;
            id_of(&t["subscription_item"])
        })
    }),
    ("template_id", |f| {
        Box::pin(async move {
            id_of(&f.create("/v1/jwt_templates", json!({ "name": "isolation_template", "claims": {} })).await)
        })
    }),
    ("template_name", |f| {
        Box::pin(async move {
            let id = f.id("template_id").await;
            let t = f.app.get(&format!("/v1/jwt_templates/{id}")).send().await.assert_status(200).json;
            t["name"].as_str().expect("template name").to_owned()
        })
    }),
    ("trusted_device_id", |_| Box::pin(async { "td_2x1sOlAtIoNtRuStEd0000000".to_owned() })),
    ("user_id", |f| {
        Box::pin(async move {
            let body = json!({
                "email_address": ["isolation@example.com"],
                "web3_wallet": ["0x0123456789abcdef0123456789abcdef01234567"],
                "password": "isolation password 1",
                "skip_password_checks": true,
                "totp_secret": "AICJ3HCXKO4KOU6NDHU2SXCZNYUN3ZXG",
                "backup_codes": ["aaaa-bbbb"],
            });
            let u = f.create("/v1/users", body).await;
            f.objects.insert("user_id", u.clone());
            id_of(&u)
        })
    }),
    ("waitlist_entry_id", |f| {
        Box::pin(async move {
            id_of(&f.create("/v1/waitlist_entries", json!({ "email_address": "isolation@waitlist.example" })).await)
        })
    }),
    ("web3_wallet_identification_id", |f| {
        Box::pin(async move {
            f.id("user_id").await;
            id_of(&f.objects["user_id"]["web3_wallets"][0])
        })
    }),
];

/// Path parameters that name things every instance has (Email & SMS templates by type and slug), not ids: an
/// operation whose path has only these answers another instance its own object, so it is left out here; the
/// templates tests check that one instance's changes never show in another.
const INSTANCE_NAMES: &[&str] = &["template_type", "slug"];

#[tokio::test]
async fn another_instances_key_never_reaches_an_id() {
    let app = TestApp::new().await;
    let (_, key_b) = app.create_instance(Environment::Development).await;
    probe::enable_features(&app, None).await;
    probe::enable_features(&app, Some(&key_b)).await;
    let ops = probe::routed_with_path_ids(&app).await;
    let ops: Vec<_> =
        ops.into_iter().filter(|op| !path_params(op.path).iter().all(|p| INSTANCE_NAMES.contains(p))).collect();
    let mut fx = Fixtures { app: &app, ids: HashMap::new(), objects: HashMap::new() };
    // Every parameter first, so that a missing fixture is reported before anything else.
    for op in &ops {
        for param in path_params(op.path) {
            fx.id(param).await;
        }
    }
    for op in &ops {
        let path = format!("/v1{}", fill(op.path, |p| fx.ids[p].clone()));
        let res = probe::request(&app, op, &path).bearer(&key_b).send().await;
        assert_eq!(
            (res.status, res.json["errors"].is_array()),
            (404, true),
            "{} {path} with another instance's key must answer 404, got {} {}",
            op.operation_id,
            res.status,
            res.json
        );
    }
    // Nothing B did changed A's objects.
    for (param, path) in [("user_id", "/v1/users"), ("machine_id", "/v1/machines"), ("apiKeyID", "/v1/api_keys")] {
        if let Some(id) = fx.ids.get(param) {
            let res = app.get(&format!("{path}/{id}")).send().await.assert_status(200);
            assert_eq!(res.json["id"], id.as_str());
        }
    }
    let user = &fx.ids["user_id"];
    let res = app.get(&format!("/v1/users/{user}")).send().await.json;
    assert_eq!((&res["banned"], &res["locked"]), (&json!(false), &json!(false)), "{res}");
    assert_eq!(res["password_enabled"], true, "{res}");
}
