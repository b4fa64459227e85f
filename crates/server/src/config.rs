//! Command-line and environment configuration. Secrets are redacted from `Debug`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use tessera_api::version::ApiVersion;
use tessera_core::instances::Environment;
use tessera_core::sender::{SmtpConfig, SmtpSecurity};

/// Where the data lives and how secrets at rest are keyed.
#[derive(Clone, Args)]
pub struct DatabaseArgs {
    /// `tessera.db` (SQLite file, created if missing), `sqlite::memory:` (throwaway) or `postgres://…`.
    #[arg(long, env = "TESSERA_DATABASE_URL", default_value = "tessera.db")]
    pub database_url: String,
    /// 32-byte master key (64 hex characters or base64) for secrets at rest. Required with PostgreSQL; with a
    /// SQLite file it defaults to a key file generated beside the database (`<file>.key`, mode 0600).
    #[arg(long, env = "TESSERA_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
}

impl fmt::Debug for DatabaseArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseArgs")
            .field("database_url", &redact_url(&self.database_url))
            .field("master_key", &self.master_key.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// `tessera serve` options.
#[derive(Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TESSERA_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Address of a separate listener that serves Prometheus metrics at `/metrics` (off when unset). Metrics
    /// aggregate every instance's traffic, so they are kept off the API and frontend hosts: bind this to an address
    /// only the scraper reaches.
    #[arg(long, env = "TESSERA_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// PEM certificate chain: serve HTTPS (rustls) instead of HTTP on `--addr`. Needs `--tls-key`.
    #[arg(long, env = "TESSERA_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, env = "TESSERA_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Secret key (`sk_test_…`) for the instance created on first start, so that it is known in advance.
    #[arg(long, env = "TESSERA_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Backend API version of requests that name none with `Clerk-API-Version` or `__clerk_api_version`:
    /// `2025-11-10` or `2026-05-12`.
    #[arg(long, env = "TESSERA_DEFAULT_API_VERSION", default_value = "2025-11-10", value_parser = api_version)]
    pub default_api_version: ApiVersion,
    /// `clerk`: Clerk's Backend API rate limits (429 with Retry-After), counted across nodes on PostgreSQL.
    #[arg(long, env = "TESSERA_RATE_LIMITS", value_enum, default_value = "off")]
    pub rate_limits: RateLimitsArg,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub smtp: SmtpArgs,
    #[command(flatten)]
    pub clerk_js: ClerkJsArgs,
}

/// Where clerk-js and its UI are served from (`/npm/@clerk/clerk-js@{version}/dist/…` and
/// `/npm/@clerk/ui@{version}/dist/…`), e.g. after `npm i @clerk/clerk-js@6 @clerk/ui@1`. Each flag takes several
/// directories (repeated, or comma-separated), e.g. clerk-js 6 and 5 side by side; a request's `@{version}` picks the
/// one whose `package.json` answers it.
#[derive(Debug, Clone, Args)]
pub struct ClerkJsArgs {
    /// `dist` directories of `@clerk/clerk-js` (default: `node_modules/@clerk/clerk-js/dist` when it exists).
    #[arg(long, env = "TESSERA_CLERK_JS_DIR", value_delimiter = ',')]
    pub clerk_js_dir: Vec<PathBuf>,
    /// `dist` directories of `@clerk/ui` (default: `node_modules/@clerk/ui/dist` when it exists).
    #[arg(long, env = "TESSERA_CLERK_UI_DIR", value_delimiter = ',')]
    pub clerk_ui_dir: Vec<PathBuf>,
}

impl ClerkJsArgs {
    /// The clerk-js and UI directories, absolute: every directory given must exist; the default is used when none
    /// is given and it exists.
    pub fn dirs(&self) -> anyhow::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
        let pick = |given: &[PathBuf], flag: &str, default: &str| -> anyhow::Result<Vec<PathBuf>> {
            if given.is_empty() {
                return Ok(std::fs::canonicalize(Path::new(default)).ok().filter(|d| d.is_dir()).into_iter().collect());
            }
            given
                .iter()
                .map(|dir| {
                    std::fs::canonicalize(dir)
                        .ok()
                        .filter(|d| d.is_dir())
                        .ok_or_else(|| anyhow::anyhow!("{flag} {}: not a directory", dir.display()))
                })
                .collect()
        };
        Ok((
            pick(&self.clerk_js_dir, "--clerk-js-dir", "node_modules/@clerk/clerk-js/dist")?,
            pick(&self.clerk_ui_dir, "--clerk-ui-dir", "node_modules/@clerk/ui/dist")?,
        ))
    }
}

/// Webhook delivery options.
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Let production instances deliver webhooks to loopback and private addresses too (development instances
    /// always may).
    #[arg(long, env = "TESSERA_WEBHOOK_ALLOW_PRIVATE_TARGETS")]
    pub webhook_allow_private_targets: bool,
    /// Delays between delivery tries, in seconds, comma-separated (default: Svix's 5,300,1800,7200,18000,36000,36000).
    #[arg(long, env = "TESSERA_WEBHOOK_RETRY_SCHEDULE", value_delimiter = ',')]
    pub webhook_retry_schedule: Option<Vec<u64>>,
    /// How often an idle worker looks for due deliveries, in milliseconds.
    #[arg(long, env = "TESSERA_WEBHOOK_POLL_MS", default_value_t = 500)]
    pub webhook_poll_ms: u64,
    /// Do not run the delivery worker on this node (another node delivers).
    #[arg(long, env = "TESSERA_WEBHOOK_WORKER_DISABLED")]
    pub webhook_worker_disabled: bool,
    /// How often the billing clock looks for renewals, trial ends and other due billing work, in milliseconds
    /// (one node at a time does it).
    #[arg(long, env = "TESSERA_BILLING_TICK_MS", default_value_t = 1000)]
    pub billing_tick_ms: u64,
}

/// Outgoing e-mail (verification codes, invitations). Without `--smtp-host`, development instances capture
/// messages in the outbox (`tessera outbox`) and production instances cannot send e-mail.
#[derive(Clone, Args)]
pub struct SmtpArgs {
    /// SMTP relay host; enables e-mail delivery.
    #[arg(long, env = "TESSERA_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP relay port.
    #[arg(long, env = "TESSERA_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// `starttls` (port 587), `tls` (implicit TLS, port 465) or `none` (plain, for a local relay only).
    #[arg(long, env = "TESSERA_SMTP_SECURITY", value_enum, default_value = "starttls")]
    pub smtp_security: SmtpSecurityArg,
    /// SMTP login.
    #[arg(long, env = "TESSERA_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    /// SMTP password.
    #[arg(long, env = "TESSERA_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The `From` mailbox, e.g. `Example <notifications@example.com>`.
    #[arg(long, env = "TESSERA_SMTP_FROM")]
    pub smtp_from: Option<String>,
}

/// `--smtp-security`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SmtpSecurityArg {
    /// STARTTLS upgrade.
    Starttls,
    /// Implicit TLS.
    Tls,
    /// Plain text.
    None,
}

impl SmtpArgs {
    /// The SMTP settings, if a host is configured.
    pub fn config(&self) -> anyhow::Result<Option<SmtpConfig>> {
        let Some(host) = self.smtp_host.clone().filter(|h| !h.is_empty()) else { return Ok(None) };
        let from = self
            .smtp_from
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--smtp-from (TESSERA_SMTP_FROM) is required with --smtp-host"))?;
        Ok(Some(SmtpConfig {
            host,
            port: self.smtp_port,
            security: match self.smtp_security {
                SmtpSecurityArg::Starttls => SmtpSecurity::StartTls,
                SmtpSecurityArg::Tls => SmtpSecurity::Tls,
                SmtpSecurityArg::None => SmtpSecurity::None,
            },
            username: self.smtp_username.clone(),
            password: self.smtp_password.clone(),
            from,
        }))
    }
}

impl fmt::Debug for SmtpArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpArgs")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_security", &self.smtp_security)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "[REDACTED]"))
            .field("smtp_from", &self.smtp_from)
            .finish()
    }
}

impl fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeArgs")
            .field("addr", &self.addr)
            .field("metrics_addr", &self.metrics_addr)
            .field("db", &self.db)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "[REDACTED]"))
            .field("default_api_version", &self.default_api_version)
            .field("rate_limits", &self.rate_limits)
            .field("webhooks", &self.webhooks)
            .field("smtp", &self.smtp)
            .field("clerk_js", &self.clerk_js)
            .finish()
    }
}

fn api_version(value: &str) -> Result<ApiVersion, String> {
    ApiVersion::parse(value).ok_or_else(|| format!("`{value}` is no Clerk API version (2025-11-10, 2026-05-12)"))
}

/// `--rate-limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RateLimitsArg {
    /// No limits (the default: tests and local development run unthrottled).
    Off,
    /// Clerk's documented Backend API limits.
    Clerk,
}

/// `--environment`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EnvironmentArg {
    /// `sk_test_` keys.
    Development,
    /// `sk_live_` keys.
    Production,
}

impl From<EnvironmentArg> for Environment {
    fn from(e: EnvironmentArg) -> Self {
        match e {
            EnvironmentArg::Development => Environment::Development,
            EnvironmentArg::Production => Environment::Production,
        }
    }
}

/// Hides the password of a database URL.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}{user}:[REDACTED]{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
