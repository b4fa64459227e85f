//! Clerk's official SDKs against the real `tessera serve`: the programs under `tests/sdk/` drive the server through
//! `clerk-backend-api` (Python) and `@clerk/backend` (JS) and exit 0 only if every check passed.
//!
//! The SDKs are installed from their registries by the first test that needs them, pinned by
//! `tests/sdk/python/requirements.txt` and `tests/sdk/js/package-lock.json`, into `target/sdk-env/` (reused while
//! the pins are unchanged; a file lock keeps parallel tests from installing at once). No network means a failing
//! test, never a skipped one.
//!
//! Each test starts its own server with a pinned secret key: on a throwaway SQLite database (a file when the test
//! restarts the server), or on a fresh PostgreSQL database when `TESSERA_TEST_DATABASE_URL=postgres://…` is set.

mod common;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::{BIN, Printed, ServeOptions, Server, TestDb, run_with_timeout, tessera};

/// The development instance's secret key, pinned with `TESSERA_SECRET_KEY`.
const DEV_KEY: &str = "sk_test_TesseraSdkSuiteDevelopmentKey000001";
/// Installing may download a few megabytes.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);
/// One SDK program.
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(300);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// `target/sdk-env`, found from the binary under test (`target/<profile>/tessera`).
fn sdk_env_dir() -> PathBuf {
    let target = Path::new(BIN).parent().and_then(Path::parent).expect("target dir");
    let dir = target.join("sdk-env");
    std::fs::create_dir_all(&dir).expect("create target/sdk-env");
    dir
}

/// Runs `f` holding an exclusive lock on `target/sdk-env/.lock` (across threads and processes).
fn locked<T>(f: impl FnOnce() -> T) -> T {
    let path = sdk_env_dir().join(".lock");
    let file: File = OpenOptions::new().create(true).truncate(false).write(true).open(&path).expect("lock file");
    file.lock().expect("lock target/sdk-env");
    let result = f();
    let _ = file.unlock();
    result
}

/// Runs a set-up command; a failure (no network, registry down, missing tool) fails the test loudly.
fn setup_step(what: &str, mut cmd: Command) {
    cmd.env("PIP_DISABLE_PIP_VERSION_CHECK", "1").env("npm_config_update_notifier", "false");
    let out = run_with_timeout(cmd, INSTALL_TIMEOUT);
    assert!(
        out.status.success(),
        "SDK set-up failed: {what} (exit {:?}). The official-SDK suite needs the package registries.\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The virtualenv's Python, with `clerk-backend-api` installed as pinned.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        locked(|| {
            let venv = sdk_env_dir().join("venv");
            let python = venv.join("bin").join("python");
            let requirements = repo_root().join("tests/sdk/python/requirements.txt");
            let stamp = venv.join("tessera-requirements.txt");
            let wanted = read(&requirements);
            if python.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
                return python;
            }
            if venv.exists() {
                std::fs::remove_dir_all(&venv).expect("remove the stale venv");
            }
            let mut cmd = Command::new("python3");
            cmd.arg("-m").arg("venv").arg(&venv);
            setup_step("python3 -m venv target/sdk-env/venv", cmd);
            let mut cmd = Command::new(&python);
            cmd.args(["-m", "pip", "install", "--no-input", "-q", "-r"]).arg(&requirements);
            setup_step("pip install -r tests/sdk/python/requirements.txt", cmd);
            std::fs::write(&stamp, wanted).expect("write the venv stamp");
            python
        })
    })
}

/// `target/sdk-env/node`, with `@clerk/backend` installed from the lock file and the JS programs copied in (ES
/// modules resolve packages from the importing file's directory, so the programs run from there).
fn node_dir() -> PathBuf {
    static NODE: OnceLock<PathBuf> = OnceLock::new();
    NODE.get_or_init(|| {
        locked(|| {
            let dir = sdk_env_dir().join("node");
            let src = repo_root().join("tests/sdk/js");
            let wanted = read(&src.join("package.json")) + &read(&src.join("package-lock.json"));
            let stamp = dir.join("tessera-stamp.txt");
            if !(dir.join("node_modules/@clerk/backend").exists()
                && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted))
            {
                std::fs::create_dir_all(&dir).expect("create target/sdk-env/node");
                for f in ["package.json", "package-lock.json"] {
                    std::fs::copy(src.join(f), dir.join(f)).expect("copy package files");
                }
                let mut cmd = Command::new("npm");
                cmd.args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir);
                setup_step("npm ci (tests/sdk/js/package-lock.json)", cmd);
                std::fs::write(&stamp, wanted).expect("write the node stamp");
            }
            for entry in std::fs::read_dir(&src).expect("tests/sdk/js") {
                let path = entry.expect("dir entry").path();
                if path.extension().is_some_and(|e| e == "mjs") {
                    std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy JS program");
                }
            }
            dir
        })
    })
    .clone()
}

/// Runs one SDK program against `server` and fails with its output (and the server's log) unless it exits 0.
fn run_program(server: &Server, mut cmd: Command, name: &str, production_key: Option<&str>) {
    cmd.env("TESSERA_API_URL", &server.url)
        .env("TESSERA_SECRET_KEY", DEV_KEY)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        // @clerk/backend would otherwise send telemetry to Clerk: the programs talk to the server under test only.
        .env("CLERK_TELEMETRY_DISABLED", "1")
        // Loopback traffic must never go through a proxy from the environment.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    if let Some(key) = production_key {
        cmd.env("TESSERA_PRODUCTION_SECRET_KEY", key);
    }
    // Printed when the server created its instance (a fresh database): `authenticateRequest` needs it for some
    // `acceptsToken` values.
    if let Some(key) = &server.printed.publishable_key {
        cmd.env("TESSERA_PUBLISHABLE_KEY", key);
    }
    let out = run_with_timeout(cmd, PROGRAM_TIMEOUT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("--- {name}\n{stdout}{stderr}");
    assert!(
        out.status.success(),
        "{name} failed (exit {:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- server log\n{}",
        out.status,
        server.stderr()
    );
}

fn run_python(server: &Server, script: &str, args: &[&str], production_key: Option<&str>) {
    let mut cmd = Command::new(python());
    cmd.arg(script).args(args).current_dir(repo_root().join("tests/sdk/python"));
    run_program(server, cmd, &format!("python {script} {}", args.join(" ")), production_key);
}

fn run_node(server: &Server, script: &str) {
    let dir = node_dir();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join(script)).current_dir(&dir);
    run_program(server, cmd, &format!("node {script}"), None);
}

#[test]
fn sdk_python_foundation() {
    python();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    run_python(&server, "test_foundation.py", &[], None);
}

#[test]
fn sdk_js_foundation() {
    node_dir();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    run_node(&server, "foundation.mjs");
}

/// Every Instance Settings, Beta Features and Domains operation, then the same database after a restart.
#[test]
fn sdk_python_instance_settings() {
    python();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::fresh(dir.path());
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    assert_eq!(server.printed.secret_key.as_deref(), Some(DEV_KEY));

    // A production instance in the same database, created by the CLI while the server runs.
    let mut create = tessera(&["instance", "create", "--environment", "production"]);
    create.envs(db.env());
    let out = run_with_timeout(create, Duration::from_secs(60));
    assert!(out.status.success(), "instance create: {}", String::from_utf8_lossy(&out.stderr));
    let production_key = Printed::parse(&String::from_utf8_lossy(&out.stdout)).secret_key.expect("production key");

    run_python(&server, "test_instance_settings.py", &[], Some(&production_key));
    assert!(server.stop(Duration::from_secs(30)).success(), "graceful stop");

    let server = Server::start(&db);
    run_python(&server, "test_instance_settings.py", &["--after-restart"], Some(&production_key));
}

/// API keys, machines (scopes, secret-key rotation) and M2M tokens (opaque and JWT) through `@clerk/backend`,
/// including `authenticateRequest` with machine tokens.
#[test]
fn sdk_js_machine_auth() {
    node_dir();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    assert!(server.printed.publishable_key.is_some(), "the publishable key is printed on first start");
    run_node(&server, "machine_auth.mjs");
}

/// API keys, machines and M2M tokens through `clerk-backend-api`, including `security.verify_token` for `ak_…` and
/// `mt_…` tokens.
#[test]
fn sdk_python_machine_auth() {
    python();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    run_python(&server, "test_machine_auth.py", &[], None);
}

/// Webhooks through `@clerk/backend`: the Svix-app operations, the endpoint portal over HTTP, and a scripted
/// session of user changes delivered by the server's worker to a local receiver, each verified by `verifyWebhook`.
#[test]
fn sdk_js_webhooks() {
    node_dir();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    run_node(&server, "webhooks.mjs");
}

/// Issue 17 through `@clerk/backend` as it ships (Clerk-API-Version 2026-05-12): the metadata rule, erasing
/// invitations, transactional e-mail with idempotency keys, and the error codes of duplicates.
#[test]
fn sdk_js_versions() {
    node_dir();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    run_node(&server, "versions.mjs");
}

/// The field sweep of issue 17: every field `@clerk/backend`'s `fromJSON` reads from the main resources is in
/// what the server answers (the checklist is read from the installed package).
#[test]
fn sdk_js_fields() {
    node_dir();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    run_node(&server, "fields.mjs");
}

/// The same sweep through `clerk-backend-api`: the main resources parse into its models (required fields present,
/// every field of the right type).
#[test]
fn sdk_python_fields() {
    python();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    run_python(&server, "test_fields.py", &[], None);
}

/// Session tokens and JWT-template tokens through `@clerk/backend`: minted, verified by `verifyToken`; expired and
/// foreign-key tokens refused. Also agent tasks and a proxy check against a local stand-in proxy.
#[test]
fn sdk_js_tokens() {
    node_dir();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    run_node(&server, "tokens.mjs");
}

/// The same through `clerk-backend-api` and `security.verify_token`, and the public interstitial.
#[test]
fn sdk_python_tokens() {
    python();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    run_python(&server, "test_tokens.py", &[], None);
}

/// Organizations through `@clerk/backend`: organization, membership with a custom role, and the member's session
/// token (created in the organization) read by `authenticateRequest` (`orgId`, `orgRole`, `has({ permission })`).
#[test]
fn sdk_js_organizations() {
    node_dir();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    assert!(server.printed.publishable_key.is_some(), "the publishable key is printed on first start");
    run_node(&server, "organizations.mjs");
}

/// Applies `tests/sdk/billing_catalogue.json` to the database of a running server (`tessera billing apply`).
fn apply_billing_catalogue(db: &TestDb) {
    let file = repo_root().join("tests/sdk/billing_catalogue.json");
    let mut apply = tessera(&["billing", "apply", "--file"]);
    apply.arg(&file).envs(db.env());
    let out = run_with_timeout(apply, Duration::from_secs(60));
    assert!(out.status.success(), "billing apply: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every billing method of `clerk-backend-api` (`billing.*`, and the subscription and credit methods of `users` and
/// `organizations`) against the catalogue file.
#[test]
fn sdk_python_billing() {
    python();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::fresh(dir.path());
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    apply_billing_catalogue(&db);
    run_python(&server, "test_billing.py", &[], None);
}

/// `clerk.billing.*` of `@clerk/backend`, and `has({ plan })` / `has({ feature })` of session tokens as a user moves
/// to a paid plan and back at the period's end — the program moves the billing clock with `tessera billing tick
/// --at` on the same database — and for an organization's plan.
#[test]
fn sdk_js_billing() {
    let dir = node_dir();
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = TestDb::fresh(tmp.path());
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    assert!(server.printed.publishable_key.is_some(), "the publishable key is printed on first start");
    apply_billing_catalogue(&db);
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("billing.mjs")).current_dir(&dir).env("TESSERA_BIN", BIN).envs(db.env());
    run_program(&server, cmd, "node billing.mjs", None);
}

/// OAuth applications (every `oauthApplications` method), `idPOAuthAccessToken.verify` and `authenticateRequest({
/// acceptsToken: 'oauth_token' })` through `@clerk/backend`, on opaque and `at+jwt` tokens the provider issued
/// through a real authorization-code flow; each refused once revoked.
#[test]
fn sdk_js_oauth() {
    node_dir();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    assert!(server.printed.publishable_key.is_some(), "the publishable key is printed on first start");
    run_node(&server, "oauth.mjs");
}

/// The same through `clerk-backend-api`: every `oauth_applications` method (with `upload_logo`),
/// `oauth_access_tokens.verify` and `security.verify_token` for `oat_…` tokens.
#[test]
fn sdk_python_oauth() {
    python();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    assert!(server.printed.publishable_key.is_some(), "the publishable key is printed on first start");
    run_python(&server, "test_oauth.py", &[], None);
}

/// Enterprise SSO and directory sync through clerk-backend-api: every enterprise connection, SAML connection, SCIM
/// directory (with the ten operations 2026-05-12 added, which the SDK calls as 2025-11-10) and admin portal link
/// token method; then `scim2-tester`'s discovery and CRUD checks of the directory's SCIM service provider, and a user
/// it provisioned read back through the SDK.
#[test]
fn sdk_python_enterprise() {
    python();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    assert!(server.printed.publishable_key.is_some(), "the publishable key is printed on first start");
    run_python(&server, "test_enterprise.py", &[], None);
}
