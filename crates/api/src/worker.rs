//! The webhook delivery worker: claims due deliveries from the outbox (leased, so that with several nodes on one
//! database each delivery is sent by one node at a time), sends them signed like Svix, and records the outcome.
//! Redirects are never followed; loopback and private targets are refused unless the instance is a development
//! instance or the operator allows them.

use std::sync::Arc;
use std::time::Duration;

use tessera_core::webhooks::{self, Outgoing, RetryPolicy, SendResult};
use tessera_core::{Ctx, Result};

use crate::outbound::{Outbound, body_excerpt, describe};

/// How much of a response body is kept.
const RESPONSE_EXCERPT: usize = 4096;

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Pause between polls when nothing was due.
    pub poll_interval: Duration,
    /// How long a claimed delivery stays with this node (longer than `timeout`).
    pub lease: Duration,
    /// Deliveries claimed per poll (sent concurrently).
    pub batch: i64,
    /// Per-request timeout.
    pub timeout: Duration,
    /// When to retry.
    pub retry: RetryPolicy,
    /// Let every instance deliver to loopback/private addresses (development instances always may).
    pub allow_private_targets: bool,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(60),
            batch: 32,
            timeout: Duration::from_secs(15),
            retry: RetryPolicy::default(),
            allow_private_targets: false,
        }
    }
}

/// A delivery worker. Cheap to clone (the clones share the lease owner id and HTTP clients).
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: Arc<Ctx>,
    config: WorkerConfig,
    owner: String,
    /// Built for the first delivery (see [`Inner::clients`]).
    clients: tokio::sync::OnceCell<Outbound>,
}

impl Worker {
    /// A worker with its own lease owner id.
    pub fn new(ctx: Arc<Ctx>, config: WorkerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                owner: tessera_core::ids::new_id("wkr"),
                clients: tokio::sync::OnceCell::new(),
                ctx,
                config,
            }),
        }
    }

    /// Claims one batch of due deliveries, sends them and records the outcomes; returns how many were sent.
    pub async fn run_once(&self) -> Result<usize> {
        let me = &self.inner;
        let lease_ms = i64::try_from(me.config.lease.as_millis()).unwrap_or(i64::MAX / 2);
        let batch =
            webhooks::claim(&me.ctx, &me.owner, lease_ms, me.config.batch, me.config.allow_private_targets).await?;
        let n = batch.len();
        let mut sends = tokio::task::JoinSet::new();
        for o in batch {
            let inner = Arc::clone(&self.inner);
            sends.spawn(async move {
                let result = inner.send(&o).await;
                webhooks::record(&inner.ctx, &inner.owner, &o.delivery, &result, &inner.config.retry).await
            });
        }
        let mut first_error = None;
        while let Some(joined) = sends.join_next().await {
            match joined {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => first_error = first_error.or(Some(e)),
                Err(e) => first_error = first_error.or(Some(tessera_core::Error::internal(e))),
            }
        }
        first_error.map_or(Ok(n), Err)
    }

    /// Delivers until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let pause = match self.run_once().await {
                Ok(0) => self.inner.config.poll_interval,
                Ok(_) => Duration::ZERO,
                // A busy database (another process holding SQLite's write lock) clears by itself: the next tick
                // retries, so it is no warning. Real failures keep their level.
                Err(e) if e.is_transient() => {
                    tracing::debug!(error = %e, "webhook delivery poll deferred: database busy");
                    self.inner.config.poll_interval
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery poll failed");
                    self.inner.config.poll_interval
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

impl Inner {
    /// The HTTP clients, built when the first delivery needs them and on the blocking pool: building one loads
    /// the system's CA certificates (tens of milliseconds of file reads and parsing), which at start-up held the
    /// first answer of a server pinned to one core. A failure fails this delivery (retried on schedule) and the
    /// next delivery tries again.
    async fn clients(&self) -> std::result::Result<&Outbound, String> {
        let timeout = self.config.timeout;
        self.clients
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || Outbound::new("Tessera-Webhooks/1", timeout, timeout))
                    .await
                    .map_err(|e| format!("building the HTTP client: {e}"))?
                    .map_err(|e| format!("building the HTTP client: {}", describe(&e)))
            })
            .await
    }

    async fn send(&self, o: &Outgoing) -> SendResult {
        let failed = |error: String| SendResult { status_code: None, response: None, error: Some(error) };
        let Ok(url) = url::Url::parse(&o.delivery.url) else {
            return failed("the endpoint URL does not parse".into());
        };
        let clients = match self.clients().await {
            Ok(c) => c,
            Err(why) => return failed(why),
        };
        let client = match clients.client_for(&url, o.allow_private) {
            Ok(c) => c,
            Err(why) => return failed(why),
        };
        let request = client
            .post(url)
            .header("content-type", "application/json")
            .header("svix-id", &o.delivery.event_id)
            .header("svix-timestamp", o.timestamp.to_string())
            .header("svix-signature", &o.signature)
            .body(o.delivery.payload.clone());
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return failed(describe(&e)),
        };
        let status = response.status().as_u16();
        let body = body_excerpt(&mut response, RESPONSE_EXCERPT).await;
        let error = (300..400).contains(&status).then(|| "redirects are not followed".to_owned());
        SendResult { status_code: Some(status), response: Some(String::from_utf8_lossy(&body).into_owned()), error }
    }
}
