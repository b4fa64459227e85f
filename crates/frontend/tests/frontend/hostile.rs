//! Hostile input on every routed Frontend API operation, from a signed-in browser: garbage bodies and path ids
//! get a Clerk error envelope (or a normal answer), never a 5xx.

use axum::http::Method;
use serde_json::json;
use tessera_testkit::{TestApp, TestResponse};

fn concrete(template: &str, id: &str) -> String {
    template.split('/').map(|seg| if seg.starts_with('{') { id } else { seg }).collect::<Vec<_>>().join("/")
}

#[track_caller]
fn sane(r: &TestResponse, what: &str) {
    assert!(r.status < 500, "{what}: {} {}", r.status, String::from_utf8_lossy(&r.body));
    // The OAuth provider's endpoints answer RFC 6749's `{error, error_description}`, and its authorization
    // endpoint an HTML error page, as their spec declares.
    let oauth_shape = r.json["error"].is_string()
        || r.headers.get("content-type").is_some_and(|ct| ct.as_bytes().starts_with(b"text/html"));
    if r.status >= 400 && !(what.starts_with("OAuth ") && oauth_shape) {
        assert!(
            r.json["errors"][0]["code"].is_string(),
            "{what}: not a Clerk envelope: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
}

#[tokio::test]
async fn hostile_bodies_and_ids_never_reach_a_5xx() {
    let app = TestApp::new().await;
    let user = app
        .post("/v1/users", json!({"email_address": ["ada@example.com"], "password": "correct horse battery staple"}))
        .send()
        .await
        .assert_status(200);
    let user_id = user.json["id"].as_str().unwrap().to_owned();
    let b = app.browser().await;
    b.sign_in_as(&user_id).await;
    let bodies: [(&[u8], &str); 7] = [
        (b"identifier=%00&password=%00", "application/x-www-form-urlencoded"),
        (b"identifier=\xff\xfe&strategy=\xc3\x28", "application/x-www-form-urlencoded"),
        (b"&&&===&%%%", "application/x-www-form-urlencoded"),
        (b"strategy=password&strategy=email_code&identifier[]=x", "application/x-www-form-urlencoded"),
        (b"{\"identifier\": {\"nested\": [1,2]}}", "application/json"),
        (b"{not json", "application/json"),
        (b"\x00\x01\x02", "application/octet-stream"),
    ];
    let long = "x".repeat(5000);
    let ids = ["%00", "..%2F..", long.as_str(), "sess_doesnotexist", "\u{1F600}"];
    let ops = tessera_spec_check::frontend_spec("2026-05-12").operations();
    let mut probed = 0;
    for (method, template, operation_id) in ops {
        // Signing out or deleting the client would leave the later probes unauthenticated (tested elsewhere).
        if matches!(operation_id, "deleteClientSessions" | "removeClientSessionsAndRetainCookie") {
            continue;
        }
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let path = concrete(template, "tessera_probe");
        let first = b.raw(method.clone(), &path).await;
        if first.json["errors"][0]["code"] == "operation_not_implemented" || template.starts_with("/npm") {
            continue;
        }
        probed += 1;
        let label = if template.starts_with("/oauth/") { format!("OAuth {operation_id}") } else { operation_id.into() };
        let operation_id = label.as_str();
        sane(&first, operation_id);
        if method != Method::GET {
            for (body, ct) in bodies {
                sane(&b.raw_body(method.clone(), &path, body, ct).await, operation_id);
            }
        }
        if template.contains('{') {
            for id in ids {
                let p = concrete(template, &url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>());
                sane(&b.raw(method.clone(), &p).await, operation_id);
            }
        }
    }
    assert!(probed >= 30, "probed {probed} routed operations");
    let r = b.get("/v1/client").send().await.assert_status(200);
    assert!(r.json["response"]["id"].is_string(), "the probes ran with the browser's client: {}", r.json);
}
