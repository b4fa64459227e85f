//! The real-browser proof: Debian's Chromium, driven by `playwright-core`, signs in through clerk-js's `<SignIn/>`
//! (clerk-js and `@clerk/ui` served by Tessera itself at `/npm/...`) against `tessera serve`, and a small Node app
//! then asks `authenticateRequest` of `@clerk/backend` and `clerkMiddleware()` of `@clerk/express` whether the
//! browser's cookies are signed in; finally a document request without `__session` goes through the Frontend API's
//! handshake and comes back signed in; after signing out and in again, the page switches organizations with
//! `Clerk.setActive({organization})` and the backend sees each `orgId`; a second browser context is signed out while
//! the first stays signed in, and signs in there with an e-mail code (test mode); at the end the first context's
//! session has outlived its 30-second session token, through a token clerk-js refreshed (`tests/browser/signin.mjs`,
//! `tests/browser/app.mjs`). Every request the pages sent to Tessera is printed, and any that failed fails the test.
//! A second test bundles a `@clerk/react` 6 app and a `@clerk/clerk-react` 5 app with esbuild (clerk-js 6 and 5 served
//! by Tessera side by side), signs in through each, then runs `@clerk/testing`'s helpers (`tests/browser/react.mjs`).
//! A third test has `openid-client` and an MCP server built on `@clerk/mcp-tools` use Tessera as their OAuth provider
//! over HTTPS (`tests/browser/oauth.mjs`). A fourth signs in through a `samlify` SAML identity provider
//! (`tests/browser/saml.mjs`), a fifth through the suite's OIDC identity provider (`tests/browser/oidc.mjs`).
//!
//! The npm packages are installed by the test, pinned by `tests/browser/package-lock.json`, into
//! `target/browser-env/` (reused while the pins are unchanged; a file lock keeps parallel tests from installing at
//! once). Chromium is installed with apt-get when missing. No network means a failing test, never a skipped one.
//! Runs on a throwaway SQLite database, or on a fresh PostgreSQL database with `TESSERA_TEST_DATABASE_URL`.

mod common;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{BIN, ServeOptions, Server, TestDb, run_with_timeout};

/// The development instance's secret key, pinned with `TESSERA_SECRET_KEY`.
const DEV_KEY: &str = "sk_test_TesseraBrowserSuiteDevelopmentKey01";
/// Installing downloads about 100 MB of packages.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);
/// The browser program (its own steps time out after 20 s each).
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(300);
/// Debian's Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// `target/browser-env`, found from the binary under test (`target/<profile>/tessera`).
fn env_dir() -> PathBuf {
    let target = Path::new(BIN).parent().and_then(Path::parent).expect("target dir");
    let dir = target.join("browser-env");
    std::fs::create_dir_all(&dir).expect("create target/browser-env");
    dir
}

/// Runs `f` holding an exclusive lock on `target/browser-env/.lock` (across threads and processes).
fn locked<T>(f: impl FnOnce() -> T) -> T {
    let path = env_dir().join(".lock");
    let file: File = OpenOptions::new().create(true).truncate(false).write(true).open(&path).expect("lock file");
    file.lock().expect("lock target/browser-env");
    let result = f();
    let _ = file.unlock();
    result
}

/// Runs a set-up command; a failure (no network, registry down, missing tool) fails the test loudly.
fn setup_step(what: &str, mut cmd: Command) {
    cmd.env("npm_config_update_notifier", "false");
    let out = run_with_timeout(cmd, INSTALL_TIMEOUT);
    assert!(
        out.status.success(),
        "browser suite set-up failed: {what} (exit {:?}).\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Debian's `chromium`, installed with apt-get if missing.
fn ensure_chromium() {
    let works = || Command::new(CHROMIUM).arg("--version").output().is_ok_and(|o| o.status.success());
    if works() {
        return;
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    let apt = |args: &[&str]| {
        let mut cmd = if root { Command::new("apt-get") } else { Command::new("sudo") };
        if !root {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        setup_step(&format!("apt-get {}", args.join(" ")), cmd);
    };
    // Both browser tests start at once on a fresh machine: one installs, the other waits for it (two apt-gets
    // would fight over apt's lock).
    locked(|| {
        if works() {
            return;
        }
        apt(&["update", "-q"]);
        apt(&["install", "-y", "-q", "chromium"]);
        assert!(works(), "{CHROMIUM} after apt-get install chromium");
    });
}

/// `target/browser-env`, with the pinned packages installed from the lock file and the programs copied in (ES
/// modules resolve packages from the importing file's directory, so the programs run from there).
fn node_dir() -> PathBuf {
    static NODE: OnceLock<PathBuf> = OnceLock::new();
    NODE.get_or_init(|| {
        locked(|| {
            let dir = env_dir();
            let src = repo_root().join("tests/browser");
            let wanted = read(&src.join("package.json")) + &read(&src.join("package-lock.json"));
            let stamp = dir.join("tessera-stamp.txt");
            if !(dir.join("node_modules/playwright-core").exists()
                && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted))
            {
                for f in ["package.json", "package-lock.json"] {
                    std::fs::copy(src.join(f), dir.join(f)).expect("copy package files");
                }
                let mut cmd = Command::new("npm");
                cmd.args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir);
                setup_step("npm ci (tests/browser/package-lock.json)", cmd);
                std::fs::write(&stamp, wanted).expect("write the stamp");
            }
            copy_programs(&src, &dir);
            dir
        })
    })
    .clone()
}

/// Copies the JS programs (`*.mjs`, and the React apps' `*.jsx` in subdirectories) from `src` into `dir`.
fn copy_programs(src: &Path, dir: &Path) {
    for entry in std::fs::read_dir(src).expect("tests/browser") {
        let path = entry.expect("dir entry").path();
        let target = dir.join(path.file_name().expect("name"));
        if path.is_dir() && !path.ends_with("node_modules") {
            std::fs::create_dir_all(&target).expect("create a program directory");
            copy_programs(&path, &target);
        } else if path.extension().is_some_and(|e| e == "mjs" || e == "jsx") {
            std::fs::copy(&path, &target).expect("copy JS program");
        }
    }
}

/// A `tessera serve` on a fresh database that serves clerk-js (one directory, or several comma-separated) and
/// `@clerk/ui` from the browser env, over HTTPS with `tls`; and the publishable key it printed.
struct FrontendServer {
    server: Server,
    /// Kept until the server is gone: dropping a PostgreSQL test database drops the database.
    _db: TestDb,
    publishable_key: String,
    started: Instant,
    set_up: Duration,
}

impl FrontendServer {
    /// Chromium and the npm packages first (installed if missing), then the server.
    fn start(started: Instant, clerk_js: &[&str], tls: Option<&common::TestCertificate>) -> (Self, PathBuf) {
        ensure_chromium();
        let dir = node_dir();
        let dist = |package: &str| {
            dir.join("node_modules").join(package).join("dist").to_str().expect("utf-8 path").to_owned()
        };
        let clerk_js = clerk_js.iter().map(|package| dist(package)).collect::<Vec<_>>().join(",");
        let clerk_ui = dist("@clerk/ui");
        let db = TestDb::fresh_or_memory();
        let mut opts = ServeOptions::new(&db).secret_key(DEV_KEY);
        opts.env = vec![("TESSERA_CLERK_JS_DIR", clerk_js.as_str()), ("TESSERA_CLERK_UI_DIR", clerk_ui.as_str())];
        opts.tls = tls;
        let server = Server::start_with(opts);
        let publishable_key =
            server.printed.publishable_key.clone().expect("the publishable key is printed on first start");
        (Self { server, _db: db, publishable_key, started, set_up: started.elapsed() }, dir)
    }

    /// Runs `node <program>` from the browser env with `env` (and Chromium, no telemetry, no proxy for loopback);
    /// prints its output and timings, and fails with the server's log when the program fails.
    fn run(&self, dir: &Path, program: &str, env: &[(&str, &std::ffi::OsStr)]) {
        let mut cmd = Command::new("node");
        cmd.arg(dir.join(program))
            .current_dir(dir)
            .envs(env.iter().copied())
            .env("CHROMIUM", CHROMIUM)
            .env("CLERK_TELEMETRY_DISABLED", "1")
            // Loopback traffic must never go through a proxy from the environment.
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        let out = run_with_timeout(cmd, PROGRAM_TIMEOUT);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("--- node {program}\n{stdout}{stderr}");
        println!(
            "{program}: set-up {:.1}s, total {:.1}s",
            self.set_up.as_secs_f64(),
            self.started.elapsed().as_secs_f64()
        );
        assert!(
            out.status.success(),
            "{program} failed (exit {:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- server log (tail)\n{}",
            out.status,
            tail(&self.server.stderr(), 60)
        );
    }

    /// The variables the Tessera-specific programs read.
    fn tessera_env(&self) -> Vec<(&'static str, &std::ffi::OsStr)> {
        vec![
            ("TESSERA_API_URL", self.server.url.as_ref()),
            ("TESSERA_SECRET_KEY", DEV_KEY.as_ref()),
            ("TESSERA_PUBLISHABLE_KEY", self.publishable_key.as_ref()),
        ]
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `<SignIn/>` with e-mail and password in Chromium, then `authenticateRequest` on the browser's cookies, then
/// the handshake; organization switching; a second context, signed in with an e-mail code.
#[test]
fn browser_sign_in_with_password() {
    let (frontend, dir) = FrontendServer::start(Instant::now(), &["@clerk/clerk-js"], None);
    frontend.run(&dir, "signin.mjs", &frontend.tessera_env());
}

/// A `@clerk/react` 6 app and a `@clerk/clerk-react` 5 app, bundled by the test with esbuild, each sign in once
/// through `<SignIn/>` (clerk-js 6 with `@clerk/ui`, and clerk-js 5, both served by Tessera from their own
/// directories); then `@clerk/testing`'s `clerkSetup()`, `clerk.signIn({ page, emailAddress })`, `clerk.signOut()`
/// and `clerk.signIn({ page, signInParams })` (`tests/browser/react.mjs`).
#[test]
fn browser_react_apps_and_clerk_testing() {
    let started = Instant::now();
    // The README's Vite + React quick start is this app, line for line (from its imports on).
    let app = read(&repo_root().join("tests/browser/react/react6.jsx"));
    let code = &app[app.find("import ").expect("imports")..];
    assert!(
        read(&repo_root().join("README.md")).contains(code),
        "README's quick start differs from react6.jsx:\n{code}"
    );
    // clerk-js 6 and 5 side by side (`clerk-js-5` is npm's alias install of `@clerk/clerk-js@5`).
    let (frontend, dir) = FrontendServer::start(started, &["@clerk/clerk-js", "clerk-js-5"], None);
    // What @clerk/testing reads (and the apps' keys).
    let env: [(&str, &std::ffi::OsStr); 3] = [
        ("CLERK_API_URL", frontend.server.url.as_ref()),
        ("CLERK_SECRET_KEY", DEV_KEY.as_ref()),
        ("CLERK_PUBLISHABLE_KEY", frontend.publishable_key.as_ref()),
    ];
    frontend.run(&dir, "react.mjs", &env);
}

/// Tessera as an OAuth 2.1 / OIDC provider over HTTPS (`--tls-cert`, a test CA): `openid-client` completes
/// authorization code + PKCE through the hosted sign-in page and consent screen in Chromium, verifies the ID token,
/// reads userinfo, refreshes and revokes; a replayed code and a reused refresh token are refused. An MCP server
/// built on `@clerk/mcp-tools` accepts the access token and refuses it once revoked (`tests/browser/oauth.mjs`).
#[test]
fn browser_oauth_relying_party_and_mcp_server() {
    let certificate = common::TestCertificate::new();
    let (frontend, dir) = FrontendServer::start(Instant::now(), &["@clerk/clerk-js"], Some(&certificate));
    let mut env = frontend.tessera_env();
    env.push(("NODE_EXTRA_CA_CERTS", certificate.ca.as_ref()));
    frontend.run(&dir, "oauth.mjs", &env);
}

/// Enterprise SSO through SAML: a `samlify` identity provider signs the test user in through clerk-js's
/// `enterprise_sso` redirect flow and Tessera's ACS; the backend sees the user and their enterprise account
/// (`tests/browser/saml.mjs`).
#[test]
fn browser_saml_enterprise_sso() {
    let (frontend, dir) = FrontendServer::start(Instant::now(), &["@clerk/clerk-js"], None);
    let fixtures = repo_root().join("crates/testkit/fixtures/saml");
    let (key, cert) = (fixtures.join("idp.key"), fixtures.join("idp.crt"));
    let mut env = frontend.tessera_env();
    env.extend([("SAML_IDP_KEY", key.as_os_str()), ("SAML_IDP_CERT", cert.as_os_str())]);
    frontend.run(&dir, "saml.mjs", &env);
}

/// Enterprise SSO through OIDC: the suite's OIDC identity provider (`tessera_testkit::oidc::TestOidcIdp`, on a
/// loopback port, which a development instance may reach) signs the test user in through clerk-js's `enterprise_sso`
/// redirect flow and Tessera's `/v1/oauth_callback`; the backend sees the user and their enterprise account
/// (`tests/browser/oidc.mjs`).
#[test]
fn browser_oidc_enterprise_sso() {
    use tessera_testkit::oidc::{CLIENT_ID, CLIENT_SECRET, Login, TestOidcIdp};
    const EMAIL: &str = "ada@oidc-corp.test";
    let (frontend, dir) = FrontendServer::start(Instant::now(), &["@clerk/clerk-js"], None);
    // The IdP serves from this runtime's worker threads while the program runs.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let idp = runtime.block_on(TestOidcIdp::start(tessera_core::clock::Clock::System));
    idp.set_default_login(Login::new(EMAIL));
    let discovery = idp.discovery_url();
    let mut env = frontend.tessera_env();
    env.extend([
        ("OIDC_DISCOVERY_URL", discovery.as_ref()),
        ("OIDC_CLIENT_ID", CLIENT_ID.as_ref()),
        ("OIDC_CLIENT_SECRET", CLIENT_SECRET.as_ref()),
        ("OIDC_EMAIL", EMAIL.as_ref()),
    ]);
    frontend.run(&dir, "oidc.mjs", &env);
}
