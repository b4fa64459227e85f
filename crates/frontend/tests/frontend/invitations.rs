//! Invitation tickets as clerk-js redeems them: an invitation's `url` leads (through `GET /v1/tickets/accept`) to
//! its redirect URL with `__clerk_ticket` and `__clerk_status`; `POST /v1/client/sign_ups` with `strategy=ticket`
//! makes the user with the invited address verified and accepts the invitation (an organization invitation makes
//! the user a member); `POST /v1/client/sign_ins` with an organization invitation's ticket signs the invited user in
//! and adds them. Used, revoked, expired, forged and foreign tickets are refused with Clerk's codes.

use base64::Engine as _;
use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_core::settings::SignUpSettings;
use tessera_testkit::{TestApp, TestBrowser, TestResponse};

use crate::{T0, events_of};

const PASSWORD: &str = "correct horse battery";
const SIGN_UPS: &str = "/v1/client/sign_ups";
const SIGN_INS: &str = "/v1/client/sign_ins";

async fn settings(app: &TestApp, required: &[&str]) {
    let s = SignUpSettings {
        required_fields: required.iter().map(|s| (*s).to_owned()).collect(),
        optional_fields: vec![],
        custom_action_required: false,
        legal_consent_required: false,
    };
    tessera_core::settings::store_sign_up_settings(app.ctx(), &app.instance, s).await.unwrap();
}

/// The ticket inside an invitation's `url`, after checking the URL's shape.
fn ticket_of(app: &TestApp, invitation: &Value) -> String {
    let url = url::Url::parse(invitation["url"].as_str().expect("url")).unwrap();
    assert_eq!(url.host_str(), Some(app.instance.frontend_host().as_str()));
    assert_eq!(url.path(), "/v1/tickets/accept");
    url.query_pairs().find(|(k, _)| k == "ticket").expect("ticket").1.into_owned()
}

/// The claims of a ticket (a JWT, as Clerk's).
fn claims(ticket: &str) -> Value {
    let payload = ticket.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Opens the invitation link; returns where it leads.
async fn follow(b: &TestBrowser<'_>, ticket: &str) -> url::Url {
    let r = b.get(&format!("/v1/tickets/accept?ticket={ticket}")).send().await.assert_status(303);
    url::Url::parse(r.headers.get("location").expect("Location").to_str().unwrap()).unwrap()
}

fn param(u: &url::Url, name: &str) -> Option<String> {
    u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn sign_up(b: &TestBrowser<'_>, ticket: &str, more: &[(&str, &str)]) -> TestResponse {
    let mut form = vec![("strategy", "ticket"), ("ticket", ticket)];
    form.extend_from_slice(more);
    b.post(SIGN_UPS, &form).send().await
}

async fn invitation_status(app: &TestApp, id: &str) -> Value {
    let list = app.get("/v1/invitations").send().await.assert_status(200).json;
    list.as_array().unwrap().iter().find(|i| i["id"] == id).expect("listed")["status"].clone()
}

#[tokio::test]
async fn an_instance_invitation_signs_up_its_invitee_once() {
    let app = TestApp::with_clock(T0).await;
    settings(&app, &["email_address", "password"]).await;
    let body = json!({ "email_address": "Ada@Example.com", "public_metadata": { "plan": "pro" },
                       "redirect_url": "https://app.example.com/accept" });
    let inv = app.post("/v1/invitations", body).send().await.assert_status(200).json;
    let ticket = ticket_of(&app, &inv);
    let c = claims(&ticket);
    assert_eq!((c["sid"].as_str(), c["st"].as_str()), (inv["id"].as_str(), Some("invitation")));
    assert_eq!((c["iid"].as_str(), c["exp"].as_i64()), (Some(app.instance.id.as_str()), Some(T0 / 1000 + 30 * 86_400)));
    // The e-mail links to the ticket URL.
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 1).await.unwrap();
    assert!(msgs[0].body.contains(&ticket), "{}", msgs[0].body);

    // The link leads to the redirect URL with the ticket; nobody is signed in by it.
    let b = app.browser().await;
    let to = follow(&b, &ticket).await;
    assert_eq!((to.host_str(), to.path()), (Some("app.example.com"), "/accept"));
    assert_eq!(param(&to, "__clerk_ticket").as_deref(), Some(ticket.as_str()));
    assert_eq!(param(&to, "__clerk_status").as_deref(), Some("sign_up"));
    assert_eq!(invitation_status(&app, inv["id"].as_str().unwrap()).await, "pending");

    // clerk-js's sign-up with the ticket: the invited address, verified by the ticket, and the metadata.
    let r = sign_up(&b, &ticket, &[("password", PASSWORD)]).await.assert_status(200);
    let s = &r.json["response"];
    assert_eq!((s["status"].as_str(), s["email_address"].as_str()), (Some("complete"), Some("ada@example.com")));
    let v = &s["verifications"]["email_address"];
    assert_eq!((v["object"].as_str(), v["strategy"].as_str()), (Some("verification_ticket"), Some("ticket")));
    assert_eq!(v["status"], "verified");
    assert_eq!(r.json["client"]["last_authentication_strategy"], "ticket");
    let uid = s["created_user_id"].as_str().unwrap();
    let user = app.get(&format!("/v1/users/{uid}")).send().await.assert_status(200).json;
    assert_eq!(user["public_metadata"], json!({ "plan": "pro" }));
    assert_eq!(user["email_addresses"][0]["verification"]["strategy"], "ticket");
    assert_eq!(user["email_addresses"][0]["verification"]["status"], "verified");
    assert_eq!(invitation_status(&app, inv["id"].as_str().unwrap()).await, "accepted");

    // Used: refused everywhere; its link now points to sign-in (the address is a user's).
    let b2 = app.browser().await;
    sign_up(&b2, &ticket, &[("password", PASSWORD)]).await.assert_error(400, "ticket_invalid_code", Some("ticket"));
    assert_eq!(param(&follow(&b2, &ticket).await, "__clerk_status").as_deref(), Some("sign_in"));
}

#[tokio::test]
async fn a_partial_ticket_sign_up_accepts_the_invitation_when_it_completes() {
    let app = TestApp::with_clock(T0).await;
    settings(&app, &["email_address", "first_name"]).await;
    let inv = app.post("/v1/invitations", json!({ "email_address": "bo@example.com" })).send().await;
    let inv = inv.assert_status(200).json;
    let id = inv["id"].as_str().unwrap();
    let ticket = ticket_of(&app, &inv);
    // No redirect URL: the hosted sign-up page.
    let b = app.browser().await;
    let to = follow(&b, &ticket).await;
    assert_eq!(
        to.as_str().split('?').next(),
        Some(format!("https://{}/sign-up", app.instance.frontend_host()).as_str())
    );
    let r = sign_up(&b, &ticket, &[]).await.assert_status(200);
    let s = &r.json["response"];
    assert_eq!((s["status"].as_str(), &s["missing_fields"]), (Some("missing_requirements"), &json!(["first_name"])));
    assert_eq!(s["unverified_fields"], json!([]));
    assert_eq!(invitation_status(&app, id).await, "pending");
    // A ticket is redeemed when a sign-up is created, not later.
    let sid = s["id"].as_str().unwrap();
    b.patch(&format!("{SIGN_UPS}/{sid}"), &[("strategy", "ticket"), ("ticket", &ticket)]).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("strategy"),
    );
    let r = b.patch(&format!("{SIGN_UPS}/{sid}"), &[("first_name", "Bo")]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "complete");
    assert_eq!(invitation_status(&app, id).await, "accepted");
}

#[tokio::test]
async fn bad_invitation_tickets_are_refused_with_clerks_codes() {
    let app = TestApp::with_clock(T0).await;
    settings(&app, &["email_address", "password"]).await;
    let create = |email: &'static str, days: i64| {
        let app = &app;
        async move {
            let body = json!({ "email_address": email, "expires_in_days": days });
            app.post("/v1/invitations", body).send().await.assert_status(200).json
        }
    };
    let b = app.browser().await;
    // Revoked.
    let revoked = create("r@example.com", 30).await;
    app.post(&format!("/v1/invitations/{}/revoke", revoked["id"].as_str().unwrap()), json!({}))
        .send()
        .await
        .assert_status(200);
    sign_up(&b, &ticket_of(&app, &revoked), &[("password", PASSWORD)]).await.assert_error(
        400,
        "ticket_invalid_code",
        Some("ticket"),
    );
    // Forged: another signature, or claims changed under the old one.
    let good = ticket_of(&app, &create("g@example.com", 30).await);
    let (head, sig) = good.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    for forged in [format!("{head}.{flipped}{}", &sig[1..]), format!("{head}.")] {
        sign_up(&b, &forged, &[("password", PASSWORD)]).await.assert_error(400, "ticket_invalid_code", Some("ticket"));
    }
    let mut c = claims(&good);
    c["sid"] = json!(revoked["id"]);
    let (h, _) = head.split_once('.').unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string());
    sign_up(&b, &format!("{h}.{b64}.{sig}"), &[("password", PASSWORD)]).await.assert_error(
        400,
        "ticket_invalid_code",
        Some("ticket"),
    );
    // Another instance's ticket.
    let (other, key) = app.create_instance(Environment::Development).await;
    let foreign = app.post("/v1/invitations", json!({ "email_address": "f@example.com" })).bearer(&key).send().await;
    let foreign = ticket_of_host(&other.frontend_host(), &foreign.assert_status(200).json);
    sign_up(&b, &foreign, &[("password", PASSWORD)]).await.assert_error(400, "ticket_invalid_code", Some("ticket"));
    // Missing.
    b.post(SIGN_UPS, &[("strategy", "ticket")]).send().await.assert_error(422, "form_param_missing", Some("ticket"));
    // Expired: still leads on, then refused.
    let expired = ticket_of(&app, &create("e@example.com", 1).await);
    app.clock.advance_ms(86_400_000);
    assert_eq!(param(&follow(&b, &expired).await, "__clerk_status").as_deref(), Some("sign_up"));
    sign_up(&b, &expired, &[("password", PASSWORD)]).await.assert_error(400, "ticket_expired_code", Some("ticket"));
    // Nothing was written by the refusals: no user.
    assert_eq!(app.get("/v1/users/count").send().await.assert_status(200).json["total_count"], 0);
    // The good one still works.
    sign_up(&b, &good, &[("password", PASSWORD)]).await.assert_status(200);
}

fn ticket_of_host(host: &str, invitation: &Value) -> String {
    let url = url::Url::parse(invitation["url"].as_str().expect("url")).unwrap();
    assert_eq!(url.host_str(), Some(host));
    url.query_pairs().find(|(k, _)| k == "ticket").unwrap().1.into_owned()
}

/// Organizations on, and an organization made by a new admin; returns its id.
async fn organization(app: &TestApp) -> String {
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true })).send().await.assert_status(200);
    let admin = app.post("/v1/users", json!({ "email_address": ["admin@example.com"], "password": PASSWORD }));
    let admin = admin.send().await.assert_status(200).json["id"].as_str().unwrap().to_owned();
    let org = app.post("/v1/organizations", json!({ "name": "Acme", "created_by": admin })).send().await;
    org.assert_status(200).json["id"].as_str().unwrap().to_owned()
}

async fn invite(app: &TestApp, org: &str, email: &str) -> Value {
    let body = json!({ "email_address": email, "role": "org:member", "public_metadata": { "team": "red" },
                       "private_metadata": { "note": "n" } });
    app.post(&format!("/v1/organizations/{org}/invitations"), body).send().await.assert_status(200).json
}

async fn members(app: &TestApp, org: &str) -> Vec<Value> {
    let r = app.get(&format!("/v1/organizations/{org}/memberships")).send().await.assert_status(200).json;
    r["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_organization_invitation_makes_a_new_user_a_member() {
    let app = TestApp::with_clock(T0).await;
    settings(&app, &["email_address", "password"]).await;
    let org = organization(&app).await;
    let inv = invite(&app, &org, "new@example.com").await;
    let ticket = ticket_of(&app, &inv);
    assert_eq!(claims(&ticket)["st"], "organization_invitation");
    let b = app.browser().await;
    assert_eq!(param(&follow(&b, &ticket).await, "__clerk_status").as_deref(), Some("sign_up"));
    let r = sign_up(&b, &ticket, &[("password", PASSWORD)]).await.assert_status(200);
    let uid = r.json["response"]["created_user_id"].as_str().unwrap().to_owned();
    let m = members(&app, &org).await;
    let mine = m.iter().find(|m| m["public_user_data"]["user_id"] == uid.as_str()).expect("a member");
    assert_eq!(mine["role"], "org:member");
    assert_eq!(
        (&mine["public_metadata"], &mine["private_metadata"]),
        (&json!({ "team": "red" }), &json!({ "note": "n" }))
    );
    let got = app.get(&format!("/v1/organizations/{org}/invitations/{}", inv["id"].as_str().unwrap())).send().await;
    assert_eq!(got.assert_status(200).json["status"], "accepted");
    let accepted = events_of(&app, "organizationInvitation.accepted").await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["data"]["id"], inv["id"]);
    assert!(
        events_of(&app, "organizationMembership.created")
            .await
            .iter()
            .any(|e| e["data"]["public_user_data"]["user_id"] == uid.as_str())
    );
    sign_up(&app.browser().await, &ticket, &[("password", PASSWORD)]).await.assert_error(
        400,
        "ticket_invalid_code",
        Some("ticket"),
    );
}

#[tokio::test]
async fn an_organization_invitation_signs_an_existing_user_in_as_a_member() {
    let app = TestApp::with_clock(T0).await;
    let org = organization(&app).await;
    let user = app.post("/v1/users", json!({ "email_address": ["old@example.com"], "password": PASSWORD }));
    let uid = user.send().await.assert_status(200).json["id"].as_str().unwrap().to_owned();
    let inv = invite(&app, &org, "old@example.com").await;
    let ticket = ticket_of(&app, &inv);
    let b = app.browser().await;
    // No redirect URL: the hosted sign-in page.
    let to = follow(&b, &ticket).await;
    assert_eq!(to.path(), "/sign-in");
    assert_eq!(param(&to, "__clerk_status").as_deref(), Some("sign_in"));
    let r = b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", &ticket)]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "complete");
    assert_eq!(r.json["client"]["sessions"][0]["user"]["id"], uid.as_str());
    assert!(members(&app, &org).await.iter().any(|m| m["public_user_data"]["user_id"] == uid.as_str()));
    assert_eq!(events_of(&app, "organizationInvitation.accepted").await.len(), 1);
    // Used.
    let b2 = app.browser().await;
    b2.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", &ticket)]).send().await.assert_error(
        400,
        "ticket_invalid_code",
        Some("ticket"),
    );
    // An invitation nobody holds the address of is for sign-up (clerk-js goes there on this code).
    let other = invite(&app, &org, "nobody@example.com").await;
    b2.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", &ticket_of(&app, &other))]).send().await.assert_error(
        400,
        "invitation_account_not_exists",
        None,
    );
}
