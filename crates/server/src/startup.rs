//! Wiring: open the database, resolve the master key, create the first instance, serve until a signal.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use axum::ServiceExt as _;
use tessera_api::AppState;
use tessera_core::crypto::MasterKey;
use tessera_core::instances::{self, Environment};
use tessera_core::store::{Db, DbTarget};
use tessera_core::{Clock, Ctx};

use crate::config::{DatabaseArgs, ServeArgs, WebhookArgs};

/// Logs to stderr; `TESSERA_LOG` (or `RUST_LOG`) filters, `TESSERA_LOG_FORMAT=json` switches to JSON lines.
pub fn init_tracing() {
    let filter = std::env::var("TESSERA_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if std::env::var("TESSERA_LOG_FORMAT").is_ok_and(|v| v == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Opens the database and builds the core context.
async fn open(args: &DatabaseArgs) -> anyhow::Result<Ctx> {
    let target = DbTarget::parse(&args.database_url)?;
    let master_key = resolve_master_key(&target, args.master_key.as_deref())?;
    let db = Db::connect(&target).await.with_context(|| format!("opening the database ({})", describe(&target)))?;
    let ctx = Ctx::new(db, Clock::System, &master_key);
    tessera_core::startup::check_master_key(&ctx).await.map_err(|e| anyhow::anyhow!("{}", source_text(&e)))?;
    tessera_core::startup::seed_organization_defaults(&ctx)
        .await
        .map_err(|e| anyhow::anyhow!("{}", source_text(&e)))?;
    Ok(ctx)
}

fn source_text(e: &tessera_core::Error) -> String {
    e.source_error().map_or_else(|| e.to_string(), |s| s.to_string())
}

fn describe(target: &DbTarget) -> String {
    match target {
        DbTarget::SqliteFile(p) => format!("SQLite file {}", p.display()),
        DbTarget::SqliteMemory => "throwaway SQLite".into(),
        DbTarget::Postgres(_) => "PostgreSQL".into(),
    }
}

/// The master key: from the environment, else (SQLite file) from a key file beside the database, created on
/// first use; a throwaway database gets a throwaway key; PostgreSQL without a key is refused.
fn resolve_master_key(target: &DbTarget, given: Option<&str>) -> anyhow::Result<MasterKey> {
    if let Some(text) = given.filter(|t| !t.trim().is_empty()) {
        return MasterKey::parse(text).map_err(|e| anyhow::anyhow!("TESSERA_MASTER_KEY: {e}"));
    }
    match target {
        DbTarget::SqliteMemory => Ok(MasterKey::generate()),
        DbTarget::SqliteFile(path) => key_file(&key_file_path(path)),
        DbTarget::Postgres(_) => bail!(
            "TESSERA_MASTER_KEY is required with PostgreSQL: every node must encrypt and look up secrets with the same \
             key. Generate one with `openssl rand -hex 32` and give it to every node."
        ),
    }
}

fn key_file_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

fn key_file(path: &Path) -> anyhow::Result<MasterKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => MasterKey::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate();
            write_private_file(path, &key.to_hex())
                .with_context(|| format!("writing the key file {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a master key file; keep it with the database");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading the key file {}", path.display())),
    }
}

#[cfg(unix)]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

fn print_keys(created: &instances::CreatedInstance) {
    println!("Created {} instance {}", created.instance.environment.as_str(), created.instance.id);
    println!("  Secret key:      {}", created.secret_key);
    println!("  Publishable key: {}", created.instance.publishable_key);
    let host = created.instance.frontend_host();
    println!("  Frontend API:    https://{host}  (through this server: <server URL>/fapi/{host})");
}

/// `tessera serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (clerk_js_dir, clerk_ui_dir) = args.clerk_js.dirs()?;
    let mut ctx = open(&args.db).await?;
    if let Some(smtp) = args.smtp.config()? {
        tracing::info!(host = %smtp.host, port = smtp.port, "e-mail is delivered over SMTP");
        ctx = ctx.with_sender(tessera_core::sender::Sender::smtp(&smtp)?);
    } else {
        tracing::info!(
            "no SMTP server configured: development instances capture e-mail in the outbox (tessera outbox)"
        );
    }
    if instances::count_instances(&ctx).await.map_err(|e| anyhow::anyhow!("{e}"))? == 0 {
        let created = instances::create_instance(&ctx, Environment::Development, args.secret_key.clone())
            .await
            .map_err(|e| anyhow::anyhow!("creating the first instance: {e}"))?;
        print_keys(&created);
    } else if let Some(key) = &args.secret_key
        && instances::authenticate(&ctx, key).await.is_err()
    {
        tracing::warn!("TESSERA_SECRET_KEY matches no instance of this database; it is used only on first start");
    }
    let shutdown = shutdown_signal()?;
    let state = AppState::new(ctx)
        .with_clerk_dirs(clerk_js_dir, clerk_ui_dir)
        .with_default_api_version(args.default_api_version);
    let state = match args.rate_limits {
        crate::config::RateLimitsArg::Off => state,
        crate::config::RateLimitsArg::Clerk => state.with_rate_limits(tessera_api::rate_limits::RateLimits::clerk()),
    };
    let metrics = match args.metrics_addr {
        Some(addr) => {
            let handle = crate::metrics::install()?;
            let (local, serve) = crate::metrics::listen(addr, handle, state.ctx.clone()).await?;
            println!("Metrics at http://{local}/metrics");
            Some(tokio::spawn(serve))
        }
        None => None,
    };
    // The certificate is read before binding, so that a bad one fails the start rather than the first request.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::server_config(cert, key)?),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let listener = tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("binding {}", args.addr))?;
    let local = listener.local_addr()?;
    println!("Tessera listening on {scheme}://{local}");
    for i in instances::list_instances(&state.ctx).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        let host = i.frontend_host();
        println!("  {} ({}): Frontend API proxy URL {scheme}://{local}/fapi/{host}", i.id, i.environment.as_str());
    }
    for (what, dists) in [("clerk-js", &state.clerk_js), ("@clerk/ui", &state.clerk_ui)] {
        if dists.is_empty() {
            tracing::info!("{what} is not served (no --clerk-js-dir / --clerk-ui-dir)");
        }
        for dist in dists.all() {
            let version = dist.version.as_ref().map_or_else(|| "unknown".to_owned(), ToString::to_string);
            tracing::info!(dir = %dist.dir.display(), %version, "serving {what} at /npm/@clerk/");
        }
    }
    let db = state.ctx.db.clone();
    // Cache invalidations from other nodes (PostgreSQL; returns at once on SQLite). See tessera_core::cache.
    let listener_ctx = state.ctx.clone();
    let invalidations = tokio::spawn(async move {
        let ctx = &listener_ctx;
        tessera_core::store::notify::listen(&ctx.db, |event| ctx.caches.on_listener_event(&event)).await;
    });
    let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
    let worker = if args.webhooks.webhook_worker_disabled {
        None
    } else {
        let w = tessera_api::worker::Worker::new(state.ctx.clone(), worker_config(&args.webhooks));
        let mut stopped = worker_stopped.clone();
        Some(tokio::spawn(w.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        })))
    };
    let billing_clock = {
        let mut stopped = worker_stopped.clone();
        let interval = std::time::Duration::from_millis(args.webhooks.billing_tick_ms.max(10));
        tokio::spawn(tessera_api::billing_clock::run(state.ctx.clone(), interval, async move {
            let _ = stopped.wait_for(|s| *s).await;
        }))
    };
    match tls {
        Some(config) => {
            let https = axum::middleware::from_fn(crate::tls::mark_https);
            let app = tower::Layer::layer(&https, tessera_frontend::app(state));
            let listener = crate::tls::TlsListener::new(listener, config)?;
            axum::serve(listener, app.into_make_service()).with_graceful_shutdown(shutdown).await?;
        }
        None => {
            let app = tessera_frontend::app(state).into_make_service();
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
        }
    }
    let _ = stop_worker.send(true);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), billing_clock).await;
    if let Some(w) = worker {
        // A delivery in flight finishes (bounded by its timeout); an abandoned one is retried when its lease ends.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(20), w).await;
    }
    if let Some(m) = metrics {
        m.abort();
    }
    invalidations.abort();
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn worker_config(args: &WebhookArgs) -> tessera_api::worker::WorkerConfig {
    let mut config = tessera_api::worker::WorkerConfig {
        poll_interval: std::time::Duration::from_millis(args.webhook_poll_ms.max(10)),
        allow_private_targets: args.webhook_allow_private_targets,
        ..Default::default()
    };
    if let Some(schedule) = &args.webhook_retry_schedule {
        config.retry.delays_ms =
            schedule.iter().map(|s| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX / 2)).collect();
    }
    config
}

/// Installs the SIGINT/SIGTERM handlers now and returns a future that resolves on the first signal. Installing them
/// before the listener is bound matters: a signal that arrives between "listening" and the first poll of the server
/// must still shut down gracefully rather than kill the process.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
        Ok(async move {
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
            tracing::info!("shutting down: finishing in-flight requests");
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
}

/// `tessera instance create`.
pub async fn instance_create(db: DatabaseArgs, environment: Environment) -> anyhow::Result<()> {
    let ctx = open(&db).await?;
    let created = instances::create_instance(&ctx, environment, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    print_keys(&created);
    ctx.db.close().await;
    Ok(())
}

/// `tessera instance list`.
pub async fn instance_list(db: DatabaseArgs) -> anyhow::Result<()> {
    let ctx = open(&db).await?;
    for i in instances::list_instances(&ctx).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        println!("{}\t{}\t{}\t{}", i.id, i.environment.as_str(), i.publishable_key, i.frontend_host());
    }
    ctx.db.close().await;
    Ok(())
}

/// `tessera outbox`: the newest messages captured for development instances, newest first.
pub async fn outbox(db: DatabaseArgs, instance: Option<String>, limit: i64) -> anyhow::Result<()> {
    let ctx = open(&db).await?;
    let messages =
        tessera_core::sender::outbox(&ctx, instance.as_deref(), limit).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    for m in messages {
        println!("{}\t{}\t{}\t{}\t{}", m.created_at, m.instance_id, m.channel, m.recipient, m.subject);
        for line in m.body.lines() {
            println!("    {line}");
        }
    }
    ctx.db.close().await;
    Ok(())
}

/// `tessera keys rotate`: a new active signing key for the instance (the only one when none is named).
pub async fn keys_rotate(db: DatabaseArgs, instance: Option<String>) -> anyhow::Result<()> {
    let ctx = open(&db).await?;
    let instance_id = match instance {
        Some(id) => id,
        None => {
            let all = instances::list_instances(&ctx).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            match all.as_slice() {
                [only] => only.id.clone(),
                [] => anyhow::bail!("the database holds no instance"),
                _ => anyhow::bail!("the database holds several instances: name one with --instance"),
            }
        }
    };
    let kid = tessera_core::keyring::rotate(&ctx, &instance_id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{instance_id}\t{kid}");
    ctx.db.close().await;
    Ok(())
}

/// The instance a command acts on: the one named, else the database's only one.
async fn pick_instance(ctx: &Ctx, instance: Option<String>) -> anyhow::Result<String> {
    if let Some(id) = instance {
        return Ok(id);
    }
    let all = instances::list_instances(ctx).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    match all.as_slice() {
        [only] => Ok(only.id.clone()),
        [] => anyhow::bail!("the database holds no instance"),
        _ => anyhow::bail!("the database holds several instances: name one with --instance"),
    }
}

/// `tessera billing …`.
pub async fn billing(db: DatabaseArgs, instance: Option<String>, action: crate::BillingAction) -> anyhow::Result<()> {
    use tessera_core::billing::{self, PayerType, catalog};
    let mut ctx = open(&db).await?;
    let id = pick_instance(&ctx, instance).await?;
    let fail = |e: tessera_core::Error| {
        anyhow::anyhow!("{}", e.items().first().map_or_else(|| e.to_string(), |i| i.long_message.clone()))
    };
    match action {
        crate::BillingAction::Apply { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let parsed = catalog::parse_file(&text).map_err(fail)?;
            catalog::apply(&ctx, &id, &parsed).await.map_err(fail)?;
            println!("applied {} to {id}", file.display());
        }
        crate::BillingAction::Enable { payer_type } => {
            let t = PayerType::parse(&payer_type).context("--payer-type is user or org")?;
            let n = catalog::set_enabled(&ctx, &id, t, true).await.map_err(fail)?;
            println!("billing enabled for {payer_type}s of {id}; {n} given the default plan");
        }
        crate::BillingAction::Disable { payer_type } => {
            let t = PayerType::parse(&payer_type).context("--payer-type is user or org")?;
            catalog::set_enabled(&ctx, &id, t, false).await.map_err(fail)?;
            println!("billing disabled for {payer_type}s of {id}");
        }
        crate::BillingAction::Payments { outcome } => {
            let succeed = match outcome.as_str() {
                "succeed" => true,
                "fail" => false,
                _ => anyhow::bail!("payments is succeed or fail"),
            };
            catalog::set_payments_succeed(&ctx, &id, succeed).await.map_err(fail)?;
            println!("payments of {id} now {outcome}");
        }
        crate::BillingAction::Show => {
            let config = billing::config(&ctx, &id).await.map_err(fail)?;
            println!(
                "users: {}\torganizations: {}\tpayments: {}",
                if config.user_enabled { "enabled" } else { "disabled" },
                if config.org_enabled { "enabled" } else { "disabled" },
                if config.payments_succeed { "succeed" } else { "fail" }
            );
            let cat = billing::catalog(&ctx, &id).await.map_err(fail)?;
            for p in &cat.plans {
                let price = cat.price_of(&p.id);
                let features: Vec<&str> = cat.features_of(&p.id).iter().map(|f| f.slug.as_str()).collect();
                println!(
                    "{}\t{}\t{}\t{}\tfee {}\tannual/month {}\ttrial {}\t{}{}",
                    p.id,
                    p.payer_type,
                    p.slug,
                    p.name,
                    price.map_or(0, |x| x.amount),
                    price.map_or(0, |x| x.annual_monthly_amount),
                    p.free_trial_days.map_or_else(|| "-".to_owned(), |d| format!("{d}d")),
                    features.join(","),
                    if p.is_default { "\t(default)" } else { "" },
                );
            }
            for d in tessera_core::store::billing::discounts(&ctx.db, &id).await? {
                println!("{}\tdiscount\t{}\t{}", d.id, d.slug, d.name);
            }
        }
        crate::BillingAction::Tick { at: None } => {
            let n = billing::clock::run_due(&ctx).await.map_err(fail)?;
            println!("{n} subscription items moved");
        }
        crate::BillingAction::Tick { at: Some(at) } => {
            let when = tessera_core::users::create::parse_rfc3339(&at)
                .context("--at is an RFC 3339 date-time, e.g. 2027-01-31T00:00:00Z")?;
            let all = instances::list_instances(&ctx).await.map_err(fail)?;
            let instance = all.iter().find(|i| i.id == id).context("no such instance")?;
            if instance.environment != Environment::Development {
                bail!("--at moves the billing clock of development instances only");
            }
            if when < ctx.now_ms() {
                bail!("--at must not be in the past: the billing clock only moves forward");
            }
            // The same work the server's clock does, at the later time, for this instance's payers only.
            ctx.clock = Clock::manual(when);
            let n = billing::clock::run_due_in(&ctx, Some(&id)).await.map_err(fail)?;
            println!("{n} subscription items moved at {at}");
        }
    }
    ctx.db.close().await;
    Ok(())
}
