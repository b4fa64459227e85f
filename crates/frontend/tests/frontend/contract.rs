//! Contract: every operation of the Frontend API spec (2025-11-10) is either routed to a real handler or answers
//! `operation_not_implemented` on the instance's frontend host; prints how many are routed.

use tessera_testkit::TestApp;

fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| if seg.starts_with('{') { "tessera_probe" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_frontend_operation_is_routed_or_reports_not_implemented() {
    let app = TestApp::new().await;
    let browser = app.browser().await;
    let ops = tessera_spec_check::frontend_spec("2025-11-10").operations();
    assert_eq!(ops.len(), 192);
    let mut routed = Vec::new();
    let mut pending = Vec::new();
    for (method, template, operation_id) in ops {
        let path = concrete(template);
        let method = axum::http::Method::from_bytes(method.as_bytes()).unwrap();
        let r = browser.raw(method.clone(), &path).await;
        assert!(r.status < 500, "{method} {path} ({operation_id}) answered {}: {}", r.status, r.json);
        assert_ne!(r.status, 405, "{method} {path} ({operation_id}) is a spec operation but answered 405");
        if r.json["errors"][0]["code"] == "operation_not_implemented" {
            pending.push(operation_id);
        } else {
            routed.push(operation_id);
        }
    }
    println!("frontend routed {}/192", routed.len());
    println!("frontend not implemented yet: {}", pending.join(", "));
    assert!(routed.len() >= 16, "{routed:?}");
}
