//! API Keys: `/api_keys…`, with and without `/v1`. Request errors are 400 (the spec declares no 422 here), create
//! answers 201 (a documented deviation), and invalid secrets are 404 on verify.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

mod lifecycle;
mod verify;

const USER: &str = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk";
const ORG: &str = "org_2xhFjEI5X2qWRvtV13BzSj8H6Dk";
const MACHINE: &str = "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk";
const START: i64 = 1_750_000_000_000;
/// Both layouts: the Python/Rust SDKs call `/v1/api_keys…`, `@clerk/backend` calls `/api_keys…`.
const PREFIXES: [&str; 2] = ["/v1", ""];

/// Creates a key and returns the 201 body.
async fn create(app: &TestApp, body: Value) -> Value {
    app.post("/v1/api_keys", body).send().await.assert_status(201).json
}

/// Creates a key `name` for `subject` with no options.
async fn create_named(app: &TestApp, subject: &str, name: &str) -> Value {
    create(app, json!({ "name": name, "subject": subject })).await
}

/// The app with a user whose id is [`USER`] in its first instance: API-key subjects of the `user_` kind must
/// exist in the instance. Seeded through the store, because the API does not let a client choose a user id.
async fn with_user(app: TestApp) -> TestApp {
    let row = tessera_core::store::users::UserRow {
        id: USER.into(),
        instance_id: app.instance.id.clone(),
        public_metadata: "{}".into(),
        private_metadata: "{}".into(),
        unsafe_metadata: "{}".into(),
        ..Default::default()
    };
    let mut tx = app.ctx().db.begin().await.unwrap();
    tessera_core::store::users::insert(&mut tx, &row).await.unwrap();
    tx.commit().await.unwrap();
    app
}

fn ids(list: &Value) -> Vec<&str> {
    list["data"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn create_answers_201_with_every_field_and_the_secret() {
    let app = with_user(TestApp::with_clock(START).await).await;
    for prefix in PREFIXES {
        let r = app
            .post(&format!("{prefix}/api_keys"), json!({ "name": "my service", "subject": USER }))
            .send()
            .await
            .assert_status(201);
        let key = r.json.as_object().unwrap();
        let id = key["id"].as_str().unwrap();
        assert!(tessera_core::ids::is_hex_id(id, "ak"), "{id}");
        let secret = key["secret"].as_str().unwrap();
        assert!(secret.starts_with("ak_") && secret.len() >= 3 + 32 && secret != id, "{secret}");
        assert_eq!(key["object"], "api_key");
        assert_eq!(key["type"], "api_key");
        assert_eq!(key["subject"], USER);
        assert_eq!(key["name"], "my service");
        assert_eq!(key["scopes"], json!([]));
        assert_eq!((key["revoked"].clone(), key["expired"].clone()), (json!(false), json!(false)));
        // Required but nullable: present, as null (Python and Rust reject a missing key).
        for field in ["description", "claims", "revocation_reason", "expiration", "created_by", "last_used_at"] {
            assert_eq!(key.get(field), Some(&Value::Null), "{field}");
        }
        assert_eq!((key["created_at"].as_i64(), key["updated_at"].as_i64()), (Some(START), Some(START)));
    }
}

#[tokio::test]
async fn create_takes_every_optional_field() {
    let app = with_user(TestApp::with_clock(START).await).await;
    let key = create(
        &app,
        json!({
            "type": "api_key",
            "name": "Billing worker",
            "subject": ORG,
            "description": "Reads invoices",
            "claims": { "tier": "gold", "nested": { "camelCase": 1 } },
            "scopes": ["read:invoices", "write:invoices"],
            "created_by": USER,
            "seconds_until_expiration": 3600,
        }),
    )
    .await;
    assert_eq!(key["subject"], ORG);
    assert_eq!(key["description"], "Reads invoices");
    assert_eq!(key["claims"], json!({ "tier": "gold", "nested": { "camelCase": 1 } }));
    assert_eq!(key["scopes"], json!(["read:invoices", "write:invoices"]));
    assert_eq!(key["created_by"], USER);
    assert_eq!(key["expiration"].as_i64(), Some(START + 3_600_000));
    // Fractions of a second count too.
    let machine = app.post("/v1/machines", json!({ "name": "biller" })).send().await.assert_status(200).json;
    let key = create(&app, json!({ "name": "short", "subject": machine["id"], "seconds_until_expiration": 1.5 })).await;
    assert_eq!(key["expiration"].as_i64(), Some(START + 1_500));
    // `@clerk/backend` sends explicit nulls for options the caller left out.
    let key = create(
        &app,
        json!({ "name": "js style", "subject": USER, "description": null, "claims": null, "scopes": null,
                "created_by": null, "seconds_until_expiration": null, "type": null }),
    )
    .await;
    assert_eq!(
        (key["expiration"].clone(), key["scopes"].clone(), key["type"].clone()),
        (Value::Null, json!([]), json!("api_key"))
    );
    // Another type is kept as given.
    let key = create(&app, json!({ "name": "typed", "subject": USER, "type": "service_key" })).await;
    assert_eq!(key["type"], "service_key");
}

#[tokio::test]
async fn create_rejects_bad_bodies_with_400_naming_the_parameter() {
    let app = with_user(TestApp::new().await).await;
    let long = "x".repeat(256);
    let cases = [
        (json!({}), "name"),
        (json!({ "subject": USER }), "name"),
        (json!({ "name": "valid" }), "subject"),
        (json!({ "name": null, "subject": USER }), "name"),
        (json!({ "name": 5, "subject": USER }), "name"),
        (json!({ "name": "ab", "subject": USER }), "name"),
        (json!({ "name": " padded", "subject": USER }), "name"),
        (json!({ "name": "two\nlines", "subject": USER }), "name"),
        (json!({ "name": "valid", "subject": "user_123" }), "subject"),
        (json!({ "name": "valid", "subject": "sess_2xhFjEI5X2qWRvtV13BzSj8H6Dk" }), "subject"),
        // Allowed by the request pattern, but no response schema can show a `scim_` subject.
        (json!({ "name": "valid", "subject": "scim_2xhFjEI5X2qWRvtV13BzSj8H6Dk" }), "subject"),
        (json!({ "name": "valid", "subject": USER, "scopes": "read" }), "scopes"),
        (json!({ "name": "valid", "subject": USER, "scopes": [1] }), "scopes[0]"),
        (json!({ "name": "valid", "subject": USER, "claims": "x" }), "claims"),
        (json!({ "name": "valid", "subject": USER, "claims": [1, 2] }), "claims"),
        (json!({ "name": "valid", "subject": USER, "seconds_until_expiration": 0 }), "seconds_until_expiration"),
        (json!({ "name": "valid", "subject": USER, "seconds_until_expiration": -60 }), "seconds_until_expiration"),
        (json!({ "name": "valid", "subject": USER, "seconds_until_expiration": "60" }), "seconds_until_expiration"),
        (json!({ "name": "valid", "subject": USER, "seconds_until_expiration": 1e300 }), "seconds_until_expiration"),
        (json!({ "name": "valid", "subject": USER, "description": long }), "description"),
        (json!({ "name": "valid", "subject": USER, "created_by": ORG }), "created_by"),
        (json!({ "name": "valid", "subject": USER, "type": "ab" }), "type"),
        (json!({ "name": "valid", "subject": USER, "type": "t".repeat(26) }), "type"),
        (json!({ "name": "valid", "subject": USER, "secret": "ak_mine" }), "secret"),
        (json!({ "name": "valid", "subject": USER, "expiration": 1 }), "expiration"),
    ];
    for (body, param) in cases {
        let r = app.post("/api_keys", body.clone()).send().await;
        assert_eq!(r.status, 400, "{body}: {}", r.json);
        r.assert_error(400, "bad_request", Some(param));
    }
    // Several problems are reported together.
    let r = app
        .post("/api_keys", json!({ "name": "ab", "subject": "nobody", "description": long }))
        .send()
        .await
        .assert_error(400, "bad_request", None);
    let mut params: Vec<&str> =
        r.json["errors"].as_array().unwrap().iter().map(|e| e["meta"]["param_name"].as_str().unwrap()).collect();
    params.sort_unstable();
    assert_eq!(params, ["description", "name", "subject"]);
    // Not JSON at all.
    app.request(axum::http::Method::POST, "/api_keys").raw("{", "application/json").send().await.assert_error(
        400,
        "request_body_invalid",
        None,
    );
    // Nothing was created.
    let list = app.get(&format!("/api_keys?subject={USER}&include_invalid=true")).send().await.assert_status(200);
    assert_eq!(list.json["total_count"], 0);
}

#[tokio::test]
async fn get_returns_the_key_without_its_secret() {
    let app = with_user(TestApp::with_clock(START).await).await;
    let created = create_named(&app, USER, "fetch me").await;
    let id = created["id"].as_str().unwrap();
    for prefix in PREFIXES {
        let key = app.get(&format!("{prefix}/api_keys/{id}")).send().await.assert_status(200).json;
        assert!(key.get("secret").is_none(), "{key}");
        let mut expected = created.clone();
        expected.as_object_mut().unwrap().remove("secret");
        assert_eq!(key, expected);
    }
    // The spec's alias prefix and upper-case hex name the same key.
    let alias = format!("api_key_{}", id["ak_".len()..].to_ascii_uppercase());
    assert_eq!(app.get(&format!("/api_keys/{alias}")).send().await.assert_status(200).json["id"], id);
}

#[tokio::test]
async fn unknown_or_malformed_ids_are_404_on_every_operation() {
    let app = with_user(TestApp::new().await).await;
    for id in ["ak_00000000000000000000000000000000", "ak_nothex", "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "verify"] {
        for prefix in PREFIXES {
            let base = format!("{prefix}/api_keys/{id}");
            app.get(&base).send().await.assert_error(404, "resource_not_found", None);
            app.patch(&base, json!({ "scopes": [] })).send().await.assert_error(404, "resource_not_found", None);
            app.delete(&base).send().await.assert_error(404, "resource_not_found", None);
            if id != "verify" {
                app.get(&format!("{base}/secret")).send().await.assert_error(404, "resource_not_found", None);
                app.post(&format!("{base}/revoke"), json!({})).send().await.assert_error(
                    404,
                    "resource_not_found",
                    None,
                );
            }
        }
    }
}

#[tokio::test]
async fn list_is_per_subject_newest_first_and_paged() {
    let app = with_user(TestApp::with_clock(START).await).await;
    let mut mine = Vec::new();
    for name in ["alpha key", "beta key", "Gamma Key"] {
        mine.push(create_named(&app, USER, name).await["id"].as_str().unwrap().to_owned());
        app.clock.advance_ms(1000);
    }
    create_named(&app, ORG, "org key").await;
    mine.reverse();
    for prefix in PREFIXES {
        let r = app.get(&format!("{prefix}/api_keys?subject={USER}")).send().await.assert_status(200);
        assert_eq!(ids(&r.json), mine);
        assert_eq!(r.json["total_count"], 3);
        assert!(r.json["data"][0].get("secret").is_none());
    }
    // What the Python SDK sends: floats and explicit defaults.
    let r = app
        .get(&format!("/v1/api_keys?subject={USER}&type=api_key&include_invalid=false&limit=10.0&offset=0.0"))
        .send()
        .await
        .assert_status(200);
    assert_eq!(ids(&r.json), mine);
    let page = app.get(&format!("/api_keys?subject={USER}&limit=2")).send().await.assert_status(200).json;
    assert_eq!(ids(&page), mine[..2]);
    assert_eq!(page["total_count"], 3);
    let page = app.get(&format!("/api_keys?subject={USER}&limit=2&offset=2")).send().await.assert_status(200).json;
    assert_eq!(ids(&page), mine[2..]);
    assert_eq!(page["total_count"], 3);
    // `query`: case-insensitive part of the name, or the exact id; LIKE wildcards are literal.
    let found = app.get(&format!("/api_keys?subject={USER}&query=GAMMA")).send().await.assert_status(200).json;
    assert_eq!((ids(&found), found["total_count"].as_i64()), (vec![mine[0].as_str()], Some(1)));
    let found = app.get(&format!("/api_keys?subject={USER}&query={}", mine[2])).send().await.assert_status(200).json;
    assert_eq!(ids(&found), vec![mine[2].as_str()]);
    let found = app.get(&format!("/api_keys?subject={USER}&query=%25")).send().await.assert_status(200).json;
    assert_eq!(found["total_count"], 0);
    // `type` filters; other subjects see nothing of these keys.
    let typed = create(&app, json!({ "name": "typed key", "subject": USER, "type": "service_key" })).await;
    let r = app.get(&format!("/api_keys?subject={USER}&type=service_key")).send().await.assert_status(200).json;
    assert_eq!(ids(&r), vec![typed["id"].as_str().unwrap()]);
    assert_eq!(app.get(&format!("/api_keys?subject={USER}")).send().await.json["total_count"], 3);
    assert_eq!(app.get(&format!("/api_keys?subject={MACHINE}")).send().await.json["total_count"], 0);
    // A SCIM directory may be listed (the query pattern allows it) and owns nothing.
    let r = app.get("/api_keys?subject=scim_2xhFjEI5X2qWRvtV13BzSj8H6Dk").send().await.assert_status(200);
    assert_eq!(r.json, json!({ "data": [], "total_count": 0 }));
}

#[tokio::test]
async fn list_rejects_bad_queries_with_400() {
    let app = with_user(TestApp::new().await).await;
    for prefix in PREFIXES {
        app.get(&format!("{prefix}/api_keys")).send().await.assert_error(400, "query_param_missing", Some("subject"));
        app.get(&format!("{prefix}/api_keys?subject=")).send().await.assert_error(
            400,
            "query_param_missing",
            Some("subject"),
        );
    }
    let cases = [
        ("subject=user_123", "subject"),
        ("subject=nobody", "subject"),
        (&format!("subject={USER}&limit=101") as &str, "limit"),
        (&format!("subject={USER}&limit=0"), "limit"),
        (&format!("subject={USER}&limit=1.5"), "limit"),
        (&format!("subject={USER}&offset=-1"), "offset"),
        (&format!("subject={USER}&include_invalid=maybe"), "include_invalid"),
        (&format!("subject={USER}&type=ab"), "type"),
    ];
    for (query, param) in cases {
        let r = app.get(&format!("/api_keys?{query}")).send().await;
        assert_eq!(r.status, 400, "{query}: {}", r.json);
        r.assert_error(400, "query_param_invalid", Some(param));
    }
    app.get(&format!("/api_keys?subject={USER}&limit=100")).send().await.assert_status(200);
}

#[tokio::test]
async fn list_hides_revoked_and_expired_keys_unless_asked() {
    let app = with_user(TestApp::with_clock(START).await).await;
    let valid = create_named(&app, USER, "still valid").await;
    app.clock.advance_ms(1);
    let expiring = create(&app, json!({ "name": "expiring", "subject": USER, "seconds_until_expiration": 60 })).await;
    app.clock.advance_ms(1);
    let revoked = create_named(&app, USER, "revoked one").await;
    app.post(&format!("/api_keys/{}/revoke", revoked["id"].as_str().unwrap()), json!({}))
        .send()
        .await
        .assert_status(200);
    let valid_id = valid["id"].as_str().unwrap();
    let r = app.get(&format!("/api_keys?subject={USER}")).send().await.assert_status(200).json;
    assert_eq!(ids(&r), vec![expiring["id"].as_str().unwrap(), valid_id]);
    app.clock.advance_ms(60_000);
    let r = app.get(&format!("/api_keys?subject={USER}")).send().await.assert_status(200).json;
    assert_eq!((ids(&r), r["total_count"].as_i64()), (vec![valid_id], Some(1)));
    let all = app.get(&format!("/api_keys?subject={USER}&include_invalid=true")).send().await.assert_status(200).json;
    assert_eq!(all["total_count"], 3);
    let flags: Vec<(bool, bool)> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["revoked"].as_bool().unwrap(), k["expired"].as_bool().unwrap()))
        .collect();
    assert_eq!(flags, [(true, false), (false, true), (false, false)]);
}

#[tokio::test]
async fn requests_without_the_instance_secret_key_are_401() {
    let app = with_user(TestApp::new().await).await;
    let key = create_named(&app, USER, "guarded").await;
    for prefix in PREFIXES {
        app.get(&format!("{prefix}/api_keys?subject={USER}")).anonymous().send().await.assert_error(
            401,
            "clerk_key_invalid",
            None,
        );
        // An API-key secret is not an instance secret key.
        app.post(&format!("{prefix}/api_keys/verify"), json!({ "secret": key["secret"] }))
            .bearer(key["secret"].as_str().unwrap())
            .send()
            .await
            .assert_error(401, "clerk_key_invalid", None);
    }
}

#[tokio::test]
async fn another_instance_cannot_see_or_touch_the_keys() {
    let app = with_user(TestApp::new().await).await;
    let key = create(&app, json!({ "name": "tenant one", "subject": USER, "scopes": ["a"] })).await;
    let (id, secret) = (key["id"].as_str().unwrap(), key["secret"].as_str().unwrap());
    let (_, other) = app.create_instance(Environment::Development).await;
    for prefix in PREFIXES {
        let base = format!("{prefix}/api_keys/{id}");
        let not_found = |r: tessera_testkit::TestResponse| r.assert_error(404, "resource_not_found", None);
        not_found(app.get(&base).bearer(&other).send().await);
        not_found(app.get(&format!("{base}/secret")).bearer(&other).send().await);
        not_found(app.patch(&base, json!({ "scopes": ["stolen"] })).bearer(&other).send().await);
        not_found(app.post(&format!("{base}/revoke"), json!({})).bearer(&other).send().await);
        not_found(app.delete(&base).bearer(&other).send().await);
        not_found(
            app.post(&format!("{prefix}/api_keys/verify"), json!({ "secret": secret })).bearer(&other).send().await,
        );
        let list =
            app.get(&format!("{prefix}/api_keys?subject={USER}&include_invalid=true")).bearer(&other).send().await;
        assert_eq!(list.assert_status(200).json["total_count"], 0);
    }
    // The owner's key is untouched and still verifies.
    let mine = app.post("/api_keys/verify", json!({ "secret": secret })).send().await.assert_status(200).json;
    assert_eq!((mine["revoked"].clone(), mine["scopes"].clone()), (json!(false), json!(["a"])));
    // The other instance's own keys live beside them without mixing.
    let their_user = app.post("/v1/users", json!({})).bearer(&other).send().await.assert_status(200).json;
    let body = json!({ "name": "tenant two", "subject": their_user["id"] });
    let theirs = app.post("/api_keys", body).bearer(&other).send().await;
    let theirs = theirs.assert_status(201).json;
    let list = app.get(&format!("/api_keys?subject={USER}")).send().await.assert_status(200).json;
    assert_eq!(ids(&list), vec![id]);
    let r = app.post("/api_keys/verify", json!({ "secret": theirs["secret"] })).send().await;
    r.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn secrets_are_stored_only_as_digest_and_sealed() {
    let app = with_user(TestApp::new().await).await;
    let mut secrets = Vec::new();
    for name in ["first key", "second key"] {
        let key = create(&app, json!({ "name": name, "subject": USER, "claims": { "k": "v" } })).await;
        secrets.push(key["secret"].as_str().unwrap().to_owned());
    }
    let rows = tessera_core::store::api_keys::stored(&app.ctx().db, &app.instance.id).await.unwrap();
    assert_eq!(rows.len(), 2);
    for (row, secret) in rows.iter().zip(&secrets) {
        assert_eq!(row.secret_hash, app.ctx().secrets.digest(secret));
        assert_eq!(app.ctx().secrets.open_string("api_key", &row.secret_sealed).unwrap(), *secret);
        let k = &row.key;
        let mut stored: Vec<u8> = [&k.id, &k.instance_id, &k.key_type, &k.subject, &k.name, &k.scopes]
            .iter()
            .flat_map(|s| s.as_bytes().to_vec())
            .collect();
        for s in [&k.description, &k.claims, &k.revocation_reason, &k.created_by].into_iter().flatten() {
            stored.extend_from_slice(s.as_bytes());
        }
        stored.extend_from_slice(&row.secret_hash);
        stored.extend_from_slice(&row.secret_sealed);
        for secret in &secrets {
            let random = &secret["ak_".len()..];
            let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
            for needle in [secret.as_bytes(), random.as_bytes(), &random.as_bytes()[..16], hex.as_bytes()] {
                assert!(!stored.windows(needle.len()).any(|w| w == needle), "secret bytes found in a stored row");
            }
        }
    }
}

#[tokio::test]
async fn a_machine_subject_must_exist_in_the_instance() {
    let app = with_user(TestApp::new().await).await;
    app.post("/v1/api_keys", json!({ "name": "ghost", "subject": MACHINE })).send().await.assert_error(
        400,
        "bad_request",
        Some("subject"),
    );
    // A machine of another instance is not one of this instance's machines.
    let (_, other_key) = app.create_instance(tessera_core::instances::Environment::Development).await;
    let theirs = app.post("/v1/machines", json!({ "name": "theirs" })).bearer(&other_key).send().await.json;
    app.post("/v1/api_keys", json!({ "name": "cross", "subject": theirs["id"] })).send().await.assert_error(
        400,
        "bad_request",
        Some("subject"),
    );
    let mine = app.post("/v1/machines", json!({ "name": "mine" })).send().await.json;
    app.post("/v1/api_keys", json!({ "name": "mine", "subject": mine["id"] })).send().await.assert_status(201);
}

#[tokio::test]
async fn user_subjects_must_exist_in_the_instance() {
    let app = TestApp::new().await;
    let unknown = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk";
    let r = app.post("/v1/api_keys", json!({ "name": "nobody's", "subject": unknown })).send().await;
    r.assert_error(400, "bad_request", Some("subject"));
    let (_, other) = app.create_instance(Environment::Development).await;
    let theirs = app.post("/v1/users", json!({})).bearer(&other).send().await.assert_status(200).json;
    let r = app.post("/v1/api_keys", json!({ "name": "not mine", "subject": theirs["id"] })).send().await;
    r.assert_error(400, "bad_request", Some("subject"));
    let mine = app.post("/v1/users", json!({})).send().await.assert_status(200).json;
    let key = create(&app, json!({ "name": "mine", "subject": mine["id"] })).await;
    assert_eq!(key["subject"], mine["id"]);
}
