//! What Tessera reads from an identity provider's configuration: its SAML metadata (entity id, single-sign-on URL,
//! signing certificate) and X.509 certificates (their validity window).
//!
//! Metadata is parsed by `roxmltree`, which refuses DTDs, so entity expansion (XXE, "billion laughs") cannot happen.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::{Error, Result};

const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The binding Tessera sends AuthnRequests with, preferred when the IdP offers several.
pub const REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// Largest metadata document accepted.
pub const MAX_METADATA_BYTES: usize = 512 * 1024;

/// An IdP signing certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The certificate as PEM (normalized: one base64 block, 64-character lines).
    pub pem: String,
    /// X.509 NotBefore, Unix ms.
    pub not_before_ms: i64,
    /// X.509 NotAfter, Unix ms.
    pub not_after_ms: i64,
}

/// The DER bytes of a stored (PEM) certificate.
pub fn certificate_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().map(str::trim).filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body.as_bytes()).ok()
}

/// Parses a certificate given as PEM or as bare base64 DER (as metadata carries it). `param` names the field in
/// the error.
pub fn parse_certificate(param: &str, text: &str) -> Result<Certificate> {
    let invalid =
        || Error::param_value_invalid(param, format!("{param} must be an X.509 certificate (PEM or base64 DER)."));
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(body.as_bytes()).map_err(|_| invalid())?;
    let (rest, cert) = x509_parser::parse_x509_certificate(&der).map_err(|_| invalid())?;
    if !rest.is_empty() {
        return Err(invalid());
    }
    let validity = cert.validity();
    let encoded = STANDARD.encode(&der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----");
    Ok(Certificate {
        pem,
        not_before_ms: validity.not_before.timestamp().saturating_mul(1000),
        not_after_ms: validity.not_after.timestamp().saturating_mul(1000),
    })
}

/// What an IdP's metadata says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    /// `entityID`.
    pub entity_id: String,
    /// The single-sign-on URL (HTTP-Redirect binding when offered, else HTTP-POST).
    pub sso_url: String,
    /// The first signing certificate.
    pub certificate: Certificate,
}

/// Parses SAML 2.0 IdP metadata: an `EntityDescriptor` (possibly inside `EntitiesDescriptor`) with an
/// `IDPSSODescriptor`. `param` names the field in errors.
pub fn parse_metadata(param: &str, xml: &str) -> Result<IdpMetadata> {
    let invalid = |why: &str| Error::param_value_invalid(param, format!("{param} is not usable IdP metadata: {why}."));
    if xml.len() > MAX_METADATA_BYTES {
        return Err(invalid("it is too large"));
    }
    let doc = roxmltree::Document::parse(xml).map_err(|_| invalid("it is not well-formed XML without a DTD"))?;
    let is = |n: &roxmltree::Node, ns: &str, name: &str| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
    };
    let idp = doc
        .descendants()
        .find(|n| is(n, MD_NS, "IDPSSODescriptor"))
        .ok_or_else(|| invalid("it has no IDPSSODescriptor"))?;
    let entity = idp
        .ancestors()
        .find(|n| is(n, MD_NS, "EntityDescriptor"))
        .ok_or_else(|| invalid("the IDPSSODescriptor is not inside an EntityDescriptor"))?;
    let entity_id = entity
        .attribute("entityID")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("the EntityDescriptor has no entityID"))?;
    let services: Vec<_> = idp.children().filter(|n| is(n, MD_NS, "SingleSignOnService")).collect();
    let location = |binding: &str| {
        services
            .iter()
            .find(|s| s.attribute("Binding") == Some(binding))
            .and_then(|s| s.attribute("Location"))
            .map(str::trim)
            .filter(|l| !l.is_empty())
    };
    let sso_url = location(REDIRECT_BINDING)
        .or_else(|| location(POST_BINDING))
        .ok_or_else(|| invalid("it has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding"))?;
    check_url(param, sso_url)?;
    let cert_text = idp
        .children()
        .filter(|n| is(n, MD_NS, "KeyDescriptor"))
        .filter(|k| matches!(k.attribute("use"), None | Some("signing")))
        .flat_map(|k| k.descendants().filter(|n| is(n, DS_NS, "X509Certificate")).collect::<Vec<_>>())
        .find_map(|n| n.text().map(str::to_owned))
        .ok_or_else(|| invalid("it has no signing certificate"))?;
    let certificate = parse_certificate(param, &cert_text)?;
    Ok(IdpMetadata { entity_id: entity_id.to_owned(), sso_url: sso_url.to_owned(), certificate })
}

/// Checks that `value` is an absolute http(s) URL with a host; returns it trimmed.
pub fn check_url(param: &str, value: &str) -> Result<String> {
    let v = value.trim();
    let ok = url::Url::parse(v)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some_and(|h| !h.is_empty()));
    if !ok {
        return Err(Error::param_format_invalid(param, format!("{param} must be an absolute http or https URL.")));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_dtds_and_garbage() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>"#;
        assert!(parse_metadata("idp_metadata", xxe).is_err());
        assert!(parse_metadata("idp_metadata", "not xml").is_err());
        assert!(parse_certificate("idp_certificate", "bm90IGEgY2VydA==").is_err());
        assert!(check_url("u", "ftp://x").is_err());
        assert!(check_url("u", "https://idp.example/sso").is_ok());
    }
}
