//! Secrets at rest and in logs: one of every secret-bearing object is created and used through the real
//! `tessera serve` at trace logging; then the database (every SQLite file, or a `pg_dump`) and the server's log are
//! scanned for each secret as raw text, hex and base64. No hit is allowed. A positive control (a non-secret value
//! sent the same way) proves the scan can find things.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use common::{ServeOptions, Server, TEST_MASTER_KEY, TestDb, http};
use serde_json::{Value, json};
use std::time::Duration;

/// The instance secret key, pinned.
const KEY: &str = "sk_test_TesseraSecretsScanDevelopmentKey0001";
/// A TOTP secret (base32) and its raw bytes' source.
const TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const PASSWORD: &str = "Tr0ub4dor&3-secrets-scan";
const BACKUP_CODE: &str = "scan-backup-code-42";
/// Not a secret: must be found, or the scan proves nothing.
const CONTROL: &str = "secrets-scan-control-value";

fn call(server: &Server, method: &str, path: &str, bearer: &str, body: Value) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let res = http().request(method, server.at(path)).bearer_auth(bearer).json(&body).send().expect("request");
    let status = res.status().as_u16();
    (status, serde_json::from_str(&res.text().expect("body")).unwrap_or(Value::Null))
}

#[track_caller]
fn ok(res: (u16, Value), what: &str) -> Value {
    assert!((200..300).contains(&res.0), "{what}: {} {}", res.0, res.1);
    res.1
}

fn base32_decode(s: &str) -> Vec<u8> {
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("base32"),
        };
        bits = (bits << 5) | u64::from(v);
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push(u8::try_from((bits >> n) & 0xff).expect("byte"));
        }
    }
    out
}

/// The forms in which `secret` could leak.
fn encodings(secret: &[u8]) -> Vec<Vec<u8>> {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        secret.to_vec(),
        hex.clone().into_bytes(),
        hex.to_uppercase().into_bytes(),
        STANDARD.encode(secret).into_bytes(),
        STANDARD_NO_PAD.encode(secret).into_bytes(),
        URL_SAFE.encode(secret).into_bytes(),
        URL_SAFE_NO_PAD.encode(secret).into_bytes(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every (secret name, encoding) found in `haystack`.
fn hits(haystack: &[u8], secrets: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, secret) in secrets {
        for (i, form) in encodings(secret).iter().enumerate() {
            if contains(haystack, form) {
                found.push(format!("{name} (encoding #{i})"));
            }
        }
    }
    found
}

#[test]
fn no_secret_is_stored_or_logged_in_the_clear() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::fresh(dir.path());
    let mut opts = ServeOptions::new(&db).secret_key(KEY);
    opts.env = vec![("TESSERA_LOG", "trace"), ("RUST_LOG", "trace")];
    let server = Server::start_with(opts);
    let mut secrets: Vec<(String, Vec<u8>)> = vec![
        ("instance secret key".into(), KEY.into()),
        ("password".into(), PASSWORD.into()),
        ("TOTP secret".into(), TOTP.into()),
        ("TOTP key bytes".into(), base32_decode(TOTP)),
        ("backup code".into(), BACKUP_CODE.into()),
    ];
    if db.master_key().is_some() {
        secrets.push(("master key".into(), TEST_MASTER_KEY.into()));
    }

    let user = ok(
        call(
            &server,
            "POST",
            "/v1/users",
            KEY,
            json!({
                "external_id": CONTROL,
                "password": PASSWORD,
                "skip_password_checks": true,
                "totp_secret": TOTP,
                "backup_codes": [BACKUP_CODE, "another-backup-code-7"],
            }),
        ),
        "create user",
    );
    secrets.push(("second backup code".into(), "another-backup-code-7".into()));
    let user_id = user["id"].as_str().expect("user id").to_owned();
    let verify = |password: &str| {
        call(&server, "POST", &format!("/v1/users/{user_id}/verify_password"), KEY, json!({ "password": password }))
    };
    ok(verify(PASSWORD), "verify the password");
    assert_eq!(verify("wrong-password-attempt").0, 422);
    let (s, _) =
        call(&server, "POST", &format!("/v1/users/{user_id}/verify_totp"), KEY, json!({ "code": BACKUP_CODE }));
    assert_eq!(s, 200, "backup code accepted");

    let key =
        ok(call(&server, "POST", "/v1/api_keys", KEY, json!({ "name": "scan key", "subject": user_id })), "api key");
    let key_secret = key["secret"].as_str().expect("api key secret").to_owned();
    let again = ok(
        call(
            &server,
            "GET",
            &format!("/v1/api_keys/{}/secret", key["id"].as_str().unwrap_or_default()),
            KEY,
            Value::Null,
        ),
        "api key secret",
    );
    assert_eq!(again["secret"], key_secret.as_str(), "the sealed secret opens");
    ok(call(&server, "POST", "/api_keys/verify", KEY, json!({ "secret": key_secret })), "verify api key");
    secrets.push(("API key secret".into(), key_secret.into_bytes()));

    let machine = ok(call(&server, "POST", "/v1/machines", KEY, json!({ "name": "scan machine" })), "machine");
    let machine_id = machine["id"].as_str().expect("machine id").to_owned();
    let first_key = machine["secret_key"].as_str().expect("machine key").to_owned();
    let rotated = ok(
        call(
            &server,
            "POST",
            &format!("/v1/machines/{machine_id}/secret_key/rotate"),
            KEY,
            json!({ "previous_token_ttl": 3600 }),
        ),
        "rotate machine key",
    );
    let machine_key = rotated["secret"].as_str().or(rotated["secret_key"].as_str()).expect("rotated key").to_owned();
    let token =
        ok(call(&server, "POST", "/m2m_tokens", &machine_key, json!({ "token_format": "opaque" })), "m2m token");
    let token = token["token"].as_str().expect("m2m token").to_owned();
    ok(call(&server, "POST", "/m2m_tokens/verify", KEY, json!({ "token": token })), "verify m2m token");
    secrets.push(("machine secret key".into(), first_key.into_bytes()));
    secrets.push(("rotated machine secret key".into(), machine_key.into_bytes()));
    secrets.push(("M2M token".into(), token.into_bytes()));

    // The Frontend API: a dev browser, a password sign-in in a form body, a handshake nonce, a session token.
    let pk = server.printed.publishable_key.clone().expect("publishable key");
    let host = STANDARD.decode(pk.splitn(3, '_').nth(2).unwrap()).unwrap();
    let host = String::from_utf8(host).unwrap().trim_end_matches('$').to_owned();
    let fapi = |path: &str| server.at(&format!("/fapi/{host}{path}"));
    let created: Value = http().post(fapi("/v1/dev_browser")).send().expect("dev browser").json().expect("json");
    let dev_browser = created["id"].as_str().expect("dev browser id").to_owned();
    let body = json!({"email_address": ["browser@example.com"], "password": PASSWORD, "skip_password_checks": true});
    ok(call(&server, "POST", "/v1/users", KEY, body), "browser user");
    let form = [("identifier", "browser@example.com"), ("password", PASSWORD), ("strategy", "password")];
    let res = http()
        .post(fapi(&format!("/v1/client/sign_ins?__clerk_db_jwt={dev_browser}")))
        .form(&form)
        .send()
        .expect("sign in");
    let signed: Value = res.json().expect("sign-in json");
    let session_token = signed["client"]["sessions"][0]["last_active_token"]["jwt"].as_str().expect("token").to_owned();
    let redirect = "http%3A%2F%2Flocalhost%3A3000%2F";
    let hs = http()
        .get(fapi(&format!("/v1/client/handshake?redirect_url={redirect}&format=nonce&__clerk_db_jwt={dev_browser}")))
        .send()
        .expect("handshake");
    let location = hs.headers().get("location").expect("handshake redirect").to_str().unwrap().to_owned();
    let nonce = location.split("__clerk_handshake_nonce=").nth(1).expect("nonce").split('&').next().unwrap().to_owned();
    secrets.push(("dev browser token".into(), dev_browser.into_bytes()));
    secrets.push(("handshake nonce".into(), nonce.into_bytes()));
    secrets.push(("session token".into(), session_token.into_bytes()));

    let (_, log) = server.stop_with_log(Duration::from_secs(20));
    assert!(log.contains("TRACE") || log.contains("trace"), "the server logged at trace level");
    let found = hits(log.as_bytes(), &secrets);
    assert!(found.is_empty(), "secrets in the trace log: {found:?}");

    let stored: Vec<u8> = match &db {
        TestDb::Postgres { url, .. } => {
            let out = std::process::Command::new("pg_dump").args(["--no-owner", url]).output().expect("run pg_dump");
            assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        }
        _ => {
            // The database and its WAL; the key file beside it holds the master key by design.
            let mut all = Vec::new();
            for entry in std::fs::read_dir(dir.path()).expect("db dir") {
                let path = entry.expect("entry").path();
                if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("tessera.db"))
                    && path.extension().is_none_or(|e| e != "key")
                {
                    all.extend(std::fs::read(&path).expect("read db file"));
                }
            }
            all
        }
    };
    assert!(contains(&stored, CONTROL.as_bytes()), "the scan finds the non-secret control value");
    let found = hits(&stored, &secrets);
    assert!(found.is_empty(), "secrets stored in the clear: {found:?}");
}
