//! Prometheus `/metrics` on a listener of its own (`--metrics-addr`).
//!
//! The code records through the `metrics` facade (`metrics::counter!`…) without knowing about Prometheus; this
//! module installs the Prometheus recorder (`metrics-exporter-prometheus`, only its recorder and text rendering:
//! the listener is ours) and serves the text format. The metrics aggregate every instance's traffic and carry no
//! instance label, so they are served apart from the API and frontend hosts, where any instance's key holder (or
//! anyone at all) could read them; the operator binds the metrics address where only the scraper reaches it.
//!
//! Gauges that describe state rather than events (pool connections, webhook outbox depth) are sampled when
//! scraped, so they are never older than the scrape.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tessera_core::Ctx;
use tessera_core::store::Db;

/// Latency buckets in seconds: fine below 10 ms, where the hot paths answer, coarse up to the 30 s deadline.
const LATENCY_BUCKETS: &[f64] =
    &[0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Installs the Prometheus recorder for the process and keeps its histograms compact.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .context("metrics buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    tessera_api::metrics::record_requests();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

#[derive(Clone)]
struct Metrics {
    handle: PrometheusHandle,
    ctx: Arc<Ctx>,
}

/// Binds the metrics listener; the returned future serves `GET /metrics` until the process ends.
pub async fn listen(
    addr: SocketAddr,
    handle: PrometheusHandle,
    ctx: Arc<Ctx>,
) -> anyhow::Result<(SocketAddr, impl Future<Output = ()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr} (metrics)"))?;
    let local = listener.local_addr()?;
    let app = Router::new().route("/metrics", get(scrape)).with_state(Metrics { handle, ctx });
    Ok((local, async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    }))
}

/// `GET /metrics`: samples the state gauges, then renders everything in Prometheus' text format.
async fn scrape(State(m): State<Metrics>) -> impl IntoResponse {
    sample(&m.ctx).await;
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], m.handle.render())
}

/// Connections per pool (open, and idle among them), SQLite's write queue, and the webhook deliveries waiting to
/// be sent.
async fn sample(ctx: &Ctx) {
    let pool = |name: &'static str, size: u32, idle: usize| {
        metrics::gauge!("tessera_db_pool_connections", "pool" => name).set(f64::from(size));
        metrics::gauge!("tessera_db_pool_idle_connections", "pool" => name).set(idle as f64);
    };
    match &ctx.db {
        Db::Sqlite(p) => {
            // The one writer connection, idle when no transaction holds it; the queue gauge is also kept current
            // by the writer itself, sampled here so that the series exists before the first write.
            pool("sqlite_write", 1, usize::from(p.writer.is_idle()));
            metrics::gauge!("tessera_db_write_queue_depth").set(p.writer.queue_depth() as f64);
            pool("sqlite_read", p.read.size(), p.read.num_idle());
        }
        Db::Postgres(p) => {
            pool("postgres", p.pool.size(), p.pool.num_idle());
            pool("postgres_read", p.read.size(), p.read.num_idle());
        }
    }
    match tessera_core::webhooks::outbox_depth(ctx).await {
        Ok(n) => metrics::gauge!("tessera_webhook_outbox_depth").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "sampling the webhook outbox depth"),
    }
}
