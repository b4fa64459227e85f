//! A SAML identity provider for tests: builds `Response`s and signs them (enveloped XML-DSig, exclusive c14n,
//! RSA-SHA256) with the test keys in `fixtures/saml/`, or leaves them unsigned, so that the ACS can be driven
//! through every case of its negative corpus. Signing uses Tessera's own canonicalization; that it agrees with an
//! independent implementation is proven by the `xml-crypto` vectors beside the keys.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The IdP's entity id.
pub const IDP_ENTITY_ID: &str = "https://idp.acme.test/metadata";
/// The IdP's single-sign-on URL (HTTP-Redirect).
pub const IDP_SSO_URL: &str = "https://idp.acme.test/sso";

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/saml/");
/// Makes assertion ids unique within a test run.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// A test identity provider with a signing key.
pub struct TestIdp {
    key: RsaKeyPair,
    /// Its certificate (PEM), as a connection is configured with it.
    pub certificate: String,
}

/// Which element of the response carries the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// The assertion.
    Assertion,
    /// The whole response.
    Response,
    /// Both (the response's signature covers the signed assertion).
    Both,
    /// Neither.
    Nothing,
}

/// What a response says. [`Assertion::new`] gives a valid answer to a request; tests change one field.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// `InResponseTo` (the request id); `None`: unsolicited.
    pub in_response_to: Option<String>,
    /// The assertion's id.
    pub id: String,
    /// `Issuer`.
    pub issuer: String,
    /// `NameID`.
    pub name_id: String,
    /// Attributes (name, value).
    pub attributes: Vec<(String, String)>,
    /// `Audience`.
    pub audience: String,
    /// The response's `Destination` and the confirmation's `Recipient`.
    pub destination: String,
    /// `Recipient` when it differs from the destination.
    pub recipient: Option<String>,
    /// Validity start, Unix ms.
    pub not_before_ms: i64,
    /// Validity end, Unix ms.
    pub not_on_or_after_ms: i64,
    /// Where the signature goes.
    pub signed: Signed,
}

impl Assertion {
    /// A valid assertion for `email` answering `request_id`, for the SP `audience` at `acs_url`, valid around
    /// `now_ms`.
    pub fn new(request_id: &str, email: &str, audience: &str, acs_url: &str, now_ms: i64) -> Self {
        Self {
            in_response_to: Some(request_id.to_owned()),
            id: format!("_a{now_ms}x{}", NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
            issuer: IDP_ENTITY_ID.into(),
            name_id: email.to_owned(),
            attributes: vec![
                ("email".into(), email.to_owned()),
                ("firstName".into(), "Ada".into()),
                ("lastName".into(), "Lovelace".into()),
            ],
            audience: audience.to_owned(),
            destination: acs_url.to_owned(),
            recipient: None,
            not_before_ms: now_ms - 60_000,
            not_on_or_after_ms: now_ms + 5 * 60_000,
            signed: Signed::Assertion,
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn time(ms: i64) -> String {
    // Unix ms → xs:dateTime (UTC), days-from-civil inverse (Howard Hinnant's algorithm).
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

impl TestIdp {
    /// The IdP with the `idp` test key.
    pub fn new() -> Self {
        Self::with_key("idp")
    }

    /// A stranger: same entity id, another key (`other`).
    pub fn stranger() -> Self {
        Self::with_key("other")
    }

    fn with_key(name: &str) -> Self {
        let pk8 = std::fs::read(format!("{FIXTURES}{name}.pk8")).expect("test key");
        let certificate = std::fs::read_to_string(format!("{FIXTURES}{name}.crt")).expect("test certificate");
        Self { key: RsaKeyPair::from_pkcs8(&pk8).expect("PKCS#8 RSA key"), certificate }
    }

    /// The response XML for `a`.
    pub fn response_xml(&self, a: &Assertion) -> String {
        let irt = a.in_response_to.as_deref().map(|r| format!(" InResponseTo=\"{}\"", esc(r))).unwrap_or_default();
        let attrs: String = a
            .attributes
            .iter()
            .map(|(n, v)| {
                format!(
                    "<saml:Attribute Name=\"{}\"><saml:AttributeValue>{}</saml:AttributeValue></saml:Attribute>",
                    esc(n),
                    esc(v)
                )
            })
            .collect();
        let recipient = a.recipient.as_deref().unwrap_or(&a.destination);
        let assertion = format!(
            "<saml:Assertion ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{nb}\"><saml:Issuer>{issuer}</saml:Issuer><!--SIG-->\
             <saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">{name_id}</saml:NameID>\
             <saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"><saml:SubjectConfirmationData \
             NotOnOrAfter=\"{noa}\" Recipient=\"{recipient}\"{irt}/></saml:SubjectConfirmation></saml:Subject>\
             <saml:Conditions NotBefore=\"{nb}\" NotOnOrAfter=\"{noa}\"><saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience>\
             </saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant=\"{nb}\"><saml:AuthnContext>\
             <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef>\
             </saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>{attrs}</saml:AttributeStatement></saml:Assertion>",
            id = esc(&a.id),
            issuer = esc(&a.issuer),
            name_id = esc(&a.name_id),
            nb = time(a.not_before_ms),
            noa = time(a.not_on_or_after_ms),
            recipient = esc(recipient),
            aud = esc(&a.audience),
        );
        let assertion = match a.signed {
            Signed::Assertion | Signed::Both => self.sign(&assertion, &a.id),
            _ => assertion.replace("<!--SIG-->", ""),
        };
        let response = format!(
            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_r{id}\" Version=\"2.0\" IssueInstant=\"{nb}\" \
             Destination=\"{dest}\"{irt}><saml:Issuer>{issuer}</saml:Issuer><!--SIG--><samlp:Status><samlp:StatusCode \
             Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>{assertion}</samlp:Response>",
            id = esc(&a.id),
            nb = time(a.not_before_ms),
            dest = esc(&a.destination),
            issuer = esc(&a.issuer),
        );
        match a.signed {
            Signed::Response | Signed::Both => self.sign(&response, &format!("_r{}", a.id)),
            _ => response.replace("<!--SIG-->", ""),
        }
    }

    /// The `SAMLResponse` form value (base64) for `a`.
    pub fn response(&self, a: &Assertion) -> String {
        STANDARD.encode(self.response_xml(a))
    }

    /// Signs the element with `ID="{id}"` of `xml` (the outermost `<!--SIG-->` marker in it is where its
    /// signature goes, after its `Issuer`).
    pub fn sign(&self, xml: &str, id: &str) -> String {
        // The element is canonicalized in the document it ends up in: wrapped in the namespaces of a response.
        let (open, close) = if xml.starts_with("<saml:Assertion") {
            (
                "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
                 xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">",
                "</samlp:Response>",
            )
        } else {
            ("", "")
        };
        let wrapped = format!("{open}{xml}{close}");
        let digest = {
            let doc = roxmltree::Document::parse(&wrapped).expect("test XML");
            let el = doc.descendants().find(|n| n.attribute("ID") == Some(id)).expect("element to sign");
            let c14n = tessera_core::saml::c14n::exclusive(el, None, &[]);
            STANDARD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, c14n.as_bytes()))
        };
        let signed_info = format!(
            "<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\
             <ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>\
             <ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\
             <ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>\
             <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>{digest}</ds:DigestValue>\
             </ds:Reference></ds:SignedInfo>"
        );
        let with_sig = wrapped.replacen(
            "<!--SIG-->",
            &format!("<ds:Signature xmlns:ds=\"{DS}\">{signed_info}<ds:SignatureValue>SIGNATURE-VALUE-HERE</ds:SignatureValue></ds:Signature>"),
            1,
        );
        let canonical = {
            let doc = roxmltree::Document::parse(&with_sig).expect("signed XML");
            let si = doc
                .descendants()
                .find(|n| {
                    n.tag_name().name() == "SignedInfo"
                        && n.parent().and_then(|p| p.parent()).and_then(|e| e.attribute("ID")) == Some(id)
                })
                .expect("SignedInfo");
            tessera_core::saml::c14n::exclusive(si, None, &[])
        };
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), canonical.as_bytes(), &mut sig).expect("sign");
        let signed = with_sig.replacen("SIGNATURE-VALUE-HERE", &STANDARD.encode(sig), 1);
        signed.strip_prefix(open).and_then(|s| s.strip_suffix(close)).expect("unwrap").to_owned()
    }
}

/// What the IdP reads from the URL Tessera redirects the browser to: the request's `ID`, its
/// `AssertionConsumerServiceURL`, and the `RelayState`.
pub fn read_request(redirect_url: &str) -> (String, String, Option<String>) {
    let url = url::Url::parse(redirect_url).expect("redirect URL");
    let mut request = None;
    let mut relay = None;
    for (k, v) in url.query_pairs() {
        match &*k {
            "SAMLRequest" => request = Some(v.into_owned()),
            "RelayState" => relay = Some(v.into_owned()),
            _ => {}
        }
    }
    let deflated = STANDARD.decode(request.expect("SAMLRequest")).expect("base64 SAMLRequest");
    let xml =
        String::from_utf8(miniz_oxide::inflate::decompress_to_vec(&deflated).expect("raw DEFLATE")).expect("utf-8");
    let doc = roxmltree::Document::parse(&xml).expect("AuthnRequest XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "AuthnRequest");
    (
        root.attribute("ID").expect("ID").to_owned(),
        root.attribute("AssertionConsumerServiceURL").expect("ACS URL").to_owned(),
        relay,
    )
}

impl Default for TestIdp {
    fn default() -> Self {
        Self::new()
    }
}
