//! HTTPS with `--tls-cert`/`--tls-key`: a server started with a certificate made by the test (a throwaway CA, see
//! `common::TestCertificate`) answers both faces over TLS, names `https` URLs in the provider's documents, and
//! serves nothing in cleartext on that port.

mod common;

use common::{ServeOptions, Server, TestCertificate, TestDb, http};
use serde_json::Value;

const KEY: &str = "sk_test_TesseraTlsSuiteDevelopmentKey000001";

#[test]
fn https_serves_both_faces_with_the_given_certificate() {
    let certificate = TestCertificate::new();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions { tls: Some(&certificate), ..ServeOptions::new(&db).secret_key(KEY) });
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    let pk = server.printed.publishable_key.clone().expect("the publishable key is printed on first start");
    let host = common::frontend_host(&pk);
    let client = certificate.client();
    let json = |r: reqwest::blocking::Response| -> (u16, Value) {
        let status = r.status().as_u16();
        (status, r.json().expect("a JSON body"))
    };

    // The Backend API, with the secret key.
    let (status, jwks) = json(client.get(server.at("/v1/jwks")).bearer_auth(KEY).send().expect("GET /v1/jwks"));
    assert_eq!(status, 200, "{jwks}");
    assert_eq!(jwks["keys"][0]["kty"], "RSA");

    // The Frontend API by proxy path: the issuer is the proxy URL, on https.
    let (status, oidc) = json(
        client.get(server.at(&format!("/fapi/{host}/.well-known/openid-configuration"))).send().expect("discovery"),
    );
    assert_eq!(status, 200, "{oidc}");
    assert_eq!(oidc["issuer"], format!("{}/fapi/{host}", server.url));
    // By Host (what a client that derives https://{frontend host} from the publishable key sends): https://{host}.
    let (status, meta) = json(
        client
            .get(server.at("/.well-known/oauth-authorization-server"))
            .header("host", &host)
            .send()
            .expect("RFC 8414 metadata by Host"),
    );
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["issuer"], format!("https://{host}"));
    assert_eq!(meta["token_endpoint"], format!("https://{host}/oauth/token"));

    // A client offering HTTP/2 first (as browsers do) gets HTTP/1.1, the protocol the server speaks.
    let mut s_client = std::process::Command::new("openssl");
    s_client.args(["s_client", "-connect", &format!("127.0.0.1:{}", server.port), "-alpn", "h2,http/1.1"]);
    s_client.args(["-servername", "localhost", "-CAfile"]).arg(&certificate.ca);
    let out = common::run_with_timeout(s_client, std::time::Duration::from_secs(20));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ALPN protocol: http/1.1"), "openssl s_client -alpn h2,http/1.1:\n{text}");
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");

    // A client that does not trust the test CA is refused by the handshake; cleartext HTTP gets no answer.
    let untrusting = reqwest::blocking::Client::builder().no_proxy().build().expect("client");
    assert!(untrusting.get(server.at("/healthz")).send().is_err(), "an untrusted certificate must fail the handshake");
    let cleartext = server.url.replacen("https://", "http://", 1);
    assert!(http().get(format!("{cleartext}/healthz")).send().is_err(), "no HTTP answer on the TLS port");
}
