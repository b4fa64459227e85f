//! The IdP's discovery document and JWKS are kept a few minutes: sign-ins in a row read each once, and a key the
//! kept JWKS lacks (rotated in since) makes it be read again.

use serde_json::json;
use tessera_testkit::TestApp;
use tessera_testkit::oidc::{Login, Signing};

use super::*;

#[tokio::test]
async fn sign_ins_in_a_row_read_discovery_and_keys_once_and_a_new_key_is_fetched() {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    o.idp.set_ec_published(false);
    follow(&browser, &s).await.assert_status(303);
    callback(&browser, &s.sign_in_id).await;
    let second = app.browser().await;
    let (id, url) = start(&second, &o, EMAIL).await;
    second.get(&o.idp.authorize(&url, &Login::new(EMAIL)).callback).send().await.assert_status(303);
    callback(&second, &id).await;
    assert_eq!(o.idp.fetches(), (1, 1), "one discovery document and one JWKS for both sign-ins");

    // The IdP rotates an ES256 key in: the kept set lacks its kid, so the JWKS is read again.
    o.idp.set_ec_published(true);
    o.idp.set_signing(Signing::Es256);
    let third = app.browser().await;
    let (id, url) = start(&third, &o, EMAIL).await;
    third.get(&o.idp.authorize(&url, &Login::new(EMAIL)).callback).send().await.assert_status(303);
    callback(&third, &id).await;
    assert_eq!(o.idp.fetches(), (1, 2));
}
