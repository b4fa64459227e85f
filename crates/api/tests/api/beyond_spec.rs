//! Calls `@clerk/backend` makes that no spec revision lists: the ones Tessera does not serve answer 410
//! `operation_superseded` saying what to use instead.

use serde_json::json;
use tessera_testkit::TestApp;

#[tokio::test]
async fn superseded_calls_say_what_to_use_instead() {
    let app = TestApp::new().await;
    for (path, instead) in [
        ("/v1/accountless_applications", "tessera instance create"),
        ("/v1/accountless_applications/complete", "CLERK_SECRET_KEY"),
        ("/v1/sessions/sess_123/verify", "/v1/jwks"),
        ("/v1/beta_features/change_domain", "/v1/instance/change_domain"),
    ] {
        let r = app.post(path, json!({})).send().await.assert_error(410, "operation_superseded", None);
        assert!(r.json["errors"][0]["long_message"].as_str().unwrap().contains(instead), "{path}: {}", r.json);
    }
    // Keyless applications have no key to send; the others are the instance's operations.
    app.post("/v1/accountless_applications", json!({})).anonymous().send().await.assert_status(410);
    app.post("/v1/sessions/sess_123/verify", json!({})).anonymous().send().await.assert_error(
        401,
        "clerk_key_invalid",
        None,
    );
}

/// `invitations.deleteInvitation` (not in the spec): erases an invitation of any status and the stored copies of
/// its e-mail (the development outbox's, the `email.created` event), for data erasure requests.
#[tokio::test]
async fn delete_invitation_erases_it_and_its_email_copies() {
    let app = TestApp::new().await;
    let outbox = || async {
        let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 100).await.unwrap();
        msgs.into_iter().map(|m| m.recipient).collect::<Vec<_>>()
    };
    let emails = || async { crate::events_of(&app, "email.created").await.len() };
    let invite = |email: &'static str| app.post("/v1/invitations", json!({ "email_address": email }));
    let erased = invite("erase@example.com").send().await.assert_status(200).json;
    let kept = invite("keep@example.com").send().await.assert_status(200).json;
    assert_eq!(outbox().await.len(), 2);
    assert_eq!(emails().await, 2);

    let id = erased["id"].as_str().unwrap();
    let r = app.delete(&format!("/v1/invitations/{id}")).send().await.assert_status(200);
    assert_eq!(r.json, json!({ "object": "invitation", "id": id, "deleted": true }));
    assert_eq!(outbox().await, ["keep@example.com"], "the erased invitation's e-mail copy is gone, the other kept");
    assert_eq!(emails().await, 1);
    let listed = app.get("/v1/invitations").send().await.assert_status(200).json;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    app.delete(&format!("/v1/invitations/{id}")).send().await.assert_error(404, "resource_not_found", None);

    // Any status: a revoked one, and one sent without an e-mail.
    let kept_id = kept["id"].as_str().unwrap();
    app.post(&format!("/v1/invitations/{kept_id}/revoke"), json!({})).send().await.assert_status(200);
    app.delete(&format!("/v1/invitations/{kept_id}")).send().await.assert_status(200);
    let silent = app
        .post("/v1/invitations", json!({ "email_address": "silent@example.com", "notify": false }))
        .send()
        .await
        .json;
    let silent_id = silent["id"].as_str().unwrap();
    // Another instance's key cannot erase it.
    let (_, other) = app.create_instance(tessera_core::instances::Environment::Development).await;
    app.delete(&format!("/v1/invitations/{silent_id}")).bearer(&other).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.delete(&format!("/v1/invitations/{silent_id}")).send().await.assert_status(200);
    assert!(outbox().await.is_empty());
}
