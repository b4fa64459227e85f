//! Organization logos: upload (multipart), serve, replace, delete.

use serde_json::json;
use tessera_testkit::TestApp;

use super::{app, create_org, user_with_email};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const GIF: &[u8] = b"GIF89a\x01\0\x01\0\0\0\0;";

fn multipart(data: &[u8], uploader: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(u) = uploader {
        body.extend_from_slice(
            format!("--XBOUNDARY\r\nContent-Disposition: form-data; name=\"uploader_user_id\"\r\n\r\n{u}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        b"--XBOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"logo\"\r\nContent-Type: image/png\r\n\r\n",
    );
    body.extend_from_slice(data);
    body.extend_from_slice(b"\r\n--XBOUNDARY--\r\n");
    body
}

/// Fetches a logo without credentials, on the router directly (the route is outside the spec).
async fn fetch(app: &TestApp, url: &str) -> (u16, String, Vec<u8>) {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let request = axum::http::Request::get(url).body(axum::body::Body::empty()).unwrap();
    let response = tessera_api::router(app.state.clone()).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let ct = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn upload(app: &TestApp, path: &str, data: &[u8], uploader: Option<&str>) -> tessera_testkit::TestResponse {
    app.request(axum::http::Method::PUT, path)
        .raw(multipart(data, uploader), "multipart/form-data; boundary=XBOUNDARY")
        .send()
        .await
}

#[tokio::test]
async fn logo_is_stored_served_replaced_and_deleted() {
    let app = app().await;
    let uploader = user_with_email(&app, "designer@example.com").await;
    let o = create_org(&app, json!({ "name": "Pictured" })).await;
    let id = o["id"].as_str().unwrap();
    let path = format!("/v1/organizations/{id}/logo");

    let up = upload(&app, &path, PNG, Some(&uploader)).await.assert_status(200).json;
    assert_eq!(up["has_image"], true);
    let url = up["image_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/v1/organization_images/img_"), "{url}");
    assert_eq!(up["logo_url"], url.as_str());
    assert_eq!(fetch(&app, &url).await, (200, "image/png".to_owned(), PNG.to_vec()));
    let got = app.get(&format!("/v1/organizations/{id}")).send().await.assert_status(200).json;
    assert_eq!((got["image_url"].as_str(), got["has_image"].clone()), (Some(url.as_str()), json!(true)));

    // A new upload replaces the old logo.
    let up2 = upload(&app, &path, GIF, None).await.assert_status(200).json;
    let url2 = up2["image_url"].as_str().unwrap().to_owned();
    assert_ne!(url, url2);
    assert_eq!(fetch(&app, &url).await.0, 404);
    assert_eq!(fetch(&app, &url2).await.1, "image/gif");

    let d = app.delete(&path).send().await.assert_status(200).json;
    assert_eq!((d["has_image"].clone(), d["image_url"].clone()), (json!(false), json!("")));
    assert_eq!(fetch(&app, &url2).await.0, 404);
    // Deleting again is harmless.
    app.delete(&path).send().await.assert_status(200);
}

#[tokio::test]
async fn logo_errors() {
    let app = app().await;
    let o = create_org(&app, json!({ "name": "Pictured" })).await;
    let path = format!("/v1/organizations/{}/logo", o["id"].as_str().unwrap());
    upload(&app, &path, b"not an image", None).await.assert_error(400, "bad_request", Some("file"));
    upload(&app, &path, PNG, Some("user_missing")).await.assert_error(400, "bad_request", Some("uploader_user_id"));
    app.put(&path, json!({})).send().await.assert_error(400, "bad_request", Some("file"));
    let empty = b"--XBOUNDARY--\r\n".to_vec();
    app.request(axum::http::Method::PUT, &path)
        .raw(empty, "multipart/form-data; boundary=XBOUNDARY")
        .send()
        .await
        .assert_error(400, "bad_request", Some("file"));
    upload(&app, "/v1/organizations/org_missing/logo", PNG, None).await.assert_error(404, "resource_not_found", None);
    app.delete("/v1/organizations/org_missing/logo").send().await.assert_error(404, "resource_not_found", None);
    let got = app.get(&format!("/v1/organizations/{}", o["id"].as_str().unwrap())).send().await.assert_status(200).json;
    assert_eq!(got["has_image"], false, "nothing half-written");
}
