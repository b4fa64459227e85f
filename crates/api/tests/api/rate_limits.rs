//! Opt-in Clerk rate limits: 429 `too_many_requests` with `Retry-After` once an instance's window is full, and a
//! retry after `Retry-After` succeeds. Small limits on a manual clock keep the test fast; on PostgreSQL the count
//! is the database's (shared by every node).

use serde_json::json;
use tessera_api::rate_limits::RateLimits;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

const T0: i64 = 1_750_000_000_000;

#[tokio::test]
async fn over_the_limit_is_a_429_with_retry_after_and_the_retry_succeeds() {
    // Production 5, development 3 per window; 2 user creations per window on development instances.
    let app = TestApp::with_clock(T0 + 4_000).await.with_rate_limits(RateLimits::new(5, 3, 2, 10_000));
    for _ in 0..3 {
        app.get("/v1/users").send().await.assert_status(200);
    }
    let r = app.get("/v1/users").send().await.assert_error(429, "too_many_requests", None);
    // The window began at T0 and ends 6 s after now.
    assert_eq!(r.headers["retry-after"], "6");
    // JWKS is never limited.
    for _ in 0..5 {
        app.get("/v1/jwks").send().await.assert_status(200);
    }
    // Another instance has its own count, and production's is larger.
    let (_, production) = app.create_instance(Environment::Production).await;
    for _ in 0..5 {
        app.get("/v1/users").bearer(&production).send().await.assert_status(200);
    }
    app.get("/v1/users").bearer(&production).send().await.assert_status(429);
    // A wrong key is not counted: it is answered 401.
    app.get("/v1/users").bearer("sk_test_nope").send().await.assert_status(401);

    // After Retry-After the retry succeeds.
    app.clock.advance_ms(6_000);
    app.get("/v1/users").send().await.assert_status(200);

    // User creation has its own, stricter limit on development instances.
    app.clock.advance_ms(10_000);
    for i in 0..2 {
        app.post("/v1/users", json!({ "email_address": [format!("u{i}@example.com")] }))
            .send()
            .await
            .assert_status(200);
    }
    let r = app.post("/v1/users", json!({ "email_address": ["u9@example.com"] })).send().await.assert_error(
        429,
        "too_many_requests",
        None,
    );
    assert_eq!(r.headers["retry-after"], "10");
}

#[tokio::test]
async fn without_the_option_nothing_is_limited() {
    let app = TestApp::new().await;
    for _ in 0..120 {
        app.get("/v1/users/count").send().await.assert_status(200);
    }
}

/// Clerk's stricter per-endpoint limits: 100 invitations and 25 bulk invitation requests per hour, and 10 updates
/// of one user per 10 seconds; Retry-After names the end of the endpoint's window, after which a retry succeeds.
#[tokio::test]
async fn invitations_and_user_updates_have_their_own_stricter_limits() {
    // Instance-wide limits high enough to stay out of the way.
    let app = TestApp::with_clock(T0 + 4_000).await.with_rate_limits(RateLimits::new(1000, 1000, 20, 10_000));
    for i in 0..100 {
        app.post("/v1/invitations", json!({ "email_address": format!("guest{i}@example.com"), "notify": false }))
            .send()
            .await
            .assert_status(200);
    }
    let r = app
        .post("/v1/invitations", json!({ "email_address": "late@example.com", "notify": false }))
        .send()
        .await
        .assert_error(429, "too_many_requests", None);
    // The hour began 400 s before T0 (T0 is 486111 hours and 400 s after the epoch); now is T0 + 4 s.
    assert_eq!(r.headers["retry-after"], "3196");
    // Other operations, invitation reads among them, are not held back by it.
    app.get("/v1/invitations").send().await.assert_status(200);
    // The bulk operation has its own count: 25 requests per hour.
    for i in 0..25 {
        app.post("/v1/invitations/bulk", json!([{ "email_address": format!("bulk{i}@example.com"), "notify": false }]))
            .send()
            .await
            .assert_status(200);
    }
    app.post("/v1/invitations/bulk", json!([{ "email_address": "bulk-late@example.com", "notify": false }]))
        .send()
        .await
        .assert_error(429, "too_many_requests", None);

    // Updates of one user: 10 per 10 s for that user; another user has its own count.
    let user = |email: &str| {
        let email = email.to_owned();
        let app = &app;
        async move {
            let r = app.post("/v1/users", json!({ "email_address": [email] })).send().await.assert_status(200);
            r.json["id"].as_str().unwrap().to_owned()
        }
    };
    let (ada, bob) = (user("ada@example.com").await, user("bob@example.com").await);
    for i in 0..10 {
        let path = if i % 2 == 0 { format!("/v1/users/{ada}") } else { format!("/v1/users/{ada}/metadata") };
        app.patch(&path, json!({ "public_metadata": { "n": i } })).send().await.assert_status(200);
    }
    let r = app.put(&format!("/v1/users/{ada}/metadata"), json!({ "public_metadata": {} })).send().await.assert_error(
        429,
        "too_many_requests",
        None,
    );
    assert_eq!(r.headers["retry-after"], "6");
    app.patch(&format!("/v1/users/{bob}"), json!({ "first_name": "Bob" })).send().await.assert_status(200);

    // After Retry-After the invitation retry succeeds (a new hour), and so does the user update.
    app.clock.advance_ms(3_196_000);
    app.post("/v1/invitations", json!({ "email_address": "late@example.com", "notify": false }))
        .send()
        .await
        .assert_status(200);
    app.patch(&format!("/v1/users/{ada}"), json!({ "first_name": "Ada" })).send().await.assert_status(200);
}
