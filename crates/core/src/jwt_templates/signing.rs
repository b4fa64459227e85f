//! Custom signing keys of JWT templates: parsing (checked when the template is saved) and signing.
//!
//! HMAC algorithms take the key as given (its UTF-8 bytes); RSA and ECDSA keys are PEM private keys (PKCS#8
//! `PRIVATE KEY`, or the key-specific `RSA PRIVATE KEY` / `EC PRIVATE KEY`).

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{self, EcdsaKeyPair, EcdsaSigningAlgorithm, RsaEncoding};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use crate::{Error, Result};

/// The algorithms a template may sign with.
pub const ALGORITHMS: &[&str] = &["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"];

/// Shortest HMAC key accepted (bytes): shorter secrets are guessable.
const MIN_HMAC_KEY: usize = 32;

/// A parsed custom key, ready to sign.
pub enum Signer {
    /// HS256/384/512 (boxed: the key schedule is large).
    Hmac(Box<hmac::Key>),
    /// RS256/384/512.
    Rsa(RsaKeyPair, &'static dyn RsaEncoding),
    /// ES256/384/512.
    Ecdsa(EcdsaKeyPair),
}

fn invalid_key(why: &str) -> Error {
    Error::param_value_invalid("signing_key", why.to_owned())
}

/// The DER body of a PEM block with one of the given labels.
fn pem_der(pem: &str, labels: &[&str]) -> Option<(String, Vec<u8>)> {
    let pem = pem.trim();
    let rest = pem.strip_prefix("-----BEGIN ")?;
    let (label, rest) = rest.split_once("-----")?;
    if !labels.contains(&label) {
        return None;
    }
    let (body, tail) = rest.split_once(&format!("-----END {label}-----"))?;
    if !tail.trim().is_empty() {
        return None;
    }
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    Some((label.to_owned(), STANDARD.decode(b64).ok()?))
}

fn ecdsa_alg(algorithm: &str) -> &'static EcdsaSigningAlgorithm {
    match algorithm {
        "ES384" => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        "ES512" => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
        _ => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
    }
}

/// Parses `key` for `algorithm` (one of [`ALGORITHMS`]); 422 on `signing_key` when it does not fit.
pub fn parse(algorithm: &str, key: &str) -> Result<Signer> {
    match algorithm {
        "HS256" | "HS384" | "HS512" => {
            if key.len() < MIN_HMAC_KEY {
                return Err(invalid_key("HMAC signing keys must be at least 32 bytes long."));
            }
            let alg = match algorithm {
                "HS384" => hmac::HMAC_SHA384,
                "HS512" => hmac::HMAC_SHA512,
                _ => hmac::HMAC_SHA256,
            };
            Ok(Signer::Hmac(Box::new(hmac::Key::new(alg, key.as_bytes()))))
        }
        "RS256" | "RS384" | "RS512" => {
            let (label, der) = pem_der(key, &["PRIVATE KEY", "RSA PRIVATE KEY"])
                .ok_or_else(|| invalid_key("signing_key must be an RSA private key in PEM format."))?;
            let pair =
                if label == "RSA PRIVATE KEY" { RsaKeyPair::from_der(&der) } else { RsaKeyPair::from_pkcs8(&der) }
                    .map_err(|_| invalid_key("signing_key is not a usable RSA private key (2048 to 8192 bits)."))?;
            let enc: &'static dyn RsaEncoding = match algorithm {
                "RS384" => &signature::RSA_PKCS1_SHA384,
                "RS512" => &signature::RSA_PKCS1_SHA512,
                _ => &signature::RSA_PKCS1_SHA256,
            };
            Ok(Signer::Rsa(pair, enc))
        }
        "ES256" | "ES384" | "ES512" => {
            let (_, der) = pem_der(key, &["PRIVATE KEY", "EC PRIVATE KEY"])
                .ok_or_else(|| invalid_key("signing_key must be an EC private key in PEM format."))?;
            let pair = EcdsaKeyPair::from_private_key_der(ecdsa_alg(algorithm), &der)
                .map_err(|_| invalid_key("signing_key is not a private key of the curve the algorithm uses."))?;
            Ok(Signer::Ecdsa(pair))
        }
        _ => Err(Error::param_value_invalid(
            "signing_algorithm",
            format!("signing_algorithm must be one of {}.", ALGORITHMS.join(", ")),
        )),
    }
}

/// Signs `claims` as a compact JWS with `header` (which must already hold `alg`).
pub fn sign(signer: &Signer, header: &Map<String, Value>, claims: &Value) -> Result<String> {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).map_err(Error::internal)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(Error::internal)?)
    );
    let sig = match signer {
        Signer::Hmac(key) => hmac::sign(key, signing_input.as_bytes()).as_ref().to_vec(),
        Signer::Rsa(pair, enc) => {
            let mut sig = vec![0u8; pair.public_modulus_len()];
            pair.sign(*enc, &SystemRandom::new(), signing_input.as_bytes(), &mut sig)
                .map_err(|e| Error::internal(anyhow::anyhow!("RSA sign: {e}")))?;
            sig
        }
        Signer::Ecdsa(pair) => pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|e| Error::internal(anyhow::anyhow!("ECDSA sign: {e}")))?
            .as_ref()
            .to_vec(),
    };
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::KeyPair as _;

    fn pem(label: &str, der: &[u8]) -> String {
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", STANDARD.encode(der))
    }

    fn verify_parts(jwt: &str) -> (String, Vec<u8>) {
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        (input.to_owned(), URL_SAFE_NO_PAD.decode(sig).unwrap())
    }

    #[test]
    fn hmac_signs_and_refuses_short_keys() {
        assert!(parse("HS256", "short").is_err());
        let key = "k".repeat(32);
        let s = parse("HS512", &key).unwrap();
        let mut h = Map::new();
        h.insert("alg".into(), "HS512".into());
        let jwt = sign(&s, &h, &serde_json::json!({"a": 1})).unwrap();
        let (input, sig) = verify_parts(&jwt);
        hmac::verify(&hmac::Key::new(hmac::HMAC_SHA512, key.as_bytes()), input.as_bytes(), &sig).unwrap();
    }

    #[test]
    fn ecdsa_keys_parse_for_their_curve_only() {
        let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let der = pair.to_pkcs8v1().unwrap();
        let key = pem("PRIVATE KEY", der.as_ref());
        assert!(parse("ES384", &key).is_err());
        let s = parse("ES256", &key).unwrap();
        let mut h = Map::new();
        h.insert("alg".into(), "ES256".into());
        let jwt = sign(&s, &h, &serde_json::json!({})).unwrap();
        let (input, sig) = verify_parts(&jwt);
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref())
            .verify(input.as_bytes(), &sig)
            .unwrap();
    }

    #[test]
    fn rsa_pkcs8_pem_signs_and_garbage_is_refused() {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
        let s = parse("RS384", &pem("PRIVATE KEY", der.as_ref())).unwrap();
        let mut h = Map::new();
        h.insert("alg".into(), "RS384".into());
        let jwt = sign(&s, &h, &serde_json::json!({})).unwrap();
        let (input, sig) = verify_parts(&jwt);
        signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA384, pair.public_key().as_ref())
            .verify(input.as_bytes(), &sig)
            .unwrap();
        assert!(parse("RS256", "not a pem").is_err());
        assert!(parse("RS256", &pem("PRIVATE KEY", b"junk")).is_err());
        assert!(parse("XX256", "x").is_err());
    }
}
