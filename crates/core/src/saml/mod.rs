//! SAML 2.0 service provider, the protocol half: the SP metadata document, the `AuthnRequest` Tessera sends by the
//! HTTP-Redirect binding, and the verification of the `Response` the IdP posts back to the ACS.
//!
//! Verification ([`verify_response`]) is the one interface the sign-in uses: it returns a [`VerifiedAssertion`]
//! only when the `Response` or its `Assertion` carries a valid enveloped signature by the connection's IdP
//! certificate ([`dsig`]), and everything in it is read from the signed element itself (never by an id lookup),
//! so that unsigned content, a wrapped copy or an attribute next to the signed one is never used. Then: a
//! successful status, one plain `Assertion` (encrypted ones are refused: Tessera publishes no encryption key), the
//! issuer, the audience, the destination and recipient (the ACS URL), the bearer confirmation's `InResponseTo`,
//! and the validity windows with [`SKEW_MS`] of clock skew. One-time use and the match of `InResponseTo` against
//! the request Tessera made are the caller's (they need the store).
//!
//! XML is parsed by `roxmltree` (no DTDs: no entity expansion), after a size check.

pub mod c14n;
pub mod dsig;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roxmltree::{Document, Node, ParsingOptions};

pub use dsig::Refused;

/// The SAML protocol namespace.
pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML assertion namespace.
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// The HTTP-POST binding (the ACS's).
pub const POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// Clock skew tolerated on each validity bound.
pub const SKEW_MS: i64 = 2 * 60 * 1000;
/// Largest decoded `SAMLResponse` accepted.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// What the response must match.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// Tessera's entity id for the connection: the required audience.
    pub sp_entity_id: &'a str,
    /// The ACS URL: the required destination and recipient.
    pub acs_url: &'a str,
    /// The IdP's entity id, required as the issuer when configured.
    pub idp_entity_id: Option<&'a str>,
    /// The IdP's signing certificate, DER.
    pub certificate_der: &'a [u8],
    /// Now, Unix ms.
    pub now_ms: i64,
}

/// What a verified assertion says, read from signed content only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The assertion's `ID` (one-time use).
    pub id: String,
    /// The issuer.
    pub issuer: String,
    /// The request it answers (`None` for an IdP-initiated response).
    pub in_response_to: Option<String>,
    /// The subject's `NameID`.
    pub name_id: String,
    /// Attributes by name, with their values in order.
    pub attributes: Vec<(String, Vec<String>)>,
    /// Until when the assertion could be presented (the latest validity bound), Unix ms: how long its id must be
    /// remembered to refuse a replay.
    pub valid_until_ms: i64,
}

impl VerifiedAssertion {
    /// The first value of the first attribute among `names` (compared case-insensitively) that has one.
    pub fn attribute(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|want| {
            self.attributes
                .iter()
                .find(|(n, v)| n.eq_ignore_ascii_case(want) && v.iter().any(|s| !s.trim().is_empty()))
                .and_then(|(_, v)| v.iter().map(|s| s.trim()).find(|s| !s.is_empty()))
        })
    }
}

/// The `InResponseTo` a base64 `SAMLResponse` claims, read without verifying anything: only to find which request
/// (and so which flow) it claims to answer; the response is verified after, whatever it claims.
pub fn in_response_to_unverified(saml_response_b64: &str) -> Option<String> {
    let compact: String = saml_response_b64.chars().filter(|c| !c.is_whitespace()).collect();
    let text = String::from_utf8(STANDARD.decode(compact.as_bytes()).ok()?).ok()?;
    let doc = roxmltree::Document::parse(&text).ok()?;
    doc.root_element().attribute("InResponseTo").map(str::to_owned)
}

/// Decodes the base64 `SAMLResponse` form field and verifies it (see the module documentation).
pub fn verify_response(saml_response_b64: &str, e: &Expectations<'_>) -> Result<VerifiedAssertion, Refused> {
    let compact: String = saml_response_b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() > MAX_RESPONSE_BYTES * 4 / 3 + 4 {
        return Err(Refused("the response is too large"));
    }
    let bytes = STANDARD.decode(compact.as_bytes()).map_err(|_| Refused("SAMLResponse is not base64"))?;
    let xml = std::str::from_utf8(&bytes).map_err(|_| Refused("the response is not UTF-8"))?;
    let options = ParsingOptions { allow_dtd: false, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(xml, options).map_err(|_| Refused("the response is not well-formed XML"))?;
    verify_document(&doc, e)
}

fn verify_document(doc: &Document<'_>, e: &Expectations<'_>) -> Result<VerifiedAssertion, Refused> {
    let response = doc.root_element();
    if !is(&response, PROTOCOL_NS, "Response") {
        return Err(Refused("not a SAML Response"));
    }
    let assertions: Vec<Node> = response.children().filter(|n| is(n, ASSERTION_NS, "Assertion")).collect();
    if response.children().any(|n| is(&n, ASSERTION_NS, "EncryptedAssertion")) {
        return Err(Refused("encrypted assertions are not supported"));
    }
    let [assertion] = assertions.as_slice() else {
        return Err(Refused("the response must hold exactly one assertion"));
    };
    let assertion = *assertion;
    // A signature present on either element must verify; one of them must be present. Everything below is read
    // from `assertion`, which either signature covers.
    let response_sig = dsig::signature_of(response)?;
    let assertion_sig = dsig::signature_of(assertion)?;
    if response_sig.is_none() && assertion_sig.is_none() {
        return Err(Refused("neither the response nor the assertion is signed"));
    }
    if let Some(s) = response_sig {
        dsig::verify_enveloped(response, s, e.certificate_der)?;
    }
    if let Some(s) = assertion_sig {
        dsig::verify_enveloped(assertion, s, e.certificate_der)?;
    }
    // Signatures nested anywhere else are not looked at, and nothing outside the signed elements is read.

    let status = child(response, PROTOCOL_NS, "Status")
        .and_then(|s| child(s, PROTOCOL_NS, "StatusCode"))
        .and_then(|c| c.attribute("Value"));
    if status != Some(SUCCESS) {
        return Err(Refused("the IdP did not answer with success"));
    }
    if let Some(destination) = response.attribute("Destination") {
        if destination != e.acs_url {
            return Err(Refused("the response's destination is not this ACS"));
        }
    } else if response_sig.is_some() {
        return Err(Refused("a signed response must name its destination"));
    }

    let issuer = child(assertion, ASSERTION_NS, "Issuer").and_then(|n| n.text()).map(str::trim).unwrap_or("");
    if issuer.is_empty() {
        return Err(Refused("the assertion has no issuer"));
    }
    if e.idp_entity_id.is_some_and(|want| !want.is_empty() && want != issuer) {
        return Err(Refused("the assertion's issuer is not the connection's IdP"));
    }
    let id = assertion.attribute("ID").filter(|v| !v.is_empty()).ok_or(Refused("the assertion has no ID"))?;

    let conditions = child(assertion, ASSERTION_NS, "Conditions").ok_or(Refused("the assertion has no conditions"))?;
    let not_before = time_attr(conditions, "NotBefore")?;
    let not_on_or_after = time_attr(conditions, "NotOnOrAfter")?;
    if not_before.is_some_and(|t| e.now_ms + SKEW_MS < t) {
        return Err(Refused("the assertion is not valid yet"));
    }
    if not_on_or_after.is_some_and(|t| e.now_ms - SKEW_MS >= t) {
        return Err(Refused("the assertion has expired"));
    }
    let restrictions: Vec<Node> =
        conditions.children().filter(|n| is(n, ASSERTION_NS, "AudienceRestriction")).collect();
    if restrictions.is_empty() {
        return Err(Refused("the assertion has no audience restriction"));
    }
    // Each restriction must be met (SAML core §2.5.1.4).
    for r in restrictions {
        let ok = r
            .children()
            .filter(|n| is(n, ASSERTION_NS, "Audience"))
            .any(|a| a.text().map(str::trim) == Some(e.sp_entity_id));
        if !ok {
            return Err(Refused("the assertion is meant for another audience"));
        }
    }

    let subject = child(assertion, ASSERTION_NS, "Subject").ok_or(Refused("the assertion has no subject"))?;
    let name_id = child(subject, ASSERTION_NS, "NameID")
        .and_then(|n| n.text())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(Refused("the subject has no NameID"))?;
    let mut confirmed: Option<(Option<String>, i64)> = None;
    for sc in subject.children().filter(|n| is(n, ASSERTION_NS, "SubjectConfirmation")) {
        if sc.attribute("Method") != Some(BEARER) {
            continue;
        }
        let Some(data) = child(sc, ASSERTION_NS, "SubjectConfirmationData") else { continue };
        if data.attribute("Recipient") != Some(e.acs_url) {
            return Err(Refused("the assertion's recipient is not this ACS"));
        }
        let until = time_attr(data, "NotOnOrAfter")?.ok_or(Refused("the bearer confirmation has no NotOnOrAfter"))?;
        if e.now_ms - SKEW_MS >= until {
            return Err(Refused("the assertion has expired"));
        }
        if time_attr(data, "NotBefore")?.is_some_and(|t| e.now_ms + SKEW_MS < t) {
            return Err(Refused("the assertion is not valid yet"));
        }
        confirmed = Some((data.attribute("InResponseTo").map(str::to_owned), until));
        break;
    }
    let (in_response_to, confirm_until) = confirmed.ok_or(Refused("the assertion has no bearer confirmation"))?;
    if let Some(outer) = response.attribute("InResponseTo")
        && in_response_to.as_deref() != Some(outer)
    {
        return Err(Refused("the response and the assertion answer different requests"));
    }

    let mut attributes: Vec<(String, Vec<String>)> = Vec::new();
    for statement in assertion.children().filter(|n| is(n, ASSERTION_NS, "AttributeStatement")) {
        for attr in statement.children().filter(|n| is(n, ASSERTION_NS, "Attribute")) {
            let Some(name) = attr.attribute("Name") else { continue };
            let values = attr
                .children()
                .filter(|n| is(n, ASSERTION_NS, "AttributeValue"))
                .map(|v| v.descendants().filter(Node::is_text).filter_map(|t| t.text()).collect::<String>())
                .collect();
            attributes.push((name.to_owned(), values));
        }
    }
    let valid_until_ms = not_on_or_after.map_or(confirm_until, |t| t.max(confirm_until)) + SKEW_MS;
    Ok(VerifiedAssertion {
        id: id.to_owned(),
        issuer: issuer.to_owned(),
        in_response_to,
        name_id: name_id.to_owned(),
        attributes,
        valid_until_ms,
    })
}

/// The `AuthnRequest` of an SP-initiated sign-in, as the value of the HTTP-Redirect binding's `SAMLRequest`
/// parameter (raw DEFLATE, then base64; SAML bindings §3.4.4.1). Unsigned: the request carries no secret and the
/// answer is bound to it by `InResponseTo`, which Tessera checks.
pub fn authn_request(
    id: &str,
    issue_instant_ms: i64,
    sp_entity_id: &str,
    acs_url: &str,
    destination: &str,
    force_authn: bool,
) -> String {
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"{PROTOCOL_NS}\" xmlns:saml=\"{ASSERTION_NS}\" ID=\"{id}\" Version=\"2.0\" \
         IssueInstant=\"{instant}\" Destination=\"{destination}\" AssertionConsumerServiceURL=\"{acs}\" \
         ProtocolBinding=\"{POST_BINDING}\"{force}><saml:Issuer>{issuer}</saml:Issuer>\
         <samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\" AllowCreate=\"true\"/>\
         </samlp:AuthnRequest>",
        instant = crate::billing::calendar::rfc3339(issue_instant_ms),
        destination = xml_escape(destination),
        acs = xml_escape(acs_url),
        force = if force_authn { " ForceAuthn=\"true\"" } else { "" },
        issuer = xml_escape(sp_entity_id),
    );
    STANDARD.encode(miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6))
}

/// The SP metadata document of a connection.
pub fn sp_metadata(sp_entity_id: &str, acs_url: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" \
         entityID=\"{entity}\"><md:SPSSODescriptor AuthnRequestsSigned=\"false\" WantAssertionsSigned=\"true\" \
         protocolSupportEnumeration=\"{PROTOCOL_NS}\"><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>\
         <md:AssertionConsumerService Binding=\"{POST_BINDING}\" Location=\"{acs}\" index=\"0\" isDefault=\"true\"/>\
         </md:SPSSODescriptor></md:EntityDescriptor>\n",
        entity = xml_escape(sp_entity_id),
        acs = xml_escape(acs_url),
    )
}

/// Escapes text for an XML attribute or element.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn is(n: &Node<'_, '_>, ns: &str, name: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == name
}

fn child<'a, 'i>(n: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| is(c, ns, name))
}

fn time_attr(n: Node<'_, '_>, name: &'static str) -> Result<Option<i64>, Refused> {
    match n.attribute(name) {
        None => Ok(None),
        Some(v) => crate::users::create::parse_rfc3339(v.trim()).map(Some).ok_or(Refused("an unreadable time")),
    }
}

#[cfg(test)]
mod tests {
    //! Interoperability with an independent signer (npm `xml-crypto`); the negative corpus runs at the ACS
    //! (`crates/frontend/tests/frontend/saml.rs`).
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testkit/fixtures/saml/");
    const ACS: &str = "https://clerk.example.com/v1/saml/acs/samlc_test";
    const SP: &str = "https://clerk.example.com/saml/samlc_test";
    /// 2026-01-01T00:01:00Z.
    const NOW: i64 = 1_767_225_660_000;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}{name}")).expect("fixture")
    }

    fn der(name: &str) -> Vec<u8> {
        let pem = fixture(name);
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(body).expect("pem")
    }

    fn check(xml: &str, cert: &str, now_ms: i64) -> Result<VerifiedAssertion, Refused> {
        let cert = der(cert);
        let e = Expectations {
            sp_entity_id: SP,
            acs_url: ACS,
            idp_entity_id: Some("https://idp.example.org"),
            certificate_der: &cert,
            now_ms,
        };
        verify_response(&STANDARD.encode(xml), &e)
    }

    #[test]
    fn accepts_xml_crypto_signatures_over_the_assertion_and_over_the_response() {
        for name in ["xml-crypto-assertion-signed.xml", "xml-crypto-response-signed.xml"] {
            let a = check(&fixture(name), "idp.crt", NOW).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(a.id, "_assert1");
            assert_eq!(a.name_id, "ada@example.com");
            assert_eq!(a.in_response_to.as_deref(), Some("_req1"));
            assert_eq!(a.attribute(&["EMAIL"]), Some("ada@example.com"));
            assert_eq!(a.attribute(&["firstName"]), Some("Ada & \"Co\""));
        }
    }

    #[test]
    fn refuses_the_vectors_with_another_certificate_a_changed_value_or_out_of_time() {
        let xml = fixture("xml-crypto-assertion-signed.xml");
        assert!(check(&xml, "other.crt", NOW).is_err());
        let tampered = xml.replace("Ada &amp;", "Eve &amp;");
        assert_eq!(check(&tampered, "idp.crt", NOW), Err(Refused("the digest does not match the signed element")));
        assert_eq!(check(&xml, "idp.crt", NOW + 3_600_000), Err(Refused("the assertion has expired")));
        assert_eq!(check(&xml, "idp.crt", NOW - 3_600_000), Err(Refused("the assertion is not valid yet")));
    }

    #[test]
    fn authn_request_inflates_to_the_request() {
        let encoded = authn_request("_r1", NOW, SP, ACS, "https://idp.example.org/sso?a=1&b=2", true);
        let raw = miniz_oxide::inflate::decompress_to_vec(&STANDARD.decode(encoded).expect("b64")).expect("inflate");
        let xml = String::from_utf8(raw).expect("utf-8");
        let doc = Document::parse(&xml).expect("xml");
        let root = doc.root_element();
        assert_eq!(root.attribute("ID"), Some("_r1"));
        assert_eq!(root.attribute("AssertionConsumerServiceURL"), Some(ACS));
        assert_eq!(root.attribute("Destination"), Some("https://idp.example.org/sso?a=1&b=2"));
        assert_eq!(root.attribute("ForceAuthn"), Some("true"));
    }
}
