//! The admin portal's pages, opened by an admin portal link token: an organization's IT administrator adds and
//! sets up its enterprise connections there; what they do is what the Backend API then reports.

use axum::http::Method;
use serde_json::json;
use tessera_testkit::{TestApp, TestResponse};

use super::metadata;
use crate::organizations::{T0, enable, org_by, user_with_email};

/// A portal link token for `body`'s scope; returns the token.
pub(super) async fn link(app: &TestApp, body: serde_json::Value) -> String {
    let t = app.post("/v1/admin_portal_link_tokens", body).send().await.assert_status(201).json;
    t["token"].as_str().unwrap().to_owned()
}

/// Opens the link; returns the session cookie (`name=value`).
pub(super) async fn open(app: &TestApp, token: &str) -> String {
    let r = app.page(Method::GET, &format!("/admin-portal/open/{token}"), None, None).await;
    assert_eq!(r.status, 303, "{}", text(&r));
    assert_eq!(r.headers["location"], "/admin-portal");
    let set = r.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/admin-portal"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

pub(super) fn text(r: &TestResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The CSRF token of a page's forms.
pub(super) fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

pub(super) async fn get(app: &TestApp, path: &str, cookie: &str) -> TestResponse {
    app.page(Method::GET, path, Some(cookie), None).await
}

pub(super) async fn post(app: &TestApp, path: &str, cookie: &str, fields: &[(&str, &str)]) -> TestResponse {
    app.page(Method::POST, path, Some(cookie), Some(&form(fields))).await
}

#[tokio::test]
async fn an_it_administrator_sets_up_saml_for_their_organization() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let admin = user_with_email(&app, "admin@acme.test").await;
    let org = org_by(&app, "Acme Corp", &admin).await;
    let other = org_by(&app, "Other", &admin).await;
    let token = link(&app, json!({ "organization_id": org, "scopes": ["sso"] })).await;

    // No session, or a link used twice: refused.
    assert_eq!(app.page(Method::GET, "/admin-portal", None, None).await.status, 403);
    let cookie = open(&app, &token).await;
    assert_eq!(app.page(Method::GET, &format!("/admin-portal/open/{token}"), None, None).await.status, 403);

    let dashboard = get(&app, "/admin-portal", &cookie).await;
    assert_eq!(dashboard.status, 200);
    let page = text(&dashboard);
    assert!(page.contains("Acme Corp"), "{page}");
    assert_eq!(dashboard.headers["cache-control"], "no-store");
    assert!(dashboard.headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let token_csrf = csrf(&page);

    // Forms without the session's CSRF token are refused, and change nothing.
    let saml = [("provider", "saml_custom"), ("name", "Acme Okta"), ("domain", "acme.test")];
    assert_eq!(post(&app, "/admin-portal/connections", &cookie, &saml).await.status, 403);
    let forged = [&saml[..], &[("csrf", "0000")]].concat();
    assert_eq!(post(&app, "/admin-portal/connections", &cookie, &forged).await.status, 403);
    let none = app.get("/v1/enterprise_connections").send().await.assert_status(200).json;
    assert_eq!(none["total_count"], 0);

    // A validation error shows on the page (400), keeping what was typed.
    let bad = [("csrf", token_csrf.as_str()), ("provider", "saml_custom"), ("name", "Acme Okta"), ("domain", "x")];
    let r = post(&app, "/admin-portal/connections", &cookie, &bad).await;
    assert_eq!(r.status, 400, "{}", text(&r));
    assert!(text(&r).contains("id=\"error\"") && text(&r).contains("Acme Okta"));

    // Added: linked to the link's organization, off until the IdP side is set up.
    let xml = metadata("https://idp.acme.test/entity");
    let add = [
        ("csrf", token_csrf.as_str()),
        ("provider", "saml_custom"),
        ("name", "Acme Okta"),
        ("domain", "acme.test"),
        ("idp_metadata", xml.as_str()),
    ];
    let r = post(&app, "/admin-portal/connections", &cookie, &add).await;
    assert_eq!(r.status, 303, "{}", text(&r));
    let location = r.headers["location"].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    let c = app.get(&format!("/v1/enterprise_connections/{id}")).send().await.assert_status(200).json;
    assert_eq!((c["organization_id"].clone(), c["active"].clone()), (json!(org), json!(false)));
    assert_eq!(c["domains"], json!(["acme.test"]));
    assert_eq!(c["saml_connection"]["idp_entity_id"], "https://idp.acme.test/entity");

    // The page shows the service-provider values exactly as the Backend API reports them.
    let detail = text(&get(&app, &location, &cookie).await);
    for key in ["acs_url", "sp_entity_id", "sp_metadata_url"] {
        let value = c["saml_connection"][key].as_str().unwrap();
        assert!(detail.contains(&format!("data-key=\"{key}\">{value}<")), "{key} {value} missing:\n{detail}");
    }

    // Enabled from the portal.
    let enable_form =
        [("csrf", token_csrf.as_str()), ("active", "true"), ("idp_metadata_url", ""), ("idp_metadata", "")];
    assert_eq!(post(&app, &location, &cookie, &enable_form).await.status, 303);
    let c = app.get(&format!("/v1/enterprise_connections/{id}")).send().await.json;
    assert_eq!(c["active"], true);

    // Another organization's connection is not this link's: 404 to look at, to change or to delete.
    let theirs = super::create_connection(
        &app,
        json!({ "name": "Theirs", "provider": "saml_custom", "domains": ["other.test"], "organization_id": other }),
    )
    .await;
    let theirs_path = format!("/admin-portal/connections/{}", theirs["id"].as_str().unwrap());
    assert_eq!(get(&app, &theirs_path, &cookie).await.status, 404);
    let csrf_only = [("csrf", token_csrf.as_str())];
    assert_eq!(post(&app, &format!("{theirs_path}/delete"), &cookie, &csrf_only).await.status, 404);
    assert!(!text(&get(&app, "/admin-portal", &cookie).await).contains("Theirs"));

    // Deleted from the portal.
    assert_eq!(post(&app, &format!("{location}/delete"), &cookie, &csrf_only).await.status, 303);
    app.get(&format!("/v1/enterprise_connections/{id}")).send().await.assert_status(404);

    // Revoking the token ends the session at once.
    let t = app.post("/v1/admin_portal_link_tokens", json!({ "organization_id": org })).send().await.json;
    let cookie2 = open(&app, t["token"].as_str().unwrap()).await;
    assert_eq!(get(&app, "/admin-portal", &cookie2).await.status, 200);
    app.post(&format!("/v1/admin_portal_link_tokens/{}/revoke", t["id"].as_str().unwrap()), json!({}))
        .send()
        .await
        .assert_status(200);
    assert_eq!(get(&app, "/admin-portal", &cookie2).await.status, 403);

    // And the first session ends after an hour.
    app.ctx().clock.advance_ms(3_600_001);
    assert_eq!(get(&app, "/admin-portal", &cookie).await.status, 403);
}

#[tokio::test]
async fn oidc_read_only_and_expired_links() {
    let app = TestApp::with_clock(T0).await;

    // A link without an organization manages the connections linked to none; OIDC: the secret is kept, not shown.
    let cookie = open(&app, &link(&app, json!({})).await).await;
    let page = text(&get(&app, "/admin-portal", &cookie).await);
    let oidc = [
        ("csrf", csrf(&page)),
        ("provider", "oidc_custom".into()),
        ("name", "Corp OIDC".into()),
        ("domain", "corp.test".into()),
        ("discovery_url", "https://idp.corp.test/.well-known/openid-configuration".into()),
        ("client_id", "client-1".into()),
        ("client_secret", "s3cret-value".into()),
    ];
    let fields: Vec<(&str, &str)> = oidc.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post(&app, "/admin-portal/connections", &cookie, &fields).await;
    assert_eq!(r.status, 303, "{}", text(&r));
    let location = r.headers["location"].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap();
    let c = app.get(&format!("/v1/enterprise_connections/{id}")).send().await.assert_status(200).json;
    assert_eq!(
        (c["organization_id"].clone(), c["oauth_config"]["client_id"].clone()),
        (json!(null), json!("client-1"))
    );
    let detail = text(&get(&app, &location, &cookie).await);
    assert!(detail.contains("client-1") && !detail.contains("s3cret-value"), "{detail}");

    // A read-only link shows and changes nothing.
    let ro = open(&app, &link(&app, json!({ "scopes": ["admin_portal:read"] })).await).await;
    let page = text(&get(&app, "/admin-portal", &ro).await);
    assert!(page.contains("Corp OIDC") && !page.contains("<form"), "{page}");
    let r = post(&app, &format!("{location}/delete"), &ro, &[("csrf", "x")]).await;
    assert_eq!(r.status, 403);
    app.get(&format!("/v1/enterprise_connections/{id}")).send().await.assert_status(200);

    // A directory-only link does not open single sign-on (its directory form only names the connections).
    let dir = open(&app, &link(&app, json!({ "scopes": ["directory_sync"] })).await).await;
    let page = text(&get(&app, "/admin-portal", &dir).await);
    assert!(!page.contains("id=\"connections\"") && !page.contains(&location), "{page}");
    assert_eq!(get(&app, &location, &dir).await.status, 404);

    // Unknown, expired and revoked tokens open nothing.
    for token in ["aplt_nope", "wpt_x", ""] {
        let r = app.page(Method::GET, &format!("/admin-portal/open/{token}"), None, None).await;
        assert!(r.status == 403 || r.status == 404, "{token}: {}", r.status);
    }
    let t = app.post("/v1/admin_portal_link_tokens", json!({ "seconds_until_expiration": 60 })).send().await.json;
    app.ctx().clock.advance_ms(60_001);
    let r = app.page(Method::GET, &format!("/admin-portal/open/{}", t["token"].as_str().unwrap()), None, None).await;
    assert_eq!(r.status, 403);
    let t = app.post("/v1/admin_portal_link_tokens", json!({})).send().await.json;
    app.post(&format!("/v1/admin_portal_link_tokens/{}/revoke", t["id"].as_str().unwrap()), json!({})).send().await;
    let r = app.page(Method::GET, &format!("/admin-portal/open/{}", t["token"].as_str().unwrap()), None, None).await;
    assert_eq!(r.status, 403);
}
