//! Imported password digests: every hasher verifies its known digest (right and wrong password), and a verified
//! import is rehashed (the password keeps working).

use serde_json::json;
use tessera_testkit::TestApp;

use super::create_user;

/// `(hasher, digest of "correct horse")`, computed with Python's hashlib/cryptography from each format's definition.
const VECTORS: &[(&str, &str)] = &[
    ("md5", "3cb4e732631f47e6eb961f34554b7cde"),
    ("sha256", "4104d36f8da2c254349f85836793ebe029e0c957063a34c91c2e9203187b5631"),
    ("pbkdf2_sha1", "pbkdf2_sha1$1000$saltysalt$209afb02c3e7a0538fc4f4da254e22b416046b3e"),
    ("pbkdf2_sha256", "pbkdf2_sha256$1000$c2FsdHlzYWx0$ogyELkenhssjo9YzB+hLx2dedTg0guGJUM+KVU08H9I="),
    ("pbkdf2_sha256_django", "pbkdf2_sha256$1000$saltysalt$ogyELkenhssjo9YzB+hLx2dedTg0guGJUM+KVU08H9I="),
    (
        "pbkdf2_sha512",
        "pbkdf2_sha512$1000$saltysalt$3b5e975ae5677b1a892dfb0379f6f31b78f5b11a99e0d41f7ef3a4fc355ef0a95d1e06a283edb4b14b627c2340f0582205a9214fc855cbe810132aff6da62eaa",
    ),
    (
        "pbkdf2_sha512_hex",
        "pbkdf2_sha512_hex$1000$73616c747973616c74$3b5e975ae5677b1a892dfb0379f6f31b78f5b11a99e0d41f7ef3a4fc355ef0a95d1e06a283edb4b14b627c2340f0582205a9214fc855cbe810132aff6da62eaa",
    ),
    ("phpass", "$P$6abcdefghRJFCMvnAbZH2hCiFPRxpk."),
    ("md5_phpass", "$H$712345678x/h.x1K6BC2AaZm0aPmtJ."),
    (
        "scrypt_werkzeug",
        "scrypt:16384:8:1$wsalt$5a9ef5f5b6d5aa82cd92c0af9c414303dbdfb401997ed210e2d924e09a7ad63c240ace928d2cd9e034707f68a1c9242e95038c797ad99224da33f53c689f1c7a",
    ),
    ("ldap_ssha", "{SSHA}5pcxo13YdJml98eQSIlT3FMEBMMBAgME"),
    (
        "sha512_symfony",
        "sha512_symfony$5000$symsalt$wvFD+twe1yZ26tQTGMzjI80mKqSRlnifeM1uGHKMGthsiInFBf6JctSf98kv8bk9AMnqjCO7gD7Y/7sMo/NSLQ==",
    ),
    (
        "scrypt_firebase",
        "yElley+Nt+EL2lUunHKCBV8fyYpZL+GmgiN8kzilKI8hvswrDRgLzeCCFuJbTTfz8mAnx0TGj36qTBiXnYpu/A==$Vcd/y5WJG9eFf+H9$R3CnwZq7uvT6OfaoyL0kik6FaeM+vZzX3n9nep1gnAq/o6drT/E9M4IX4N1bhCcExgkACdOqSycEQCGjMIEcfw==$Bw==$8$14",
    ),
];

/// Vectors with other passwords: bcrypt from the OpenBSD/jBCrypt test set, argon2i from the reference README.
const OTHER_VECTORS: &[(&str, &str, &str)] = &[
    ("bcrypt", "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i", "abc"),
    ("bcrypt", "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC", "abcdefghijklmnopqrstuvwxyz"),
    ("argon2i", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "password"),
];

async fn check(app: &TestApp, hasher: &str, digest: &str, password: &str) {
    let u = create_user(app, json!({ "password_digest": digest, "password_hasher": hasher })).await;
    assert_eq!(u["password_enabled"], true, "{hasher}");
    let path = format!("/v1/users/{}/verify_password", u["id"].as_str().unwrap());
    app.post(&path, json!({ "password": format!("{password}!") })).send().await.assert_error(
        422,
        "form_password_incorrect",
        None,
    );
    let ok = app.post(&path, json!({ "password": password })).send().await;
    assert_eq!(ok.status, 200, "{hasher}: {}", ok.json);
    assert_eq!(ok.json, json!({ "verified": true }));
    // Rehashed to argon2id: the same password still works, a wrong one still fails.
    app.post(&path, json!({ "password": password })).send().await.assert_status(200);
    app.post(&path, json!({ "password": "nope" })).send().await.assert_error(422, "form_password_incorrect", None);
}

#[tokio::test]
async fn every_hasher_verifies_its_vectors() {
    let app = TestApp::new().await;
    for (hasher, digest) in VECTORS {
        check(&app, hasher, digest, "correct horse").await;
    }
    for (hasher, digest, password) in OTHER_VECTORS {
        check(&app, hasher, digest, password).await;
    }
}

#[tokio::test]
async fn malformed_digests_are_refused_per_hasher() {
    let app = TestApp::new().await;
    for (hasher, digest) in [
        ("bcrypt", "$2a$06$If6bvum7DFjUnE9p2uDeDu"),
        ("bcrypt_sha256_django", "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i"),
        ("md5", "3cb4e732631f47e6eb961f34554b7cdz"),
        ("sha256", "abc"),
        ("pbkdf2_sha1", "pbkdf2_sha1$x$salt$abcd"),
        ("pbkdf2_sha256", "pbkdf2_sha256$1000$!!$abc"),
        ("pbkdf2_sha256_django", "pbkdf2_sha1$1000$salt$abc="),
        ("pbkdf2_sha512", "pbkdf2_sha512$1000$salt$nothex"),
        ("pbkdf2_sha512_hex", "pbkdf2_sha512_hex$1000$zz$abcd"),
        ("phpass", "$P$short"),
        ("md5_phpass", "$X$6abcdefghRJFCMvnAbZH2hCiFPRxpk."),
        ("scrypt_firebase", "a$b$c"),
        ("scrypt_werkzeug", "scrypt:1000:8:1$salt$abcd"),
        ("ldap_ssha", "{SHA}5pcxo13YdJml98eQSIlT3FMEBMMBAgME"),
        ("argon2i", "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"),
        ("argon2id", "$argon2id$v=19$m=65536"),
        ("sha512_symfony", "sha512_symfony$0$salt$abc="),
    ] {
        let r = app.post("/v1/users", json!({ "password_digest": digest, "password_hasher": hasher })).send().await;
        assert_eq!(r.status, 422, "{hasher}: {}", r.json);
        r.assert_error(422, "form_password_digest_invalid_code", Some("password_digest"));
    }
}
