//! Enterprise connection test runs: the Backend API issues a one-time URL on the frontend host that runs the
//! connection's IdP flow (SAML or OIDC) in test mode; the ACS or the callback records the logs, the parsed user and
//! the raw exchange, and signs no one in.

use axum::http::Method;
use serde_json::{Value, json};
use tessera_testkit::oidc::{Login, Signing};
use tessera_testkit::saml::{Assertion, IDP_SSO_URL, TestIdp, read_request};
use tessera_testkit::{TestApp, TestBrowser};

use crate::T0;
use crate::{oidc, saml};

/// Creates a run of connection `id` and returns its URL's path on the frontend host.
async fn create_run(app: &TestApp, id: &str) -> String {
    let r = app.post(&format!("/v1/enterprise_connections/{id}/test_runs"), json!({})).send().await.assert_status(200);
    let url = r.json["url"].as_str().expect("url").to_owned();
    let prefix = format!("https://{}", app.instance.frontend_host());
    assert!(url.starts_with(&format!("{prefix}/enterprise-sso/test/")), "{url}");
    url[prefix.len()..].to_owned()
}

async fn runs(app: &TestApp, id: &str, query: &str) -> Value {
    app.get(&format!("/v1/enterprise_connections/{id}/test_runs{query}")).send().await.assert_status(200).json
}

/// Opens the run's URL: the browser is sent to the IdP.
async fn open(browser: &TestBrowser<'_>, path: &str) -> String {
    let r = browser.raw(Method::GET, path).await.assert_status(303);
    r.headers["location"].to_str().unwrap().to_owned()
}

/// Follows a redirect to the result page and returns its HTML.
async fn result_page(browser: &TestBrowser<'_>, location: &str) -> String {
    let path = &location[location.find("/enterprise-sso/test-runs/").expect("result page")..];
    let r = browser.raw(Method::GET, path).await.assert_status(200);
    String::from_utf8(r.body).unwrap()
}

#[tokio::test]
async fn an_oidc_test_run_records_the_parsed_user_and_signs_no_one_in() {
    let app = TestApp::with_clock(T0).await;
    let o = oidc::connection(&app, json!({})).await;
    let path = create_run(&app, &o.id).await;
    let pending = runs(&app, &o.id, "").await;
    assert_eq!(pending["total_count"], 1);
    assert_eq!(pending["data"][0]["status"], "pending");
    assert_eq!(pending["data"][0]["connection_type"], "oauth");

    let browser = app.browser().await;
    let idp_url = open(&browser, &path).await;
    assert!(idp_url.starts_with(&format!("{}/authorize?", o.idp.issuer)), "{idp_url}");
    let answered = o.idp.authorize(&idp_url, &Login::new(oidc::EMAIL));
    let r = browser.get(&answered.callback).send().await.assert_status(303);
    let html = result_page(&browser, r.headers["location"].to_str().unwrap()).await;
    assert!(html.contains("<strong>success</strong>"), "{html}");

    let done = runs(&app, &o.id, "").await;
    let run = &done["data"][0];
    assert_eq!(run["status"], "success", "{run}");
    assert_eq!(run["parsed_user_info"]["email_address"], oidc::EMAIL);
    assert_eq!(run["parsed_user_info"]["user_id"], format!("idp-{}", oidc::EMAIL));
    assert_eq!(run["parsed_user_info"]["first_name"], "Grace");
    assert!(run["oauth"]["id_token"].as_str().is_some_and(|t| t.split('.').count() == 3), "{run}");
    assert!(run["logs"].as_array().unwrap().len() >= 2, "{run}");
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json, json!([]), "no user in test mode");

    // The URL opens once; a status filter narrows the list.
    browser.raw(Method::GET, &path).await.assert_status(404);
    assert_eq!(runs(&app, &o.id, "?status=failed").await["total_count"], 0);
    assert_eq!(runs(&app, &o.id, "?status=failed&status=success").await["total_count"], 1);
}

#[tokio::test]
async fn an_oidc_test_run_that_fails_records_why() {
    let app = TestApp::with_clock(T0).await;
    let o = oidc::connection(&app, json!({})).await;
    let path = create_run(&app, &o.id).await;
    let browser = app.browser().await;
    let idp_url = open(&browser, &path).await;
    let answered = o.idp.authorize(&idp_url, &Login::new(oidc::EMAIL));
    o.idp.set_signing(Signing::AlgNone);
    let r = browser.get(&answered.callback).send().await.assert_status(303);
    let html = result_page(&browser, r.headers["location"].to_str().unwrap()).await;
    assert!(html.contains("<strong>failed</strong>") && html.contains("is not accepted"), "{html}");
    let run = &runs(&app, &o.id, "?status=failed").await["data"][0];
    let logs = run["logs"].as_array().unwrap();
    assert!(logs.iter().any(|l| l["level"] == "error" && l["code"] == "oidc_callback_invalid"), "{run}");
}

#[tokio::test]
async fn a_saml_test_run_records_success_then_a_forged_answer_fails() {
    let app = TestApp::with_clock(T0).await;
    let c = saml::connection(&app, json!({})).await;
    let browser = app.browser().await;
    for (idp, status) in [(TestIdp::new(), "success"), (TestIdp::stranger(), "failed")] {
        app.clock.advance_ms(1000); // the newest run lists first
        let path = create_run(&app, &c.id).await;
        let idp_url = open(&browser, &path).await;
        assert!(idp_url.starts_with(&format!("{IDP_SSO_URL}?SAMLRequest=")), "{idp_url}");
        let (request_id, acs_url, _) = read_request(&idp_url);
        let a = Assertion::new(&request_id, saml::EMAIL, &c.sp_entity_id, &acs_url, app.clock.now_ms());
        let r = saml::post_acs(&browser, &c, &idp.response(&a)).await.assert_status(303);
        let html = result_page(&browser, r.headers["location"].to_str().unwrap()).await;
        assert!(html.contains(&format!("<strong>{status}</strong>")), "{html}");
        let run = &runs(&app, &c.id, "").await["data"][0];
        assert_eq!(run["status"], status, "{run}");
        assert_eq!(run["connection_type"], "saml");
        assert!(run["saml"]["saml_response"].as_str().is_some_and(|s| !s.is_empty()), "{run}");
        if status == "success" {
            assert_eq!(run["parsed_user_info"]["email_address"], saml::EMAIL, "{run}");
        } else {
            assert!(run["parsed_user_info"].is_null(), "{run}");
            assert!(run["logs"].as_array().unwrap().iter().any(|l| l["code"] == "saml_response_invalid"), "{run}");
        }
    }
    assert_eq!(runs(&app, &c.id, "").await["total_count"], 2);
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json, json!([]), "no user in test mode");
}

#[tokio::test]
async fn test_runs_of_an_unknown_connection_are_not_found() {
    let app = TestApp::with_clock(T0).await;
    app.post("/v1/enterprise_connections/ec_unknown/test_runs", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.get("/v1/enterprise_connections/ec_unknown/test_runs").send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let c = saml::connection(&app, json!({})).await;
    app.get(&format!("/v1/enterprise_connections/{}/test_runs?status=bogus", c.id)).send().await.assert_status(422);
}
