//! Webhooks: the outbox (events written with their change), the Svix-app operations, and delivery through the
//! worker to a real HTTP receiver (signature, order per resource, retries, failure and replay, private targets).

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tessera_api::worker::{Worker, WorkerConfig};
use tessera_core::events;
use tessera_core::instances::Environment;
use tessera_core::webhooks::{self, EndpointInput, RetryPolicy};
use tessera_testkit::TestApp;

async fn create_user(app: &TestApp, body: Value) -> String {
    app.post("/v1/users", body).send().await.assert_status(200).json["id"].as_str().expect("id").to_owned()
}

/// Events of the instance, oldest first, each checked against the webhook spec.
async fn outbox(app: &TestApp) -> Vec<Value> {
    let events = events::recent(app.ctx(), &app.instance.id, 1000).await.expect("events");
    events
        .into_iter()
        .map(|e| {
            tessera_spec_check::validate_webhook_event(&e.payload).unwrap_or_else(|why| panic!("{why}"));
            assert_eq!(e.payload["type"], e.event_type);
            e.payload
        })
        .collect()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap_or("")).collect()
}

/// Event payloads (which carry one-time codes and personal data) are sealed in the database.
#[tokio::test]
async fn stored_payloads_are_sealed() {
    let app = TestApp::new().await;
    create_user(&app, json!({ "email_address": ["sealed-payload@example.com"] })).await;
    let stored = tessera_core::store::webhooks::recent_events(&app.ctx().db, &app.instance.id, 10).await.expect("rows");
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].payload.contains("sealed-payload"), "the payload is stored in plaintext");
    assert_eq!(outbox(&app).await[0]["data"]["email_addresses"][0]["email_address"], "sealed-payload@example.com");
}

#[tokio::test]
async fn user_mutations_write_their_events() {
    let app = TestApp::new().await;
    let id = create_user(&app, json!({ "email_address": ["ev@example.com"], "external_id": "ext-1" })).await;
    app.patch(&format!("/v1/users/{id}"), json!({ "first_name": "Ada" })).send().await.assert_status(200);
    app.patch(&format!("/v1/users/{id}/metadata"), json!({ "public_metadata": { "a": 1 } }))
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/v1/users/{id}/ban"), json!({})).send().await.assert_status(200);
    app.post(&format!("/v1/users/{id}/lock"), json!({})).send().await.assert_status(200);
    // Refused mutations write nothing.
    app.post("/v1/users", json!({ "email_address": ["ev@example.com"] })).send().await.assert_status(422);
    app.patch("/v1/users/user_missing", json!({ "first_name": "x" })).send().await.assert_status(404);
    app.delete(&format!("/v1/users/{id}")).send().await.assert_status(200);

    let events = outbox(&app).await;
    assert_eq!(
        types(&events),
        ["user.created", "user.updated", "user.updated", "user.updated", "user.updated", "user.deleted"]
    );
    for e in &events {
        assert_eq!(e["object"], "event");
        assert_eq!(e["instance_id"], app.instance.id.as_str());
        assert_eq!(e["data"]["id"], id.as_str());
        assert!(e["timestamp"].as_i64().is_some_and(|t| t > 1_600_000_000_000), "timestamp in ms: {e}");
    }
    assert_eq!(events[0]["data"]["email_addresses"][0]["email_address"], "ev@example.com");
    assert_eq!(events[1]["data"]["first_name"], "Ada");
    assert_eq!(events[2]["data"]["public_metadata"], json!({ "a": 1 }));
    assert_eq!(events[3]["data"]["banned"], true);
    assert_eq!(events[4]["data"]["locked"], true);
    assert_eq!(events[5]["data"], json!({ "object": "user", "id": id, "deleted": true, "external_id": "ext-1" }));

    // Another instance sees none of them.
    let (other, _) = app.create_instance(Environment::Development).await;
    assert!(events::recent(app.ctx(), &other.id, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn svix_app_lifecycle() {
    let app = TestApp::new().await;
    app.post("/v1/webhooks/svix_url", json!({})).send().await.assert_error(400, "svix_app_missing", None);
    app.delete("/v1/webhooks/svix").send().await.assert_error(400, "svix_app_missing", None);
    let url = app.post("/v1/webhooks/svix", json!({})).send().await.assert_status(200).json["svix_url"].clone();
    assert!(url.as_str().is_some_and(|u| u.contains("/webhooks-portal/open/wpt_")), "{url}");
    app.post("/v1/webhooks/svix", json!({})).send().await.assert_error(400, "svix_app_exists", None);
    let again = app.post("/v1/webhooks/svix_url", json!({})).send().await.assert_status(200).json["svix_url"].clone();
    assert_ne!(url, again, "every link is new");
    // Another instance has its own (absent) app.
    let (_, other_key) = app.create_instance(Environment::Development).await;
    app.post("/v1/webhooks/svix_url", json!({})).bearer(&other_key).send().await.assert_error(
        400,
        "svix_app_missing",
        None,
    );
    app.delete("/v1/webhooks/svix").send().await.assert_status(204);
    app.post("/v1/webhooks/svix_url", json!({})).send().await.assert_error(400, "svix_app_missing", None);
    app.post("/v1/webhooks/svix", json!({})).anonymous().send().await.assert_status(401);
}

/// A local receiver: records every request; answers the scripted statuses first, then 200.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    script: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> (Self, String) {
        let r = Self { got: Arc::default(), script: Arc::new(Mutex::new(script)) };
        let router = axum::Router::new().route("/hook", axum::routing::post(Self::handle)).with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, router).await.ok() });
        (r, url)
    }

    async fn handle(State(r): State<Self>, headers: HeaderMap, body: String) -> (StatusCode, &'static str) {
        r.got.lock().unwrap().push((headers, body));
        let mut script = r.script.lock().unwrap();
        let status = if script.is_empty() { 200 } else { script.remove(0) };
        (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), "receiver says hi")
    }

    fn received(&self) -> Vec<(HeaderMap, String)> {
        self.got.lock().unwrap().clone()
    }
}

fn worker(app: &TestApp, delays_ms: Vec<i64>) -> Worker {
    let config = WorkerConfig { retry: RetryPolicy { delays_ms, jitter: 0.0 }, ..WorkerConfig::default() };
    Worker::new(app.state.ctx.clone(), config)
}

/// Runs the worker until nothing is due.
async fn drain(w: &Worker) {
    for _ in 0..1000 {
        if w.run_once().await.expect("worker") == 0 {
            return;
        }
    }
    panic!("the worker never ran dry");
}

async fn endpoint(app: &TestApp, url: &str, event_types: &[&str]) -> (String, String) {
    app.post("/v1/webhooks/svix", json!({})).send().await.assert_status(200);
    let input = EndpointInput {
        url: url.to_owned(),
        event_types: event_types.iter().map(|s| (*s).to_owned()).collect(),
        ..EndpointInput::default()
    };
    let ep = webhooks::create_endpoint(app.ctx(), &app.instance.id, &input).await.expect("endpoint");
    let secret = webhooks::endpoint_secret(app.ctx(), &app.instance.id, &ep.id).await.expect("secret");
    (ep.id, secret)
}

/// Another endpoint of the instance whose Svix app [`endpoint`] created; its id.
async fn add_endpoint(app: &TestApp, url: &str, event_types: &[&str], disabled: bool) -> String {
    let input = EndpointInput {
        url: url.to_owned(),
        event_types: event_types.iter().map(|s| (*s).to_owned()).collect(),
        disabled,
        ..EndpointInput::default()
    };
    webhooks::create_endpoint(app.ctx(), &app.instance.id, &input).await.expect("endpoint").id
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("header {name}"))
}

#[tokio::test]
async fn every_event_arrives_once_signed_and_in_order_per_user() {
    let app = TestApp::new().await;
    let (receiver, url) = Receiver::start(vec![]).await;
    let (_, secret) = endpoint(&app, &url, &[]).await;
    // A scripted session: two users, interleaved changes, one deleted.
    let a = create_user(&app, json!({ "email_address": ["a@example.com"] })).await;
    let b = create_user(&app, json!({ "email_address": ["b@example.com"] })).await;
    for i in 0..3 {
        app.patch(&format!("/v1/users/{a}"), json!({ "first_name": format!("A{i}") })).send().await.assert_status(200);
        app.patch(&format!("/v1/users/{b}"), json!({ "last_name": format!("B{i}") })).send().await.assert_status(200);
    }
    app.post("/v1/users/ban", json!({ "user_ids": [a, b] })).send().await.assert_status(200);
    app.delete(&format!("/v1/users/{a}")).send().await.assert_status(200);
    let w = worker(&app, vec![1000]);
    drain(&w).await;

    let emitted = outbox(&app).await;
    let received = receiver.received();
    assert_eq!(received.len(), emitted.len(), "each event exactly once");
    let mut ids: Vec<&str> = received.iter().map(|(h, _)| header(h, "svix-id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), emitted.len(), "no duplicates");
    for (h, body) in &received {
        let ts: i64 = header(h, "svix-timestamp").parse().expect("seconds");
        let expected = webhooks::sign(&secret, header(h, "svix-id"), ts, body.as_bytes()).unwrap();
        assert_eq!(header(h, "svix-signature"), expected);
        assert_eq!(header(h, "content-type"), "application/json");
        let event: Value = serde_json::from_str(body).expect("json body");
        tessera_spec_check::validate_webhook_event(&event).unwrap_or_else(|why| panic!("{why}"));
    }
    // Per user, the receiver saw the events in the order they were emitted.
    for user in [&a, &b] {
        let of = |events: Vec<Value>| -> Vec<Value> {
            events.into_iter().filter(|e| e["data"]["id"] == user.as_str()).collect()
        };
        let got = of(received.iter().map(|(_, b)| serde_json::from_str(b).unwrap()).collect());
        let want = of(emitted.clone());
        assert_eq!(got, want, "events of {user} in order");
    }
    let a_types: Vec<Value> =
        emitted.iter().filter(|e| e["data"]["id"] == a.as_str()).map(|e| e["type"].clone()).collect();
    assert_eq!(a_types.first(), Some(&json!("user.created")));
    assert_eq!(a_types.last(), Some(&json!("user.deleted")));
    assert_eq!(a_types.len(), 6);
}

#[tokio::test]
async fn an_event_is_queued_for_each_enabled_endpoint_subscribed_to_its_type() {
    let app = TestApp::new().await;
    let (all, _) = endpoint(&app, "https://all.example.com/h", &[]).await;
    let created = add_endpoint(&app, "https://created.example.com/h", &["user.created"], false).await;
    let several =
        add_endpoint(&app, "https://several.example.com/h", &["session.created", "user.created"], false).await;
    let updated = add_endpoint(&app, "https://updated.example.com/h", &["user.updated"], false).await;
    let paused = add_endpoint(&app, "https://paused.example.com/h", &[], true).await;

    create_user(&app, json!({ "email_address": ["queued@example.com"] })).await;
    let deliveries = webhooks::recent_deliveries(app.ctx(), &app.instance.id, 10).await.unwrap();
    let mut endpoints: Vec<&str> = deliveries.iter().map(|d| d.endpoint_id.as_str()).collect();
    endpoints.sort_unstable();
    let mut want = vec![all.as_str(), created.as_str(), several.as_str()];
    want.sort_unstable();
    assert_eq!(endpoints, want, "not {updated} (another type) nor {paused} (disabled)");
    assert!(deliveries.iter().all(|d| d.event_type == "user.created" && d.status == "pending"));
    let event = &deliveries[0].event_id;
    assert!(deliveries.iter().all(|d| &d.event_id == event), "one event");
    assert!(deliveries.iter().all(|d| d.id == format!("{event}_{}", d.endpoint_id)), "ids as before");
}

#[tokio::test]
async fn retries_until_the_receiver_recovers() {
    let app = TestApp::with_clock(1_700_000_000_000).await;
    let (receiver, url) = Receiver::start(vec![500, 503]).await;
    endpoint(&app, &url, &["user.created"]).await;
    let id = create_user(&app, json!({})).await;
    app.patch(&format!("/v1/users/{id}"), json!({ "first_name": "not subscribed" })).send().await.assert_status(200);
    let w = worker(&app, vec![5_000, 60_000, 600_000]);

    assert_eq!(w.run_once().await.unwrap(), 1);
    assert_eq!(w.run_once().await.unwrap(), 0, "not due before its delay");
    app.clock.advance_ms(5_000);
    assert_eq!(w.run_once().await.unwrap(), 1);
    app.clock.advance_ms(59_000);
    assert_eq!(w.run_once().await.unwrap(), 0);
    app.clock.advance_ms(1_000);
    assert_eq!(w.run_once().await.unwrap(), 1);
    drain(&w).await;

    let got = receiver.received();
    assert_eq!(got.len(), 3, "failed twice, then delivered");
    assert!(got.iter().all(|(h, _)| header(h, "svix-id") == header(&got[0].0, "svix-id")), "same svix-id");
    let deliveries = webhooks::recent_deliveries(app.ctx(), &app.instance.id, 10).await.unwrap();
    assert_eq!(deliveries.len(), 1, "only the subscribed type");
    let d = &deliveries[0];
    assert_eq!((d.status.as_str(), d.attempts, d.last_status_code), ("succeeded", 3, Some(200)));
    assert_eq!(d.last_response.as_deref(), Some("receiver says hi"));
}

#[tokio::test]
async fn gives_up_after_the_last_try_and_replays() {
    let app = TestApp::with_clock(1_700_000_000_000).await;
    let (receiver, url) = Receiver::start(vec![500, 500, 302]).await;
    endpoint(&app, &url, &[]).await;
    create_user(&app, json!({})).await;
    let w = worker(&app, vec![1_000, 1_000]);
    for _ in 0..3 {
        w.run_once().await.unwrap();
        app.clock.advance_ms(1_000);
    }
    assert_eq!(w.run_once().await.unwrap(), 0);
    let d = webhooks::recent_deliveries(app.ctx(), &app.instance.id, 10).await.unwrap().remove(0);
    assert_eq!((d.status.as_str(), d.attempts, d.last_status_code), ("failed", 3, Some(302)));
    assert_eq!(d.last_error.as_deref(), Some("redirects are not followed"));
    assert_eq!(receiver.received().len(), 3);

    // Replay is refused for another instance, accepted for the owner.
    let (other, _) = app.create_instance(Environment::Development).await;
    assert!(webhooks::replay(app.ctx(), &other.id, &d.id).await.is_err());
    webhooks::replay(app.ctx(), &app.instance.id, &d.id).await.unwrap();
    drain(&w).await;
    let d = webhooks::recent_deliveries(app.ctx(), &app.instance.id, 10).await.unwrap().remove(0);
    assert_eq!((d.status.as_str(), d.attempts), ("succeeded", 4));
    assert_eq!(receiver.received().len(), 4);
}

#[tokio::test]
async fn production_instances_do_not_reach_private_targets() {
    let app = TestApp::with_clock(1_700_000_000_000).await;
    let (receiver, url) = Receiver::start(vec![]).await;
    let (prod, prod_key) = app.create_instance(Environment::Production).await;
    app.post("/v1/webhooks/svix", json!({})).bearer(&prod_key).send().await.assert_status(200);
    let input = EndpointInput { url: url.clone(), ..EndpointInput::default() };
    webhooks::create_endpoint(app.ctx(), &prod.id, &input).await.unwrap();
    let localhost = EndpointInput { url: url.replace("127.0.0.1", "localhost"), ..EndpointInput::default() };
    webhooks::create_endpoint(app.ctx(), &prod.id, &localhost).await.unwrap();
    app.post("/v1/users", json!({})).bearer(&prod_key).send().await.assert_status(200);
    let w = worker(&app, vec![]);
    drain(&w).await;
    assert!(receiver.received().is_empty(), "nothing reached the private receiver");
    let deliveries = webhooks::recent_deliveries(app.ctx(), &prod.id, 10).await.unwrap();
    assert_eq!(deliveries.len(), 2);
    for d in deliveries {
        assert_eq!(d.status, "failed");
        assert!(d.last_error.as_deref().is_some_and(|e| e.contains("private")), "{:?}", d.last_error);
    }

    // The operator may allow them.
    let config = WorkerConfig { allow_private_targets: true, ..WorkerConfig::default() };
    let permissive = Worker::new(app.state.ctx.clone(), config);
    app.post("/v1/users", json!({})).bearer(&prod_key).send().await.assert_status(200);
    drain(&permissive).await;
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn endpoint_input_is_validated() {
    let app = TestApp::new().await;
    let input = |url: &str, types: &[&str]| EndpointInput {
        url: url.to_owned(),
        event_types: types.iter().map(|s| (*s).to_owned()).collect(),
        ..EndpointInput::default()
    };
    let ctx = app.ctx();
    let id = &app.instance.id;
    assert!(webhooks::create_endpoint(ctx, id, &input("https://example.com/h", &[])).await.is_err(), "no app yet");
    app.post("/v1/webhooks/svix", json!({})).send().await.assert_status(200);
    for bad in ["ftp://example.com", "https://user:pw@example.com/", "/relative"] {
        assert!(webhooks::create_endpoint(ctx, id, &input(bad, &[])).await.is_err(), "{bad}");
    }
    assert!(webhooks::create_endpoint(ctx, id, &input("https://example.com/h", &["user.nope"])).await.is_err());
    let ep = webhooks::create_endpoint(ctx, id, &input("https://example.com/h", &["user.created", "user.created"]))
        .await
        .unwrap();
    assert_eq!(ep.event_types, ["user.created"]);
    let before = webhooks::endpoint_secret(ctx, id, &ep.id).await.unwrap();
    assert!(before.starts_with("whsec_"));
    webhooks::rotate_secret(ctx, id, &ep.id).await.unwrap();
    assert_ne!(webhooks::endpoint_secret(ctx, id, &ep.id).await.unwrap(), before);
    let (other, _) = app.create_instance(Environment::Development).await;
    assert!(webhooks::endpoint_secret(ctx, &other.id, &ep.id).await.is_err(), "scoped to its instance");
    assert!(webhooks::delete_endpoint(ctx, &other.id, &ep.id).await.is_err());
    webhooks::delete_endpoint(ctx, id, &ep.id).await.unwrap();
    assert!(webhooks::list_endpoints(ctx, id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_busy_database_is_a_transient_poll_failure() {
    let app = TestApp::new().await;
    let tessera_core::store::Db::Sqlite(pools) = &app.ctx().db else { return };
    // Another process holds SQLite's write lock longer than the busy timeout.
    let path = pools.path().to_owned();
    let other = tessera_core::store::Db::connect(&tessera_core::store::DbTarget::SqliteFile(path)).await.unwrap();
    let mut held = other.begin().await.unwrap();
    tessera_core::store::settings::lock_instance(&mut held, &app.instance.id, 0).await.unwrap();
    let e = worker(&app, vec![1000]).run_once().await.expect_err("the database is busy");
    assert!(e.is_transient(), "{e:?}");
    drop(held);
    assert_eq!(worker(&app, vec![1000]).run_once().await.expect("free again"), 0);
}
