//! The ACS completes a sign-in only in the browser that started it (login CSRF / session fixation): on production
//! instances by the `__client` cookie, after a same-site re-post when the IdP's cross-site POST came without it;
//! development browsers without the cookie are let through. A refusal spends nothing.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::saml::TestIdp;
use tessera_testkit::{TestApp, TestResponse};

use super::*;

/// A production instance with a connection and a sign-in started by `browser` (whose client is in its cookie jar).
async fn production(app: &TestApp) -> (Connection, TestBrowser<'_>, Started) {
    let (prod, key) = app.create_instance(Environment::Production).await;
    app.post("/v1/redirect_urls", json!({ "url": "http://localhost:3000/" }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    let c = connection_in(app, Some(&key), json!({})).await;
    let mut browser = app.browser_for(&prod).await;
    browser.origin = None;
    let s = start(&browser, "enterprise_sso", EMAIL).await;
    assert!(browser.cookie("__client").is_some_and(|t| t.starts_with("clt_")), "the sign-in made the client");
    (c, browser, s)
}

/// Another browser on the same instance, without any cookie (the IdP's cross-site POST).
async fn cookieless<'a>(app: &'a TestApp, like: &TestBrowser<'_>) -> TestBrowser<'a> {
    let mut b = app.browser_for(&like.instance).await;
    b.origin = None;
    b
}

/// The hidden fields of the re-post page (HTML entities decoded).
fn repost_fields(r: &TestResponse) -> Vec<(String, String)> {
    let html = String::from_utf8(r.body.clone()).unwrap();
    let decode = |s: &str| {
        let mut out = s.to_owned();
        for (e, c) in [("&#x3D;", "="), ("&#x2F;", "/"), ("&#x27;", "'"), ("&quot;", "\""), ("&lt;", "<")] {
            out = out.replace(e, c);
        }
        out.replace("&gt;", ">").replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let value = rest.split('"').next().unwrap();
            (decode(name), decode(value))
        })
        .collect()
}

#[tokio::test]
async fn production_bounces_a_cookieless_post_and_the_same_site_repost_signs_in() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = production(&app).await;
    let response = TestIdp::new().response(&assertion(&app, &c, &s, EMAIL));
    let idp_post = cookieless(&app, &browser).await;
    let acs = format!("/v1/saml/acs/{}", c.saml_id);
    let r = idp_post.post(&acs, &[("SAMLResponse", &response), ("RelayState", &s.sign_in_id)]).send().await;
    let r = r.assert_status(200);
    assert_eq!(r.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(r.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let html = String::from_utf8(r.body.clone()).unwrap();
    assert!(html.contains(&format!("action=\"https://{}{acs}\"", browser.host)), "{html}");
    let fields = repost_fields(&r);
    assert_eq!(
        fields,
        vec![
            ("SAMLResponse".to_owned(), response.clone()),
            ("RelayState".to_owned(), s.sign_in_id.clone()),
            ("tessera_reposted".to_owned(), "1".to_owned()),
        ]
    );
    // Nothing was spent: the sign-in still waits.
    let si = sign_in(&browser, &s.sign_in_id).await;
    assert_eq!(si["status"], "needs_first_factor", "{si}");

    // The page's same-site POST carries the browser's cookie.
    let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = browser.post(&acs, &form).send().await.assert_status(303);
    assert_eq!(r.headers["location"], REDIRECT);
    callback(&browser, &s.sign_in_id).await;
    let client = browser.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(client["response"]["sessions"][0]["user"]["enterprise_accounts"][0]["email_address"], EMAIL);
}

#[tokio::test]
async fn production_refuses_a_repost_without_the_cookie_and_spends_nothing() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = production(&app).await;
    let response = TestIdp::new().response(&assertion(&app, &c, &s, EMAIL));
    let acs = format!("/v1/saml/acs/{}", c.saml_id);
    let bare = cookieless(&app, &browser).await;
    let r = bare.post(&acs, &[("SAMLResponse", &response), ("tessera_reposted", "1")]).send().await;
    assert_refused(&browser, &s, r, "arrived without its client").await;
    // The same response still completes the sign-in in its own browser.
    browser.post(&acs, &[("SAMLResponse", &response)]).send().await.assert_status(303);
    callback(&browser, &s.sign_in_id).await;
}

#[tokio::test]
async fn production_refuses_another_clients_cookie_and_an_unknown_one() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = production(&app).await;
    let response = TestIdp::new().response(&assertion(&app, &c, &s, EMAIL));
    let acs = format!("/v1/saml/acs/{}", c.saml_id);
    // The victim's browser has a client of its own: the attacker's sign-in must not end in either.
    let victim = cookieless(&app, &browser).await;
    victim.post("/v1/client", &[]).send().await.assert_status(200);
    assert!(victim.cookie("__client").is_some());
    for reposted in [false, true] {
        let mut form = vec![("SAMLResponse", response.as_str())];
        if reposted {
            form.push(("tessera_reposted", "1"));
        }
        let r = victim.post(&acs, &form).send().await;
        assert_refused(&browser, &s, r, "not the one that started the sign-in").await;
    }
    let victim_client = victim.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(victim_client["response"]["sessions"], json!([]), "{victim_client}");
    let stranger = cookieless(&app, &browser).await;
    let r = stranger.post(&acs, &[("SAMLResponse", &response)]).header("cookie", "__client=clt_unknown").send().await;
    assert_refused(&browser, &s, r, "not the one that started the sign-in").await;
    // Nothing was spent: the browser that started the sign-in completes it.
    browser.post(&acs, &[("SAMLResponse", &response)]).send().await.assert_status(303);
    callback(&browser, &s.sign_in_id).await;
}

#[tokio::test]
async fn development_completes_without_the_cookie_but_not_with_another_clients() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({})).await;
    let browser = app.browser().await;
    let s = start(&browser, "enterprise_sso", EMAIL).await;
    let response = TestIdp::new().response(&assertion(&app, &c, &s, EMAIL));
    let acs = format!("/v1/saml/acs/{}", c.saml_id);
    // Another development browser's client, shown as a cookie, is not this sign-in's.
    let other = app.browser().await;
    let other_token = other.dev_browser.clone().unwrap();
    let r = other
        .post(&acs, &[("SAMLResponse", &response)])
        .header("cookie", &format!("__client={other_token}"))
        .send()
        .await;
    assert_refused(&browser, &s, r, "not the one that started the sign-in").await;
    // Without a cookie (nothing of a dev browser survives the IdP round trip), the sign-in completes: no page.
    let idp_post = app.browser().await;
    let r = idp_post.post(&acs, &[("SAMLResponse", &response)]).send().await.assert_status(303);
    assert_eq!(r.headers["location"], REDIRECT);
    callback(&browser, &s.sign_in_id).await;
}
