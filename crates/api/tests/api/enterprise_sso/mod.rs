//! Enterprise SSO configuration: enterprise connections (SAML and OIDC), the deprecated SAML-connections view,
//! directories in both views, and admin portal link tokens.

mod admin_portal;
mod admin_portal_directory;
mod admin_portal_pages;
mod connections;
mod directories;
mod directory_mappings;
mod saml_connections;

use serde_json::{Value, json};
use tessera_testkit::TestApp;

/// A self-signed IdP certificate (P-256), valid from [`CERT_NOT_BEFORE`] to [`CERT_NOT_AFTER`].
pub const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBijCCATGgAwIBAgIUKA0F04tyVtzudF4tLGsAnr7MvbswCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQaWRwLnRlc3NlcmEudGVzdDAeFw0yNjEyMDMwNjM2MzBaFw0z
NjExMzAwNjM2MzBaMBsxGTAXBgNVBAMMEGlkcC50ZXNzZXJhLnRlc3QwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARvbrpaIqHn/XzcKb4NmRXbGBsNnIO4iRjplHB5
nhTp44dzcP7LAyTX0a2ZzEvd9lF4/AlovlfAE9FhMmcDkH11o1MwUTAdBgNVHQ4E
FgQUKcOXf5yN6O+rRJNP8zre+TEVB4cwHwYDVR0jBBgwFoAUKcOXf5yN6O+rRJNP
8zre+TEVB4cwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAkDnr4
XYDPV6JQNo2YpFbU6wGK6kuJCaElshIKY7m7iQIgZNOcjMvMdDepPXNYjxorbbOG
BpT42UoIAtpU0xUBYHM=
-----END CERTIFICATE-----";
/// X.509 NotBefore of [`CERT`], Unix ms.
pub const CERT_NOT_BEFORE: i64 = 1_796_279_790_000;
/// X.509 NotAfter of [`CERT`], Unix ms.
pub const CERT_NOT_AFTER: i64 = 2_111_639_790_000;

/// The base64 body of [`CERT`] (as metadata carries it).
pub fn cert_base64() -> String {
    CERT.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// IdP metadata naming `entity_id`, offering both bindings, signing with [`CERT`].
pub fn metadata(entity_id: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>bm90IHRoaXM=</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
{cert}
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/sso/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso/redirect"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#,
        cert = cert_base64()
    )
}

/// Creates an enterprise connection (201); returns it.
pub async fn create_connection(app: &TestApp, body: Value) -> Value {
    app.post("/v1/enterprise_connections", body).send().await.assert_status(201).json
}

/// A SAML enterprise connection for `domain`, inactive, without IdP settings; returns its id.
pub async fn saml_connection(app: &TestApp, domain: &str) -> String {
    let c = create_connection(app, json!({ "name": "Acme SSO", "provider": "saml_custom", "domains": [domain] })).await;
    c["id"].as_str().unwrap().to_owned()
}
