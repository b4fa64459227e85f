//! `GET /users` and `GET /users/count`: every filter, ordering, paging.

use serde_json::json;
use tessera_testkit::TestApp;

use super::{T0, create_user, ids};

async fn seed(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for (i, body) in [
        json!({ "email_address": ["carol@example.com"], "first_name": "Carol", "last_name": "Zed", "username": "carol_c", "external_id": "e1", "phone_number": ["+15555550103"] }),
        json!({ "email_address": ["alice@example.com"], "first_name": "Alice", "last_name": "Young", "username": "alice_a", "external_id": "e2", "web3_wallet": ["0x1111111111111111111111111111111111111111"] }),
        json!({ "email_address": ["bob@other.org"], "first_name": "Bob", "username": "bob_b", "phone_number": ["+15555550101"], "banned": true }),
    ]
    .into_iter()
    .enumerate()
    {
        let u = create_user(app, body).await;
        out.push(u["id"].as_str().unwrap().to_owned());
        app.clock.advance_ms(1000 * (i as i64 + 1));
    }
    out
}

async fn list(app: &TestApp, query: &str) -> Vec<String> {
    ids(&app.get(&format!("/v1/users?{query}")).send().await.assert_status(200).json)
}

async fn count(app: &TestApp, query: &str) -> i64 {
    let c = app.get(&format!("/v1/users/count?{query}")).send().await.assert_status(200).json;
    assert_eq!(c["object"], "total_count");
    c["total_count"].as_i64().unwrap()
}

#[tokio::test]
async fn filters_and_counts() {
    let app = TestApp::with_clock(T0).await;
    let [carol, alice, bob] = <[String; 3]>::try_from(seed(&app).await).unwrap();
    assert_eq!(list(&app, "").await, vec![bob.clone(), alice.clone(), carol.clone()], "newest first");
    assert_eq!(count(&app, "").await, 3);
    let cases: Vec<(&str, Vec<&String>)> = vec![
        ("email_address=ALICE@example.com&email_address=nobody@x.io", vec![&alice]),
        ("phone_number=%2B15555550101", vec![&bob]),
        ("username=CAROL_C", vec![&carol]),
        ("web3_wallet=0x1111111111111111111111111111111111111111", vec![&alice]),
        ("external_id=e1&external_id=%2Be2", vec![&alice, &carol]),
        ("external_id=-e1", vec![&bob, &alice]),
        ("user_id=-".to_owned().leak(), vec![&bob, &alice, &carol]),
        ("query=example.com", vec![&alice, &carol]),
        ("query=young", vec![&alice]),
        ("query=5550101", vec![&bob]),
        ("email_address_query=OTHER", vec![&bob]),
        ("phone_number_query=555", vec![&bob, &carol]),
        ("username_query=_A", vec![&alice]),
        ("name_query=carol%20zed", vec![&carol]),
        ("banned=true", vec![&bob]),
        ("banned=false", vec![&alice, &carol]),
        ("organization_id=org_x", vec![]),
        ("organization_id=-org_x", vec![&bob, &alice, &carol]),
        ("provider=oauth_google&provider_user_id=1", vec![]),
    ];
    for (q, expected) in cases {
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(list(&app, q).await, expected, "{q}");
        assert_eq!(count(&app, q).await, expected.len() as i64, "count {q}");
    }
    let q = format!("user_id={carol}&user_id=%2B{bob}");
    assert_eq!(list(&app, &q).await, vec![bob.clone(), carol.clone()]);
    let q = format!("user_id=-{carol}");
    assert_eq!(list(&app, &q).await, vec![bob.clone(), alice.clone()]);
    let q = format!("created_at_after={}&created_at_before={}", T0, T0 + 3000);
    assert_eq!(list(&app, &q).await, vec![alice.clone()]);
    assert_eq!(count(&app, &format!("created_at_after={T0}")).await, 2);
    assert_eq!(count(&app, "last_active_at_after=1").await, 0);
    assert_eq!(count(&app, "last_sign_in_at_before=99999999999999").await, 0);
    app.get("/v1/users?provider=oauth_google").send().await.assert_error(
        422,
        "form_param_missing",
        Some("provider_user_id"),
    );
    app.get("/v1/users/count?banned=maybe").send().await.assert_error(422, "form_param_format_invalid", Some("banned"));
    app.get("/v1/users?banned=maybe").send().await.assert_error(400, "query_param_invalid", Some("banned"));
}

#[tokio::test]
async fn ordering_and_paging() {
    let app = TestApp::with_clock(T0).await;
    let [carol, alice, bob] = <[String; 3]>::try_from(seed(&app).await).unwrap();
    let anon = create_user(&app, json!({})).await["id"].as_str().unwrap().to_owned();
    assert_eq!(list(&app, "order_by=created_at").await, vec![carol.clone(), alice.clone(), bob.clone(), anon.clone()]);
    assert_eq!(
        list(&app, "order_by=%2Bfirst_name").await,
        vec![alice.clone(), bob.clone(), carol.clone(), anon.clone()]
    );
    assert_eq!(
        list(&app, "order_by=-first_name").await,
        vec![carol.clone(), bob.clone(), alice.clone(), anon.clone()],
        "nulls last"
    );
    assert_eq!(
        list(&app, "order_by=email_address").await,
        vec![alice.clone(), bob.clone(), carol.clone(), anon.clone()]
    );
    assert_eq!(
        list(&app, "order_by=-username&order_by=created_at").await,
        vec![carol.clone(), bob.clone(), alice.clone(), anon.clone()]
    );
    assert_eq!(
        list(&app, "order_by=phone_number").await,
        vec![bob.clone(), carol.clone(), alice.clone(), anon.clone()]
    );
    assert_eq!(list(&app, "order_by=web3wallet").await[0], alice);
    assert_eq!(list(&app, "order_by=last_name").await[..2], [alice.clone(), carol.clone()]);
    for field in ["updated_at", "last_active_at", "last_sign_in_at"] {
        assert_eq!(list(&app, &format!("order_by={field}")).await.len(), 4);
    }
    assert_eq!(list(&app, "limit=2&offset=1").await, vec![bob.clone(), alice.clone()]);
    assert_eq!(list(&app, "limit=2.0").await, vec![anon.clone(), bob.clone()]);
    // Cursor paging in created_at order.
    assert_eq!(list(&app, &format!("limit=2&starting_after={bob}")).await, vec![alice.clone(), carol.clone()]);
    assert_eq!(
        list(&app, &format!("order_by=created_at&starting_after={alice}")).await,
        vec![bob.clone(), anon.clone()]
    );
    app.get(&format!("/v1/users?order_by=username&starting_after={bob}")).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("starting_after"),
    );
    app.get(&format!("/v1/users?offset=1&starting_after={bob}")).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("starting_after"),
    );
    app.get("/v1/users?starting_after=user_nope").send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("starting_after"),
    );
    for bad in ["limit=0", "limit=501", "order_by=password", "offset=-1"] {
        app.get(&format!("/v1/users?{bad}")).send().await.assert_error(400, "query_param_invalid", None);
    }
    let too_many: String = (0..101).map(|i| format!("email_address=a{i}@x.io&")).collect();
    app.get(&format!("/v1/users?{too_many}")).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("email_address"),
    );
}

/// `query` is answered from a search index (migration 0015): it must follow every change to what it matches.
#[tokio::test]
async fn query_follows_every_change_to_names_and_identifiers() {
    let app = TestApp::with_clock(T0).await;
    let user = create_user(
        &app,
        json!({ "email_address": ["dora@example.com"], "first_name": "Quinn", "username": "explorer", "external_id": "ext-9" }),
    )
    .await;
    let id = user["id"].as_str().unwrap().to_owned();
    let other = create_user(&app, json!({ "email_address": ["100%_real@example.com"] })).await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    assert_eq!(list(&app, "query=quinn").await, vec![id.clone()]);
    assert_eq!(list(&app, "query=PLORE").await, vec![id.clone()]);
    assert_eq!(list(&app, &format!("query={id}")).await, vec![id.clone()], "the exact user id");
    assert_eq!(list(&app, "query=ext-9").await, vec![id.clone()], "the exact external id");
    assert_eq!(list(&app, "query=ext-").await, Vec::<String>::new(), "external ids match only exactly");
    assert_eq!(list(&app, "query=0%25_r").await, vec![other_id.clone()], "% and _ are literal");
    assert_eq!(list(&app, "query=0%25x").await, Vec::<String>::new());
    assert_eq!(count(&app, "query=xa").await, 2, "two characters: both e-mail addresses contain 'xa'");
    // A field boundary is never matched across: the username ends in "r", the name starts with "q".
    assert_eq!(count(&app, "query=rquinn").await, 0);

    app.patch(&format!("/v1/users/{id}"), json!({ "first_name": "Nadia" })).send().await.assert_status(200);
    assert_eq!(count(&app, "query=quinn").await, 0, "the old name is gone");
    assert_eq!(list(&app, "query=nadia").await, vec![id.clone()]);
    assert_eq!(list(&app, "query=dora@").await, vec![id.clone()], "the address still matches");

    let added = app
        .post("/v1/email_addresses", json!({ "user_id": id, "email_address": "second@mailbox.test", "verified": true }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(list(&app, "query=mailbox.test").await, vec![id.clone()]);
    app.delete(&format!("/v1/email_addresses/{}", added["id"].as_str().unwrap())).send().await.assert_status(200);
    assert_eq!(count(&app, "query=mailbox.test").await, 0, "a deleted address no longer matches");
    assert_eq!(list(&app, "query=nadia").await, vec![id.clone()], "the rest of the user still does");

    app.delete(&format!("/v1/users/{id}")).send().await.assert_status(200);
    assert_eq!(count(&app, "query=nadia").await, 0);
    assert_eq!(count(&app, "query=example.com").await, 1);
}
