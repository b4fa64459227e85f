//! XML-DSig verification of an enveloped signature, in the one profile SAML identity providers use and Tessera
//! accepts: the `Signature` is a child of the element it signs, with one `Reference` to that element's `ID`, the
//! transforms enveloped-signature then exclusive c14n, exclusive c14n of `SignedInfo`, SHA-256/384/512 digests and
//! RSA PKCS#1 v1.5 or ECDSA (P-256/P-384) signatures. SHA-1, other transforms, other references and `KeyInfo`
//! keys are refused or ignored: the key is always the IdP certificate the connection was configured with.
//!
//! The caller gets no "signed node" to look up by id: it names the element it will read from, and that element is
//! the one verified (the signature must be its child and reference its `ID`), so a wrapped copy elsewhere in the
//! document cannot be what is read (XML signature wrapping).

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roxmltree::Node;

use super::c14n;
use crate::crypto::constant_time_eq;

/// The XML-DSig namespace.
pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Exclusive canonicalization without comments.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// The enveloped-signature transform.
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// RSA with SHA-256.
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// SHA-256 digest.
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// Why a signature was refused (shown in test-run logs and server logs, never to the browser in detail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub &'static str);

/// The `Signature` child of `element`, if it has one (more than one is refused).
pub fn signature_of<'a, 'i>(element: Node<'a, 'i>) -> Result<Option<Node<'a, 'i>>, Refused> {
    let mut sigs = element.children().filter(|n| is(n, DS_NS, "Signature"));
    let first = sigs.next();
    if sigs.next().is_some() {
        return Err(Refused("more than one signature on one element"));
    }
    Ok(first)
}

/// Verifies the enveloped signature `signature` (a child of `element`) over `element` with the public key of the
/// certificate `cert_der`.
pub fn verify_enveloped(element: Node<'_, '_>, signature: Node<'_, '_>, cert_der: &[u8]) -> Result<(), Refused> {
    if signature.parent() != Some(element) {
        return Err(Refused("the signature is not enveloped in the element it signs"));
    }
    let id = element.attribute("ID").filter(|v| !v.is_empty()).ok_or(Refused("the signed element has no ID"))?;
    // An ID must be unique in the document; a second element with the same one is a wrapping attempt.
    let doc_root = element.document().root();
    let same_id = doc_root
        .descendants()
        .filter(|n| n.is_element())
        .filter(|n| n.attributes().any(|a| a.name().eq_ignore_ascii_case("id") && a.value() == id))
        .count();
    if same_id != 1 {
        return Err(Refused("the signed element's ID is not unique"));
    }
    let mut children = signature.children().filter(Node::is_element);
    let signed_info = children.next().filter(|n| is(n, DS_NS, "SignedInfo")).ok_or(Refused("no SignedInfo"))?;
    let value = children.next().filter(|n| is(n, DS_NS, "SignatureValue")).ok_or(Refused("no SignatureValue"))?;

    let mut parts = signed_info.children().filter(Node::is_element);
    let c14n_method = parts.next().filter(|n| is(n, DS_NS, "CanonicalizationMethod")).ok_or(Refused("no c14n"))?;
    if c14n_method.attribute("Algorithm") != Some(EXC_C14N) {
        return Err(Refused("SignedInfo is not canonicalized with exclusive c14n"));
    }
    let si_prefixes = inclusive_prefixes(c14n_method);
    let method = parts.next().filter(|n| is(n, DS_NS, "SignatureMethod")).ok_or(Refused("no SignatureMethod"))?;
    let algorithm = signature_algorithm(method.attribute("Algorithm").unwrap_or(""))?;
    let reference = parts.next().filter(|n| is(n, DS_NS, "Reference")).ok_or(Refused("no Reference"))?;
    if parts.next().is_some() {
        return Err(Refused("more than one Reference"));
    }
    if reference.attribute("URI") != Some(&format!("#{id}")) {
        return Err(Refused("the Reference does not point at the signed element"));
    }

    let mut ref_parts = reference.children().filter(Node::is_element);
    let mut next = ref_parts.next();
    let mut enveloped = false;
    let mut ref_prefixes: Vec<&str> = Vec::new();
    if let Some(transforms) = next.filter(|n| is(n, DS_NS, "Transforms")) {
        let list: Vec<Node> = transforms.children().filter(Node::is_element).collect();
        for (i, t) in list.iter().enumerate() {
            if !is(t, DS_NS, "Transform") {
                return Err(Refused("unexpected element in Transforms"));
            }
            match t.attribute("Algorithm") {
                Some(ENVELOPED) if i == 0 => enveloped = true,
                Some(EXC_C14N) if i == list.len() - 1 => ref_prefixes = inclusive_prefixes(*t),
                _ => return Err(Refused("unsupported transform")),
            }
        }
        if list.last().is_none_or(|t| t.attribute("Algorithm") != Some(EXC_C14N)) {
            return Err(Refused("the reference is not canonicalized with exclusive c14n"));
        }
        next = ref_parts.next();
    }
    if !enveloped {
        return Err(Refused("the reference lacks the enveloped-signature transform"));
    }
    let digest_method = next.filter(|n| is(n, DS_NS, "DigestMethod")).ok_or(Refused("no DigestMethod"))?;
    let digest_alg = digest_algorithm(digest_method.attribute("Algorithm").unwrap_or(""))?;
    let digest_value = ref_parts.next().filter(|n| is(n, DS_NS, "DigestValue")).ok_or(Refused("no DigestValue"))?;
    let expected = decode_b64(digest_value).ok_or(Refused("DigestValue is not base64"))?;

    let canonical = c14n::exclusive(element, Some(signature.id()), &ref_prefixes);
    let actual = digest::digest(digest_alg, canonical.as_bytes());
    if !constant_time_eq(actual.as_ref(), &expected) {
        return Err(Refused("the digest does not match the signed element"));
    }

    let signed = c14n::exclusive(signed_info, None, &si_prefixes);
    let signature_bytes = decode_b64(value).ok_or(Refused("SignatureValue is not base64"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).map_err(|_| Refused("unreadable certificate"))?;
    let key = cert.public_key().subject_public_key.data.as_ref();
    UnparsedPublicKey::new(algorithm, key)
        .verify(signed.as_bytes(), &signature_bytes)
        .map_err(|_| Refused("the signature does not verify with the IdP certificate"))
}

fn is(n: &Node<'_, '_>, ns: &str, name: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == name
}

/// The `PrefixList` of an `InclusiveNamespaces` child of a c14n method or transform.
fn inclusive_prefixes<'a>(method: Node<'a, '_>) -> Vec<&'a str> {
    method
        .children()
        .find(|n| is(n, EXC_C14N, "InclusiveNamespaces"))
        .and_then(|n| n.attribute("PrefixList"))
        .map(|l| l.split_ascii_whitespace().collect())
        .unwrap_or_default()
}

fn decode_b64(node: Node<'_, '_>) -> Option<Vec<u8>> {
    let text: String = node.text().unwrap_or("").chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(text.as_bytes()).ok()
}

fn signature_algorithm(uri: &str) -> Result<&'static dyn sig::VerificationAlgorithm, Refused> {
    Ok(match uri {
        RSA_SHA256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => &sig::RSA_PKCS1_2048_8192_SHA384,
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => &sig::RSA_PKCS1_2048_8192_SHA512,
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => &sig::ECDSA_P256_SHA256_FIXED,
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" => &sig::ECDSA_P384_SHA384_FIXED,
        _ => return Err(Refused("unsupported signature algorithm (SHA-1 and others are refused)")),
    })
}

fn digest_algorithm(uri: &str) -> Result<&'static digest::Algorithm, Refused> {
    Ok(match uri {
        SHA256 => &digest::SHA256,
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => &digest::SHA384,
        "http://www.w3.org/2001/04/xmlenc#sha512" => &digest::SHA512,
        _ => return Err(Refused("unsupported digest algorithm (SHA-1 and others are refused)")),
    })
}
