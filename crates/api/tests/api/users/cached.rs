//! User reads answered from the cache of rendered users (`tessera_core::cache`): a change made through the server is
//! seen by the very next read, whatever operation made it; a change made behind the server's back (another
//! process on the same database) is seen within the cache's bound. (Objects that depend on the time of reading are
//! not kept: `credentials::lockout_counts_failures_exactly_and_expires` reads a lock counting down.)

use serde_json::{Value, json};
use tessera_core::cache::TTL_MS;
use tessera_testkit::TestApp;

use super::{T0, create_user, ids};

async fn get(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/users/{id}")).send().await.assert_status(200).json
}

/// The user as `GET /v1/users/{id}` and as the list (by id, and the first page) answer it: all three must agree.
async fn read_everywhere(app: &TestApp, id: &str) -> Value {
    let one = get(app, id).await;
    let listed = app.get(&format!("/v1/users?user_id={id}")).send().await.assert_status(200).json;
    assert_eq!(listed, json!([one.clone()]), "the list by id answers the same object");
    let page = app.get("/v1/users?limit=10").send().await.assert_status(200).json;
    let in_page = page.as_array().unwrap().iter().find(|u| u["id"] == json!(id)).cloned();
    assert_eq!(in_page, Some(one.clone()), "the first page answers the same object");
    one
}

/// The clock stands still: cached entries never expire, so only the store's count of committed changes can make
/// these reads fresh.
#[tokio::test]
async fn every_change_through_the_server_is_seen_by_the_next_read() {
    let app = TestApp::with_clock(T0).await;
    let user = create_user(&app, json!({ "email_address": ["cached@example.com"], "first_name": "Ann" })).await;
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(read_everywhere(&app, &id).await["first_name"], json!("Ann"));
    assert_eq!(read_everywhere(&app, &id).await["first_name"], json!("Ann"), "read again (from the cache)");

    app.patch(&format!("/v1/users/{id}"), json!({ "first_name": "Bea" })).send().await.assert_status(200);
    assert_eq!(read_everywhere(&app, &id).await["first_name"], json!("Bea"), "an update");

    // Pages are cached too: an empty lookup, then the address it looks for is added.
    let lookup = "/v1/users?email_address=second@example.com";
    for _ in 0..2 {
        assert_eq!(app.get(lookup).send().await.assert_status(200).json, json!([]));
    }
    let body = json!({ "user_id": id, "email_address": "second@example.com", "verified": true });
    let email = app.post("/v1/email_addresses", body).send().await.assert_status(200).json;
    let u = read_everywhere(&app, &id).await;
    assert_eq!(u["email_addresses"].as_array().unwrap().len(), 2, "an address added: {u}");
    assert_eq!(app.get(lookup).send().await.assert_status(200).json, json!([u]), "found by the new address");
    let email_id = email["id"].as_str().unwrap();
    app.delete(&format!("/v1/email_addresses/{email_id}")).send().await.assert_status(200);
    let u = read_everywhere(&app, &id).await;
    assert_eq!(u["email_addresses"].as_array().unwrap().len(), 1, "an address removed: {u}");

    app.post(&format!("/v1/users/{id}/ban"), json!({})).send().await.assert_status(200);
    assert_eq!(read_everywhere(&app, &id).await["banned"], json!(true), "a ban");
    app.post(&format!("/v1/users/{id}/lock"), json!({})).send().await.assert_status(200);
    assert_eq!(read_everywhere(&app, &id).await["locked"], json!(true), "a lock");
    app.post(&format!("/v1/users/{id}/unlock"), json!({})).send().await.assert_status(200);
    assert_eq!(read_everywhere(&app, &id).await["locked"], json!(false), "an unlock");

    let metadata = json!({ "public_metadata": { "plan": "gold" } });
    app.patch(&format!("/v1/users/{id}/metadata"), metadata).send().await.assert_status(200);
    assert_eq!(read_everywhere(&app, &id).await["public_metadata"], json!({ "plan": "gold" }), "metadata");

    let other = create_user(&app, json!({ "first_name": "Cy" })).await;
    let page = app.get("/v1/users?limit=10").send().await.assert_status(200).json;
    assert_eq!(ids(&page), [other["id"].as_str().unwrap(), id.as_str()], "a created user heads the first page");

    app.delete(&format!("/v1/users/{id}")).send().await.assert_status(200);
    app.get(&format!("/v1/users/{id}")).send().await.assert_error(404, "resource_not_found", None);
    let page = app.get("/v1/users?limit=10").send().await.assert_status(200).json;
    assert!(!ids(&page).contains(&id), "a deleted user leaves the list");
}

/// Another process's change (the CLI, SQL by hand): a read keeps answering the cached object until the bound, then
/// the new one. That the stale answer is seen at all shows the reads are served from the cache.
#[tokio::test]
async fn a_change_behind_the_servers_back_is_seen_within_the_bound() {
    let app = TestApp::with_clock(T0).await;
    let user = create_user(&app, json!({ "first_name": "Ann" })).await;
    let id = user["id"].as_str().unwrap().to_owned();
    let later = create_user(&app, json!({ "first_name": "Bo" })).await;
    let later = later["id"].as_str().unwrap().to_owned();
    assert_eq!(get(&app, &id).await["first_name"], json!("Ann"));
    let page = || async { ids(&app.get("/v1/users?limit=10").send().await.assert_status(200).json) };
    assert_eq!(page().await, [later.clone(), id.clone()], "newest first");
    app.write_behind_the_servers_back("UPDATE users SET first_name = 'Out' WHERE first_name = 'Ann'").await;
    app.write_behind_the_servers_back("UPDATE users SET created_at = 1 WHERE first_name = 'Bo'").await;
    assert_eq!(get(&app, &id).await["first_name"], json!("Ann"), "cached: the server has not heard of the change");
    assert_eq!(page().await, [later.clone(), id.clone()], "cached: the page's order as it was");
    app.clock.advance_ms(TTL_MS);
    assert_eq!(get(&app, &id).await["first_name"], json!("Out"), "seen once the cached object expired");
    assert_eq!(page().await, [id.clone(), later.clone()], "seen once the cached page expired");
}
