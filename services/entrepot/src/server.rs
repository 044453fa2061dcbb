//! `entrepot serve`: bind, serve until SIGINT/SIGTERM, drain for `shutdown_timeout_secs`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::HttpServer;
use actix_web::dev::{Server, ServerHandle};
use anyhow::Context;

use crate::app::{AppState, build_app};
use crate::config::Config;

/// How often the Prometheus recorder drains histogram samples when nobody scrapes.
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// A bound, running server.
pub struct RunningServer {
    addrs: Vec<SocketAddr>,
    server: Server,
}

impl RunningServer {
    /// The addresses actually bound (the real port when the configuration said port 0).
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops the server from code (tests); signals do the same for the binary.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server stops, then returns once in-flight requests are drained or the
    /// shutdown timeout has passed.
    pub async fn wait(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Binds `config.listen` and starts serving `state` in the background of the current actix
/// system. actix-web handles SIGINT and SIGTERM: it stops accepting, lets in-flight requests
/// finish for `shutdown_timeout_secs`, then stops.
pub fn start(config: &Config, state: AppState) -> anyhow::Result<RunningServer> {
    let metrics = state.metrics.clone();
    let server = HttpServer::new(move || build_app(state.clone()))
        .shutdown_timeout(config.shutdown_timeout_secs)
        .bind(&config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addrs = server.addrs();
    let server = server.run();

    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(METRICS_UPKEEP_INTERVAL);
        loop {
            interval.tick().await;
            metrics.run_upkeep();
        }
    });
    Ok(RunningServer { addrs, server })
}

/// `entrepot serve`: opens the state (and, once wired, the store and its migrations), serves,
/// and logs one line with the address and the startup time since `process_started`.
pub async fn serve(config: Config, process_started: Instant) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let state = AppState::open(config.clone()).await?;
    if state.services.has_no_users().await? {
        tracing::warn!(
            "no users yet: create the first site admin with `entrepot admin user create LOGIN --site-admin --password-stdin` \
             and a token with `entrepot admin token create LOGIN --name cli --scopes read:packages,write:packages,delete:packages,repo` \
             (pass the same --data-dir or --database-url as this server)"
        );
    }
    let services = state.services.clone();
    let running = start(&config, state)?;
    let listen = running
        .addrs()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    tracing::info!(
        %listen,
        startup_ms = process_started.elapsed().as_millis() as u64,
        data_dir = %config.data_dir.display(),
        database = %config.database_backend(),
        base_url = config.base_url.as_deref().unwrap_or("(from request headers)"),
        "entrepot listening"
    );
    running.wait().await.context("server failed")?;
    // Counts kept in memory (the service's `downloads`) would otherwise be lost.
    services
        .flush_downloads()
        .await
        .context("writing the last download counts")?;
    tracing::info!("entrepot stopped");
    Ok(())
}
