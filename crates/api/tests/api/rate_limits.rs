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
