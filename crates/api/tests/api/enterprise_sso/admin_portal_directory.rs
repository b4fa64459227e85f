//! The admin portal's directory section: an IT administrator sets up directory sync (SCIM) for their organization —
//! creates the directory, copies its SCIM base URL and API key into the IdP, rotates the key, turns provisioning
//! off and on, deletes it — and the Backend API and the SCIM endpoint see exactly that.

use serde_json::json;
use tessera_core::directories::ROTATION_GRACE_MS;
use tessera_testkit::TestApp;

use super::admin_portal_pages::{csrf, get, link, open, post, text};
use super::create_connection;
use crate::organizations::{T0, enable, org_by, user_with_email};

/// The text of the element with this `id` on a page.
fn element(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no #{id} on the page:\n{page}")) + marker.len();
    page[at..].split('<').next().unwrap().to_owned()
}

/// A connection linked to `org` (or to none); returns its id.
async fn connection(app: &TestApp, domain: &str, org: Option<&str>) -> String {
    let c = create_connection(
        app,
        json!({ "name": format!("{domain} SSO"), "provider": "saml_custom", "domains": [domain], "organization_id": org }),
    )
    .await;
    c["id"].as_str().unwrap().to_owned()
}

/// The instance's directories as the Backend API lists them.
async fn listed(app: &TestApp) -> serde_json::Value {
    app.get("/v1/directories").send().await.assert_status(200).json
}

#[tokio::test]
async fn an_it_administrator_sets_up_directory_sync() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let admin = user_with_email(&app, "admin@acme.test").await;
    let org = org_by(&app, "Acme Corp", &admin).await;
    let ec = connection(&app, "acme.test", Some(&org)).await;
    let cookie = open(&app, &link(&app, json!({ "organization_id": org, "scopes": ["directory_sync"] })).await).await;

    let dashboard = text(&get(&app, "/admin-portal", &cookie).await);
    assert!(dashboard.contains("id=\"no-directory\"") && dashboard.contains(&ec), "{dashboard}");
    // A directory-only link does not show the connections' forms.
    assert!(!dashboard.contains("Add a SAML connection"), "{dashboard}");
    let token = csrf(&dashboard);

    // Without the session's CSRF token: refused, nothing created.
    let fields = [("enterprise_connection_id", ec.as_str()), ("provider", "okta")];
    assert_eq!(post(&app, "/admin-portal/directories", &cookie, &fields).await.status, 403);
    let forged = [&fields[..], &[("csrf", "00")]].concat();
    assert_eq!(post(&app, "/admin-portal/directories", &cookie, &forged).await.status, 403);
    assert_eq!(listed(&app).await["total_count"], 0);

    // Created: the page shows the SCIM base URL as the Backend API reports it, and the key once.
    let create = [&fields[..], &[("csrf", token.as_str())]].concat();
    let r = post(&app, "/admin-portal/directories", &cookie, &create).await;
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(r.headers["cache-control"], "no-store");
    let page = text(&r);
    let key = element(&page, "api_key");
    assert!(key.starts_with("dsk_"), "{key}");
    let all = listed(&app).await;
    assert_eq!(all["total_count"], 1);
    let d = &all["data"][0];
    let id = d["id"].as_str().unwrap().to_owned();
    assert_eq!((d["enterprise_connection_id"].clone(), d["provider"].clone()), (json!(ec), json!("okta")));
    assert_eq!(element(&page, "endpoint_url"), d["endpoint_url"].as_str().unwrap());
    let stored = tessera_core::store::directories::get(&app.ctx().db, &app.instance.id, &id).await.unwrap().unwrap();
    assert_eq!(stored.api_key_hash, app.ctx().secrets.digest(&key), "stored as its digest");

    // The key is the IdP's: it authenticates at the SCIM endpoint.
    app.scim(&id, &key).get("/Users").await.status(200);

    // Shown once: the directory's page does not show it again; the dashboard lists the directory, with no create form.
    let path = format!("/admin-portal/directories/{id}");
    let detail = text(&get(&app, &path, &cookie).await);
    assert!(!detail.contains(&key) && !detail.contains("id=\"api_key\""), "{detail}");
    assert_eq!(element(&detail, "state"), "enabled");
    let dashboard = text(&get(&app, "/admin-portal", &cookie).await);
    assert!(dashboard.contains(&path) && !dashboard.contains("Set up directory sync"), "{dashboard}");
    // One directory per organization from the portal.
    let r = post(&app, "/admin-portal/directories", &cookie, &create).await;
    assert_eq!(r.status, 400, "{}", text(&r));
    assert!(text(&r).contains("id=\"error\""));
    assert_eq!(listed(&app).await["total_count"], 1);

    // Turned off: the IdP is refused; turned on again.
    let off = [("csrf", token.as_str())];
    assert_eq!(post(&app, &path, &cookie, &off).await.status, 303);
    assert_eq!(app.get(&format!("/v1/directories/{id}")).send().await.json["enabled"], false);
    app.scim(&id, &key).get("/Users").await.error(403, None);
    let on = [("csrf", token.as_str()), ("enabled", "true")];
    assert_eq!(post(&app, &path, &cookie, &on).await.status, 303);
    assert_eq!(app.get(&format!("/v1/directories/{id}")).send().await.json["enabled"], true);

    // Rotated: a new key, shown once; the old one keeps working for the grace period, then stops.
    let r = post(&app, &format!("{path}/rotate"), &cookie, &off).await;
    assert_eq!(r.status, 200, "{}", text(&r));
    let new_key = element(&text(&r), "api_key");
    assert_ne!(new_key, key);
    app.scim(&id, &new_key).get("/Users").await.status(200);
    app.scim(&id, &key).get("/Users").await.status(200);
    app.ctx().clock.advance_ms(ROTATION_GRACE_MS + 1);
    app.scim(&id, &key).get("/Users").await.error(401, None);
    app.scim(&id, &new_key).get("/Users").await.status(200);

    // Deleted (the first session ended with the hour: a new link): gone from the Backend API; its key stops
    // working at once.
    let cookie = open(&app, &link(&app, json!({ "organization_id": org })).await).await;
    let token = csrf(&text(&get(&app, &path, &cookie).await));
    assert_eq!(post(&app, &format!("{path}/delete"), &cookie, &[("csrf", token.as_str())]).await.status, 303);
    app.get(&format!("/v1/directories/{id}")).send().await.assert_status(404);
    app.scim(&id, &new_key).get("/Users").await.error(401, None);
    assert!(text(&get(&app, "/admin-portal", &cookie).await).contains("id=\"no-directory\""));
}

#[tokio::test]
async fn another_scopes_directory_is_not_the_links() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let admin = user_with_email(&app, "admin@acme.test").await;
    let org = org_by(&app, "Acme Corp", &admin).await;
    let other = org_by(&app, "Other", &admin).await;
    connection(&app, "acme.test", Some(&org)).await;
    let theirs_ec = connection(&app, "other.test", Some(&other)).await;
    let unlinked_ec = connection(&app, "solo.test", None).await;
    let mut ids = Vec::new();
    for ec in [&theirs_ec, &unlinked_ec] {
        let d = app
            .post("/v1/directories", json!({ "enterprise_connection_id": ec, "provider": "okta" }))
            .send()
            .await
            .assert_status(200)
            .json;
        ids.push((d["id"].as_str().unwrap().to_owned(), d["api_key"].as_str().unwrap().to_owned()));
    }

    let cookie = open(&app, &link(&app, json!({ "organization_id": org })).await).await;
    let dashboard = text(&get(&app, "/admin-portal", &cookie).await);
    let token = csrf(&dashboard);
    for (id, _) in &ids {
        assert!(!dashboard.contains(id.as_str()), "{dashboard}");
        let path = format!("/admin-portal/directories/{id}");
        assert_eq!(get(&app, &path, &cookie).await.status, 404);
        let fields = [("csrf", token.as_str())];
        for action in ["", "/rotate", "/delete"] {
            assert_eq!(post(&app, &format!("{path}{action}"), &cookie, &fields).await.status, 404, "{action}");
        }
    }
    // Another organization's connection cannot be given a directory from this link either.
    let create = [("csrf", token.as_str()), ("enterprise_connection_id", theirs_ec.as_str()), ("provider", "okta")];
    assert_eq!(post(&app, "/admin-portal/directories", &cookie, &create).await.status, 400);
    assert_eq!(listed(&app).await["total_count"], 2);
    for (id, key) in &ids {
        let d = app.get(&format!("/v1/directories/{id}")).send().await.assert_status(200).json;
        assert_eq!(d["enabled"], true);
        app.scim(id, key).get("/Users").await.status(200);
    }

    // A link without an organization manages the directory of the connection linked to none.
    let unlinked = open(&app, &link(&app, json!({})).await).await;
    let dashboard = text(&get(&app, "/admin-portal", &unlinked).await);
    assert!(dashboard.contains(&ids[1].0) && !dashboard.contains(&ids[0].0), "{dashboard}");
    assert_eq!(get(&app, &format!("/admin-portal/directories/{}", ids[1].0), &unlinked).await.status, 200);

    // A read-only link shows it and changes nothing; a single-sign-on-only link does not open the section.
    let ro = open(&app, &link(&app, json!({ "scopes": ["admin_portal:read"] })).await).await;
    let detail = text(&get(&app, &format!("/admin-portal/directories/{}", ids[1].0), &ro).await);
    assert!(detail.contains("endpoint_url") && !detail.contains("<form"), "{detail}");
    let r = post(&app, &format!("/admin-portal/directories/{}/rotate", ids[1].0), &ro, &[("csrf", "x")]).await;
    assert_eq!(r.status, 403);
    let sso = open(&app, &link(&app, json!({ "scopes": ["sso"] })).await).await;
    assert!(!text(&get(&app, "/admin-portal", &sso).await).contains("Directory sync"));
    assert_eq!(get(&app, &format!("/admin-portal/directories/{}", ids[1].0), &sso).await.status, 404);
}
