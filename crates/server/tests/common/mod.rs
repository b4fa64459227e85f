//! Shared by the black-box tests: run the real `tessera` binary, on a throwaway database, and talk to it.
//!
//! Databases: a SQLite file in a temp dir by default; with `TESSERA_TEST_DATABASE_URL=postgres://…` a fresh
//! PostgreSQL database per test (created and dropped through `psql` on the server's `postgres` database).

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tessera");

/// The environment variable that selects PostgreSQL (same as the in-process suite).
pub const TEST_DATABASE_URL: &str = "TESSERA_TEST_DATABASE_URL";

/// A fixed master key for PostgreSQL test databases (64 hex characters).
pub const TEST_MASTER_KEY: &str = "5e55e7a00123456789abcdef0123456789abcdef0123456789abcdeffedcba98";

/// Variables of the developer's environment that would change what the binary does.
const TESSERA_VARS: &[&str] = &[
    "TESSERA_ADDR",
    "TESSERA_METRICS_ADDR",
    "TESSERA_DATABASE_URL",
    "TESSERA_MASTER_KEY",
    "TESSERA_SECRET_KEY",
    "TESSERA_CLERK_JS_DIR",
    "TESSERA_CLERK_UI_DIR",
    "TESSERA_LOG_FORMAT",
    "RUST_LOG",
];

/// How long a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A port that was free a moment ago. Servers normally bind port 0 and print the port they got (no race); this is
/// for tests of `--addr`/`TESSERA_ADDR` as users write them.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// The PostgreSQL URL the suite was asked to use, if any.
pub fn postgres_requested() -> Option<String> {
    std::env::var(TEST_DATABASE_URL).ok().filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

/// A throwaway database for one test.
pub enum TestDb {
    /// A SQLite file (`<dir>/tessera.db`, key file beside it).
    SqliteFile {
        /// The file.
        path: PathBuf,
    },
    /// `sqlite::memory:`.
    SqliteMemory,
    /// A fresh PostgreSQL database, dropped with this value.
    Postgres {
        /// `postgres://…/postgres`, for CREATE/DROP DATABASE.
        admin_url: String,
        /// The database name.
        name: String,
        /// The URL the server uses.
        url: String,
    },
}

impl TestDb {
    /// A SQLite file in `dir`, or a fresh PostgreSQL database when `TESSERA_TEST_DATABASE_URL` says so.
    pub fn fresh(dir: &Path) -> Self {
        match postgres_requested() {
            Some(url) => Self::fresh_postgres(&url),
            None => Self::SqliteFile { path: dir.join("tessera.db") },
        }
    }

    /// `sqlite::memory:`, or a fresh PostgreSQL database when `TESSERA_TEST_DATABASE_URL` says so.
    pub fn fresh_or_memory() -> Self {
        match postgres_requested() {
            Some(url) => Self::fresh_postgres(&url),
            None => Self::SqliteMemory,
        }
    }

    /// Creates a uniquely named database next to the one `url` names.
    pub fn fresh_postgres(url: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
        let name = format!("tessera_t_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let admin_url = with_database(url, "postgres");
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        let url = with_database(url, &name);
        Self::Postgres { admin_url, name, url }
    }

    /// The `--database-url` value.
    pub fn url(&self) -> String {
        match self {
            Self::SqliteFile { path } => path.display().to_string(),
            Self::SqliteMemory => "sqlite::memory:".into(),
            Self::Postgres { url, .. } => url.clone(),
        }
    }

    /// The master key the server needs (PostgreSQL only; SQLite files use their key file).
    pub fn master_key(&self) -> Option<&'static str> {
        matches!(self, Self::Postgres { .. }).then_some(TEST_MASTER_KEY)
    }

    /// Environment for any `tessera` command on this database.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![("TESSERA_DATABASE_URL".to_owned(), self.url())];
        if let Some(key) = self.master_key() {
            env.push(("TESSERA_MASTER_KEY".into(), key.into()));
        }
        env
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name, .. } = self {
            // Best effort: a leftover test database is harmless, a panic in drop is not.
            let _ = Command::new("psql")
                .args([admin_url.as_str(), "-qAt", "-v", "ON_ERROR_STOP=1", "-c"])
                .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .output();
        }
    }
}

/// `url` with its database name replaced (query string kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// Runs one SQL statement with `psql`, panicking with its output on failure.
pub fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args([url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap_or_else(|e| panic!("running psql (needed for PostgreSQL tests): {e}"));
    assert!(out.status.success(), "psql {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A `tessera` command with a clean environment (none of the developer's `TESSERA_*` settings).
pub fn tessera(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for var in TESSERA_VARS {
        cmd.env_remove(var);
    }
    cmd.env("TESSERA_LOG", "info");
    cmd
}

/// Runs a command to completion within `timeout`, killing it if it takes longer.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(out) => out.expect("collecting output"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
    }
}

/// The keys and address a server or `instance create` printed.
#[derive(Debug, Default, Clone)]
pub struct Printed {
    /// `Secret key:` line.
    pub secret_key: Option<String>,
    /// `Publishable key:` line.
    pub publishable_key: Option<String>,
    /// `Created <environment> instance <id>` line.
    pub instance_id: Option<String>,
    /// `Tessera listening on http://…`.
    pub url: Option<String>,
}

impl Printed {
    /// Parses stdout lines.
    pub fn parse(text: &str) -> Self {
        let mut p = Self::default();
        for line in text.lines() {
            let line = line.trim();
            let last = || line.split_whitespace().last().map(str::to_owned);
            if line.starts_with("Secret key:") {
                p.secret_key = last();
            } else if line.starts_with("Publishable key:") {
                p.publishable_key = last();
            } else if line.starts_with("Created ") && line.contains(" instance ") {
                p.instance_id = last();
            } else if let Some(url) = line.strip_prefix("Tessera listening on ") {
                p.url = Some(url.trim().to_owned());
            }
        }
        p
    }
}

/// A running `tessera serve`. Dropping it kills the process.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The port.
    pub port: u16,
    /// What it printed before listening (keys on first start).
    pub printed: Printed,
    /// Everything it printed on stdout before listening.
    pub stdout: String,
    stderr_path: PathBuf,
    _stderr_dir: tempfile::TempDir,
}

/// How to start a server.
pub struct ServeOptions<'a> {
    /// The database.
    pub db: &'a TestDb,
    /// `TESSERA_SECRET_KEY`.
    pub secret_key: Option<&'a str>,
    /// Extra environment.
    pub env: Vec<(&'a str, &'a str)>,
    /// Working directory (default: a temp dir of the server's own).
    pub cwd: Option<&'a Path>,
    /// Listen on a fixed free port rather than port 0, given as `TESSERA_ADDR` instead of `--addr`.
    pub addr_from_env: bool,
    /// Serve HTTPS with this certificate (`--tls-cert`/`--tls-key`); readiness is checked trusting its CA.
    pub tls: Option<&'a TestCertificate>,
}

impl<'a> ServeOptions<'a> {
    /// Defaults for a database.
    pub fn new(db: &'a TestDb) -> Self {
        Self { db, secret_key: None, env: Vec::new(), cwd: None, addr_from_env: false, tls: None }
    }

    /// With `TESSERA_SECRET_KEY`.
    pub fn secret_key(mut self, key: &'a str) -> Self {
        self.secret_key = Some(key);
        self
    }
}

impl Server {
    /// Starts a server on its database and waits until it listens.
    pub fn start(db: &TestDb) -> Self {
        Self::start_with(ServeOptions::new(db))
    }

    /// Starts a server; with a fixed port, retries on another one if it was taken in the meantime.
    pub fn start_with(opts: ServeOptions<'_>) -> Self {
        let mut last_error = String::new();
        for _ in 0..3 {
            match Self::try_start(&opts) {
                Ok(server) => return server,
                Err(e) if e.contains("binding") => last_error = e,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("{last_error}");
    }

    fn try_start(opts: &ServeOptions<'_>) -> Result<Self, String> {
        let addr = if opts.addr_from_env { format!("127.0.0.1:{}", free_port()) } else { "127.0.0.1:0".to_owned() };
        let stderr_dir = tempfile::tempdir().expect("temp dir");
        let stderr_path = stderr_dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut cmd = tessera(&["serve"]);
        if opts.addr_from_env {
            cmd.env("TESSERA_ADDR", &addr);
        } else {
            cmd.args(["--addr", &addr]);
        }
        cmd.envs(opts.db.env());
        if let Some(key) = opts.secret_key {
            cmd.env("TESSERA_SECRET_KEY", key);
        }
        cmd.envs(opts.env.iter().copied());
        if let Some(tls) = opts.tls {
            cmd.arg("--tls-cert").arg(&tls.cert).arg("--tls-key").arg(&tls.key);
        }
        cmd.current_dir(opts.cwd.unwrap_or(stderr_dir.path()));
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawning {BIN}: {e}"))?;

        // Lines arrive on a channel so that waiting can time out.
        let (tx, rx) = mpsc::channel::<String>();
        let out = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let mut stdout = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) => {
                    stdout.push_str(&line);
                    stdout.push('\n');
                    if line.starts_with("Tessera listening on ") {
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) if !left.is_zero() => {}
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                    return Err(format!(
                        "tessera serve did not start (exit {status:?})\n--- stdout\n{stdout}--- stderr\n{stderr}"
                    ));
                }
            }
        }
        let printed = Printed::parse(&stdout);
        let url = printed.url.clone().expect("listening line");
        let port: u16 = url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port in the listening line");
        let scheme = if opts.tls.is_some() { "https" } else { "http" };
        assert!(url.starts_with(&format!("{scheme}://127.0.0.1:")) && port != 0, "listening line: {url}");
        if opts.addr_from_env {
            assert_eq!(url, format!("{scheme}://{addr}"), "the printed address is the one asked for");
        }
        let probe = opts.tls.map_or_else(http, TestCertificate::client);
        // Ready means answering: `tessera serve` prints its address before its SIGTERM handler is installed (it is
        // installed when the server future is first polled), so a signal sent on the printed line alone can kill
        // the process with the default disposition instead of shutting it down gracefully.
        let ready_deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match probe.get(format!("{url}/healthz")).send() {
                Ok(res) if res.status().is_success() => break,
                _ if Instant::now() < ready_deadline => std::thread::sleep(Duration::from_millis(20)),
                other => {
                    let _ = child.kill();
                    return Err(format!("tessera serve printed {url} but /healthz does not answer: {other:?}"));
                }
            }
        }
        Ok(Self { child, url, port, printed, stdout, stderr_path, _stderr_dir: stderr_dir })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// `url` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Sends SIGTERM (graceful shutdown) without waiting.
    pub fn sigterm(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let status = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().expect("run kill");
        // kill fails only if the process is gone already, which `stop` then reports.
        assert!(status.success() || matches!(self.child.try_wait(), Ok(Some(_))), "kill -TERM failed");
    }

    /// SIGTERM (unless it has exited already), then waits up to `timeout` for the exit and returns its status.
    pub fn stop(self, timeout: Duration) -> ExitStatus {
        self.stop_with_log(timeout).0
    }

    /// Like [`Server::stop`], also returning everything the server logged.
    pub fn stop_with_log(mut self, timeout: Duration) -> (ExitStatus, String) {
        self.sigterm();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return (status, self.stderr());
            }
            assert!(Instant::now() < deadline, "tessera did not stop within {timeout:?} of SIGTERM\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A blocking HTTP client that does not follow redirects.
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        // Loopback traffic must never go through a proxy from the environment.
        .no_proxy()
        .build()
        .expect("http client")
}

/// `GET url` with a bearer key; returns the status and the JSON body.
pub fn get_json(url: &str, bearer: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = http().get(url);
    if let Some(key) = bearer {
        req = req.bearer_auth(key);
    }
    let res = req.send().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = res.status().as_u16();
    let text = res.text().expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: body is not JSON ({e}): {text}"));
    (status, body)
}

/// The `kid`s that `GET /v1/jwks` publishes for a key.
pub fn jwks_kids(server: &Server, secret_key: &str) -> Vec<String> {
    let (status, body) = get_json(&server.at("/v1/jwks"), Some(secret_key));
    assert_eq!(status, 200, "GET /v1/jwks: {body}");
    body["keys"].as_array().expect("keys array").iter().map(|k| k["kid"].as_str().expect("kid").to_owned()).collect()
}

/// A certificate authority and a server certificate it signed, made with the `openssl` command-line tool (no
/// `openssl` means a failing test): valid for `localhost`, `127.0.0.1` and every development frontend host
/// (`*.tessera-accounts.dev`).
pub struct TestCertificate {
    /// The CA certificate (PEM), what clients trust (`NODE_EXTRA_CA_CERTS`).
    pub ca: PathBuf,
    /// The server's certificate chain (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM, PKCS #8).
    pub key: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCertificate {
    /// A fresh CA and server certificate (P-256) in a temp dir.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name);
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap_or_else(|e| panic!("the TLS tests need the openssl command-line tool: {e}"));
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        openssl(
            &[
                &["req", "-x509", "-days", "2", "-subj", "/CN=Tessera test CA", "-keyout", "ca.key", "-out", "ca.pem"]
                    [..],
                &ec,
                &["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
            ]
            .concat(),
        );
        openssl(&[&["req", "-subj", "/CN=localhost", "-keyout", "key.pem", "-out", "server.csr"][..], &ec].concat());
        std::fs::write(
            path("server.ext"),
            "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n\
             subjectAltName=DNS:localhost,DNS:*.tessera-accounts.dev,IP:127.0.0.1\n",
        )
        .expect("write server.ext");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "cert.pem",
        ]);
        Self { ca: path("ca.pem"), cert: path("cert.pem"), key: path("key.pem"), _dir: dir }
    }

    /// A blocking HTTP client (no redirects, no proxy) that trusts this CA only.
    pub fn client(&self) -> reqwest::blocking::Client {
        let ca = std::fs::read(&self.ca).expect("read the CA");
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("the CA certificate")])
            .build()
            .expect("https client")
    }
}

/// The frontend host a publishable key encodes (`pk_test_` + base64(`host$`)).
pub fn frontend_host(publishable_key: &str) -> String {
    use base64::Engine as _;
    let encoded = publishable_key.splitn(3, '_').nth(2).expect("pk_{test,live}_…");
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64 in the publishable key");
    String::from_utf8(decoded).expect("utf-8 host").trim_end_matches('$').to_owned()
}
