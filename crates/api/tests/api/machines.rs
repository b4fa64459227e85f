//! Machines: CRUD, list search/order/paging, secret key and rotation, scopes, instance isolation.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

/// Start of the manual clock in tests that move time.
pub const T0: i64 = 1_750_000_000_000;

/// Creates a machine through the API; returns its JSON (with `secret_key`).
pub async fn create_machine(app: &TestApp, body: Value) -> Value {
    app.post("/v1/machines", body).send().await.assert_status(200).json
}

/// Creates a machine named `name`; returns `(id, secret key)`.
pub async fn machine(app: &TestApp, name: &str) -> (String, String) {
    let m = create_machine(app, json!({ "name": name })).await;
    (m["id"].as_str().unwrap().to_owned(), m["secret_key"].as_str().unwrap().to_owned())
}

/// Lets `from` call `to`.
pub async fn add_scope(app: &TestApp, from: &str, to: &str) {
    app.post(&format!("/v1/machines/{from}/scopes"), json!({ "to_machine_id": to })).send().await.assert_status(200);
}

/// Whether a machine secret key is accepted (through an endpoint that takes machine keys).
pub async fn machine_key_works(app: &TestApp, machine_id: &str, key: &str) -> bool {
    let r = app.get(&format!("/m2m_tokens?subject={machine_id}")).bearer(key).send().await;
    match r.status {
        200 => true,
        401 => {
            assert_eq!(r.error_code(), "machine_secret_key_invalid", "{}", r.json);
            false
        }
        other => panic!("unexpected status {other}: {}", r.json),
    }
}

fn ids(list: &Value) -> Vec<&str> {
    list["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn create_get_update_delete() {
    let app = TestApp::new().await;
    let a = create_machine(&app, json!({ "name": "Alpha" })).await;
    let a_id = a["id"].as_str().unwrap();
    assert!(tessera_core::ids::is_ksuid_id(a_id, "mch"), "{a_id}");
    assert_eq!(a["object"], "machine");
    assert_eq!(a["name"], "Alpha");
    assert_eq!(a["instance_id"], app.instance.id.as_str());
    assert_eq!(a["default_token_ttl"], 3600);
    assert_eq!(a["scoped_machines"], json!([]));
    let secret = a["secret_key"].as_str().unwrap();
    assert!(secret.starts_with("ak_") && secret.len() >= 3 + 32, "{secret}");

    let b =
        create_machine(&app, json!({ "name": "Beta", "scoped_machines": [a_id, a_id], "default_token_ttl": 60 })).await;
    assert_eq!(b["default_token_ttl"], 60);
    let scoped = b["scoped_machines"].as_array().unwrap();
    assert_eq!(scoped.len(), 1, "duplicates are ignored: {b}");
    assert_eq!(scoped[0]["id"], a_id);
    assert_eq!(scoped[0]["object"], "machine");
    assert_eq!(scoped[0]["name"], "Alpha");
    assert!(scoped[0].get("scoped_machines").is_none());

    let got = app.get(&format!("/v1/machines/{a_id}")).send().await.assert_status(200).json;
    assert!(got.get("secret_key").is_none(), "the secret is only in the creation answer: {got}");
    assert_eq!(got["name"], "Alpha");
    assert_eq!(got["created_at"], a["created_at"]);

    let updated =
        app.patch(&format!("/v1/machines/{a_id}"), json!({ "name": "Alpha 2" })).send().await.assert_status(200).json;
    assert_eq!(updated["name"], "Alpha 2");
    assert_eq!(updated["default_token_ttl"], 3600, "only the given fields change");
    let updated = app
        .patch(&format!("/v1/machines/{a_id}"), json!({ "default_token_ttl": 7200, "name": null }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((updated["name"].as_str(), updated["default_token_ttl"].as_i64()), (Some("Alpha 2"), Some(7200)));
    let same = app.patch(&format!("/v1/machines/{a_id}"), json!({})).send().await.assert_status(200).json;
    assert_eq!(same, updated);
    // An empty body (as `@clerk/backend` sends on bodiless calls) counts as `{}`.
    app.request(axum::http::Method::PATCH, &format!("/v1/machines/{a_id}"))
        .raw("", "application/json")
        .send()
        .await
        .assert_status(200);

    let deleted = app.delete(&format!("/v1/machines/{a_id}")).send().await.assert_status(200).json;
    assert_eq!(deleted, json!({ "object": "machine", "id": a_id, "deleted": true }));
    app.get(&format!("/v1/machines/{a_id}")).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&format!("/v1/machines/{a_id}")).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&format!("/v1/machines/{a_id}"), json!({ "name": "x" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    // Deleting a machine removes the scopes pointing at it.
    let b_id = b["id"].as_str().unwrap();
    let b = app.get(&format!("/v1/machines/{b_id}")).send().await.assert_status(200).json;
    assert_eq!(b["scoped_machines"], json!([]));
}

#[tokio::test]
async fn create_and_update_reject_invalid_bodies() {
    let app = TestApp::new().await;
    let (a, _) = machine(&app, "a").await;
    for (body, code, param) in [
        (json!({}), "form_param_missing", "name"),
        (json!({ "name": "" }), "form_param_format_invalid", "name"),
        (json!({ "name": "  " }), "form_param_format_invalid", "name"),
        (json!({ "name": "x".repeat(256) }), "form_param_format_invalid", "name"),
        (json!({ "name": 5 }), "form_param_format_invalid", "name"),
        (json!({ "name": "n", "default_token_ttl": 0 }), "form_param_format_invalid", "default_token_ttl"),
        (json!({ "name": "n", "default_token_ttl": 315_360_001 }), "form_param_format_invalid", "default_token_ttl"),
        (json!({ "name": "n", "default_token_ttl": "60" }), "form_param_format_invalid", "default_token_ttl"),
        (json!({ "name": "n", "scoped_machines": "mch_x" }), "form_param_format_invalid", "scoped_machines"),
        (
            json!({ "name": "n", "scoped_machines": [a, "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk"] }),
            "form_param_value_invalid",
            "scoped_machines",
        ),
    ] {
        app.post("/v1/machines", body).send().await.assert_error(422, code, Some(param));
    }
    let too_many: Vec<String> = (0..151).map(|i| format!("mch_{i:027}")).collect();
    app.post("/v1/machines", json!({ "name": "n", "scoped_machines": too_many })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("scoped_machines"),
    );
    app.request(axum::http::Method::POST, "/v1/machines")
        .raw("{\"name\":", "application/json")
        .send()
        .await
        .assert_error(400, "request_body_invalid", None);
    // The largest allowed TTL and a 255-character name are fine.
    create_machine(&app, json!({ "name": "é".repeat(255), "default_token_ttl": 315_360_000 })).await;

    for (body, param) in [
        (json!({ "name": "" }), "name"),
        (json!({ "default_token_ttl": 0 }), "default_token_ttl"),
        (json!({ "default_token_ttl": 1.5 }), "default_token_ttl"),
    ] {
        app.patch(&format!("/v1/machines/{a}"), body).send().await.assert_error(
            422,
            "form_param_format_invalid",
            Some(param),
        );
    }
    // Nothing was created by the rejected requests.
    let list = app.get("/v1/machines").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 2);
}

#[tokio::test]
async fn list_searches_orders_and_pages() {
    let app = TestApp::with_clock(T0).await;
    let mut created = Vec::new();
    for name in ["bravo", "Alpha", "charlie 100%", "alphabet"] {
        created.push(machine(&app, name).await.0);
        app.clock.advance_ms(1000);
    }
    let [bravo, alpha, charlie, alphabet] = [&created[0], &created[1], &created[2], &created[3]];

    let all = app.get("/v1/machines").send().await.assert_status(200).json;
    assert_eq!(all["total_count"], 4);
    assert_eq!(ids(&all), [alphabet, charlie, alpha, bravo], "default order is -created_at");
    let asc = app.get("/v1/machines?order_by=created_at").send().await.assert_status(200).json;
    assert_eq!(ids(&asc), [bravo, alpha, charlie, alphabet]);
    let by_name = app.get("/v1/machines?order_by=%2Bname").send().await.assert_status(200).json;
    assert_eq!(ids(&by_name), [alpha, alphabet, bravo, charlie], "names order case-insensitively");
    let by_name_desc = app.get("/v1/machines?order_by=-name").send().await.assert_status(200).json;
    assert_eq!(ids(&by_name_desc), [charlie, bravo, alphabet, alpha]);

    let q = app.get("/v1/machines?query=ALPHA&order_by=name").send().await.assert_status(200).json;
    assert_eq!((ids(&q), q["total_count"].as_i64()), (vec![alpha.as_str(), alphabet], Some(2)));
    let q = app.get(&format!("/v1/machines?query={bravo}")).send().await.assert_status(200).json;
    assert_eq!(ids(&q), [bravo], "exact id match");
    let q = app.get(&format!("/v1/machines?query={}", &bravo[..10])).send().await.assert_status(200).json;
    assert_eq!(q["total_count"], 0, "ids match exactly, not partially");
    let q = app.get("/v1/machines?query=100%25").send().await.assert_status(200).json;
    assert_eq!(ids(&q), [charlie], "% is taken literally");
    let q = app.get("/v1/machines?query=_").send().await.assert_status(200).json;
    assert_eq!(q["total_count"], 0, "_ is taken literally");
    let q = app.get("/v1/machines?query=").send().await.assert_status(200).json;
    assert_eq!(q["total_count"], 4, "an empty query filters nothing");

    let page = app.get("/v1/machines?limit=2&offset=1").send().await.assert_status(200).json;
    assert_eq!((ids(&page), page["total_count"].as_i64()), (vec![charlie.as_str(), alpha], Some(4)));
    let page = app.get("/v1/machines?limit=2.0&offset=4").send().await.assert_status(200).json;
    assert_eq!((ids(&page).len(), page["total_count"].as_i64()), (0, Some(4)));

    app.get("/v1/machines?order_by=-secret").send().await.assert_error(400, "query_param_invalid", Some("order_by"));
    app.get("/v1/machines?limit=0").send().await.assert_error(400, "query_param_invalid", Some("limit"));
    app.get("/v1/machines?limit=501").send().await.assert_error(400, "query_param_invalid", Some("limit"));
    app.get("/v1/machines?offset=-1").send().await.assert_error(400, "query_param_invalid", None);
    app.get("/v1/machines?limit=500").send().await.assert_status(200);
}

#[tokio::test]
async fn list_includes_each_machines_scopes() {
    let app = TestApp::new().await;
    let (a, _) = machine(&app, "a").await;
    let (b, _) = machine(&app, "b").await;
    let (c, _) = machine(&app, "c").await;
    add_scope(&app, &a, &b).await;
    add_scope(&app, &a, &c).await;
    add_scope(&app, &c, &a).await;
    let list = app.get("/v1/machines?order_by=name").send().await.assert_status(200).json;
    // Scopes come in the order they were added; two added in the same millisecond may come either way.
    let scoped = |i: usize| -> Vec<String> {
        let mut ids: Vec<String> = list["data"][i]["scoped_machines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().into())
            .collect();
        ids.sort();
        ids
    };
    let mut a_scopes = [b.clone(), c.clone()];
    a_scopes.sort();
    assert_eq!(scoped(0), a_scopes);
    assert_eq!(scoped(1), Vec::<String>::new());
    assert_eq!(scoped(2), std::slice::from_ref(&a));
}

#[tokio::test]
async fn secret_key_get_and_rotate() {
    let app = TestApp::new().await;
    let (a, key1) = machine(&app, "a").await;
    let got = app.get(&format!("/v1/machines/{a}/secret_key")).send().await.assert_status(200).json;
    assert_eq!(got, json!({ "object": "machine_secret_key", "secret": key1 }));
    assert!(machine_key_works(&app, &a, &key1).await);

    let rotated = app
        .post(&format!("/v1/machines/{a}/secret_key/rotate"), json!({ "previous_token_ttl": 0 }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(rotated["object"], "machine_secret_key");
    let key2 = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(key2, key1);
    assert!(key2.starts_with("ak_"));
    let got = app.get(&format!("/v1/machines/{a}/secret_key")).send().await.assert_status(200).json;
    assert_eq!(got["secret"], key2.as_str());
    assert!(!machine_key_works(&app, &a, &key1).await, "previous_token_ttl 0 expires the old key at once");
    assert!(machine_key_works(&app, &a, &key2).await);

    for (body, code) in [
        (json!({}), "form_param_missing"),
        (json!({ "previous_token_ttl": -1 }), "form_param_format_invalid"),
        (json!({ "previous_token_ttl": 28_801 }), "form_param_format_invalid"),
        (json!({ "previous_token_ttl": "60" }), "form_param_format_invalid"),
    ] {
        app.post(&format!("/v1/machines/{a}/secret_key/rotate"), body).send().await.assert_error(
            422,
            code,
            Some("previous_token_ttl"),
        );
    }
    assert!(machine_key_works(&app, &a, &key2).await, "rejected rotations change nothing");
    let missing = "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk";
    app.get(&format!("/v1/machines/{missing}/secret_key")).send().await.assert_error(404, "resource_not_found", None);
    app.post(&format!("/v1/machines/{missing}/secret_key/rotate"), json!({ "previous_token_ttl": 10 }))
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn rotated_out_key_works_for_its_grace_period_only() {
    let app = TestApp::with_clock(T0).await;
    let (a, key1) = machine(&app, "a").await;
    let key2 = app
        .post(&format!("/v1/machines/{a}/secret_key/rotate"), json!({ "previous_token_ttl": 60 }))
        .send()
        .await
        .assert_status(200)
        .json["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance_ms(59_000);
    assert!(machine_key_works(&app, &a, &key1).await, "ttl-1 s: the previous key still works");
    assert!(machine_key_works(&app, &a, &key2).await);
    // A second rotation retires key2 with its own grace period; key1 keeps its original one.
    let key3 = app
        .post(&format!("/v1/machines/{a}/secret_key/rotate"), json!({ "previous_token_ttl": 28_800 }))
        .send()
        .await
        .assert_status(200)
        .json["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance_ms(2_000);
    assert!(!machine_key_works(&app, &a, &key1).await, "ttl+1 s: the previous key is rejected");
    assert!(machine_key_works(&app, &a, &key2).await);
    assert!(machine_key_works(&app, &a, &key3).await);
    app.clock.advance_ms(28_800_000);
    assert!(!machine_key_works(&app, &a, &key2).await);
    assert!(machine_key_works(&app, &a, &key3).await);
    // The secret key endpoint always answers the current key.
    let got = app.get(&format!("/v1/machines/{a}/secret_key")).send().await.assert_status(200).json;
    assert_eq!(got["secret"], key3.as_str());
}

#[tokio::test]
async fn scopes_add_and_remove() {
    let app = TestApp::new().await;
    let (a, _) = machine(&app, "a").await;
    let (b, _) = machine(&app, "b").await;
    let scope = app
        .post(&format!("/v1/machines/{a}/scopes"), json!({ "to_machine_id": b }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(scope["object"], "machine_scope");
    assert_eq!(
        (scope["from_machine_id"].as_str(), scope["to_machine_id"].as_str()),
        (Some(a.as_str()), Some(b.as_str()))
    );
    assert!(scope["created_at"].is_i64());
    assert!(scope.get("deleted").is_none());
    let got = app.get(&format!("/v1/machines/{a}")).send().await.assert_status(200).json;
    assert_eq!(got["scoped_machines"][0]["id"], b.as_str());
    let got_b = app.get(&format!("/v1/machines/{b}")).send().await.assert_status(200).json;
    assert_eq!(got_b["scoped_machines"], json!([]), "scopes are directional");

    app.post(&format!("/v1/machines/{a}/scopes"), json!({ "to_machine_id": b })).send().await.assert_error(
        409,
        "conflict",
        Some("to_machine_id"),
    );
    app.post(&format!("/v1/machines/{a}/scopes"), json!({ "to_machine_id": a })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("to_machine_id"),
    );
    app.post(&format!("/v1/machines/{a}/scopes"), json!({ "to_machine_id": "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk" }))
        .send()
        .await
        .assert_error(404, "resource_not_found", Some("to_machine_id"));
    app.post("/v1/machines/mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk/scopes", json!({ "to_machine_id": b }))
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    app.post(&format!("/v1/machines/{a}/scopes"), json!({})).send().await.assert_error(
        422,
        "form_param_missing",
        Some("to_machine_id"),
    );
    app.post(&format!("/v1/machines/{a}/scopes"), json!({ "to_machine_id": "" })).send().await.assert_error(
        422,
        "form_param_missing",
        Some("to_machine_id"),
    );

    let deleted = app.delete(&format!("/v1/machines/{a}/scopes/{b}")).send().await.assert_status(200).json;
    assert_eq!(
        deleted,
        json!({ "object": "machine_scope", "from_machine_id": a, "to_machine_id": b, "deleted": true })
    );
    app.delete(&format!("/v1/machines/{a}/scopes/{b}")).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&format!("/v1/machines/mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk/scopes/{b}")).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let got = app.get(&format!("/v1/machines/{a}")).send().await.assert_status(200).json;
    assert_eq!(got["scoped_machines"], json!([]));
}

#[tokio::test]
async fn a_machine_holds_at_most_150_scopes() {
    let app = TestApp::new().await;
    let mut targets = Vec::new();
    for i in 0..151 {
        targets.push(machine(&app, &format!("target {i}")).await.0);
    }
    let full = create_machine(&app, json!({ "name": "full", "scoped_machines": &targets[..150] })).await;
    assert_eq!(full["scoped_machines"].as_array().unwrap().len(), 150);
    let full_id = full["id"].as_str().unwrap();
    app.post(&format!("/v1/machines/{full_id}/scopes"), json!({ "to_machine_id": targets[150] }))
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("to_machine_id"));
    app.delete(&format!("/v1/machines/{full_id}/scopes/{}", targets[0])).send().await.assert_status(200);
    add_scope(&app, full_id, &targets[150]).await;
}

#[tokio::test]
async fn deleting_a_machine_removes_scopes_in_both_directions_and_its_keys() {
    let app = TestApp::new().await;
    let (a, _) = machine(&app, "a").await;
    let (b, b_key) = machine(&app, "b").await;
    add_scope(&app, &a, &b).await;
    add_scope(&app, &b, &a).await;
    app.delete(&format!("/v1/machines/{b}")).send().await.assert_status(200);
    let got = app.get(&format!("/v1/machines/{a}")).send().await.assert_status(200).json;
    assert_eq!(got["scoped_machines"], json!([]));
    assert!(!machine_key_works(&app, &b, &b_key).await);
    app.get(&format!("/v1/machines/{b}/secret_key")).send().await.assert_error(404, "resource_not_found", None);
    // The scope from a to b went with b.
    app.delete(&format!("/v1/machines/{a}/scopes/{b}")).send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn machines_are_isolated_per_instance() {
    let app = TestApp::new().await;
    let (a, _) = machine(&app, "mine").await;
    let (_, other_key) = app.create_instance(Environment::Development).await;
    let theirs =
        app.post("/v1/machines", json!({ "name": "theirs" })).bearer(&other_key).send().await.assert_status(200).json;
    let t = theirs["id"].as_str().unwrap();

    let mine = app.get("/v1/machines").send().await.assert_status(200).json;
    assert_eq!(ids(&mine), [a.as_str()]);
    let list = app.get(&format!("/v1/machines?query={a}")).bearer(&other_key).send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 0);
    for path in [format!("/v1/machines/{a}"), format!("/v1/machines/{a}/secret_key")] {
        app.get(&path).bearer(&other_key).send().await.assert_error(404, "resource_not_found", None);
    }
    app.patch(&format!("/v1/machines/{a}"), json!({ "name": "x" })).bearer(&other_key).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.delete(&format!("/v1/machines/{a}")).bearer(&other_key).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post(&format!("/v1/machines/{a}/secret_key/rotate"), json!({ "previous_token_ttl": 0 }))
        .bearer(&other_key)
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    // A machine of another instance can be neither scoped to nor scoped from.
    app.post(&format!("/v1/machines/{a}/scopes"), json!({ "to_machine_id": t })).send().await.assert_error(
        404,
        "resource_not_found",
        Some("to_machine_id"),
    );
    app.post(&format!("/v1/machines/{t}/scopes"), json!({ "to_machine_id": a })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post("/v1/machines", json!({ "name": "x", "scoped_machines": [t] })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("scoped_machines"),
    );
    app.get(&format!("/v1/machines/{a}")).send().await.assert_status(200);
}

#[tokio::test]
async fn machine_endpoints_need_the_instance_secret_key() {
    let app = TestApp::new().await;
    let (a, key) = machine(&app, "a").await;
    app.get("/v1/machines").anonymous().send().await.assert_error(401, "clerk_key_invalid", None);
    app.get("/v1/machines").bearer(&key).send().await.assert_error(401, "clerk_key_invalid", None);
    app.get(&format!("/v1/machines/{a}/secret_key")).bearer(&key).send().await.assert_error(
        401,
        "clerk_key_invalid",
        None,
    );
    app.post("/v1/machines", json!({ "name": "x" })).bearer(&key).send().await.assert_error(
        401,
        "clerk_key_invalid",
        None,
    );
}

#[tokio::test]
async fn machine_secret_keys_are_not_stored_in_plaintext() {
    let app = TestApp::new().await;
    let (a, key1) = machine(&app, "a").await;
    let key2 = app
        .post(&format!("/v1/machines/{a}/secret_key/rotate"), json!({ "previous_token_ttl": 600 }))
        .send()
        .await
        .assert_status(200)
        .json["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    // What the store keeps for the current key is a sealed blob, not the key.
    let sealed = tessera_core::store::machines::current_secret_sealed(&app.ctx().db, &app.instance.id, &a)
        .await
        .unwrap()
        .unwrap();
    assert!(!contains(&sealed, key2.as_bytes()));
    assert!(!contains(&sealed, &key2.as_bytes()[3..]));
    assert_not_in_database(&app, &[&key1, &key2]).await;
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Scans the raw SQLite database (file and WAL) for each secret, with and without its prefix. On PostgreSQL the
/// pages are not reachable from here; the store-level checks of the tests stand for it.
pub async fn assert_not_in_database(app: &TestApp, secrets: &[&str]) {
    let tessera_core::store::Db::Sqlite(pools) = &app.ctx().db else { return };
    let path = pools.path().to_owned();
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{}-wal", path.display())) {
        bytes.extend(wal);
    }
    assert!(bytes.len() > 4096, "read the database file {}", path.display());
    for secret in secrets {
        let body = secret.split_once('_').map_or(*secret, |(_, rest)| rest);
        assert!(
            !contains(&bytes, secret.as_bytes()) && !contains(&bytes, body.as_bytes()),
            "{secret} is stored in plaintext"
        );
    }
}
