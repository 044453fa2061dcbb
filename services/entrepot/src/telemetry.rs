//! Logging and tracing setup: `tracing` to stderr (text or JSON), plus OTLP export when configured.
//!
//! Logs go to stderr so that what a command prints on stdout (a token shown once by
//! `admin token create`) stays clean for scripts.
//!
//! The OTLP exporter is a tonic gRPC client and needs a Tokio runtime with a reactor. It gets a
//! small runtime of its own rather than actix's: actix's system runtime is single-threaded, and
//! flushing spans at shutdown blocks the caller until the export finishes, which would deadlock
//! if the export needed that same thread.

use std::io::IsTerminal;

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, TelemetryConfig};

/// Keeps the exporter alive; call [`Telemetry::shutdown`] on exit to flush pending spans.
#[must_use = "dropping the guard without shutdown loses the last spans"]
pub struct Telemetry {
    otlp: Option<Otlp>,
}

struct Otlp {
    provider: SdkTracerProvider,
    runtime: tokio::runtime::Runtime,
}

/// Installs the global subscriber. Call once per process, outside any async runtime.
pub fn init(config: &TelemetryConfig) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_new(&config.log_filter)
        .with_context(|| format!("invalid telemetry.log_filter {:?}", config.log_filter))?;
    let fmt = match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let otlp = match &config.otlp_endpoint {
        Some(endpoint) => Some(otlp(endpoint, &config.service_name)?),
        None => None,
    };
    let otel_layer = otlp
        .as_ref()
        .map(|otlp| tracing_opentelemetry::layer().with_tracer(otlp.provider.tracer("entrepot")));
    tracing_subscriber::registry()
        .with(fmt)
        .with(otel_layer)
        .with(filter)
        .try_init()
        .context("a tracing subscriber is already installed")?;
    if let Some(endpoint) = &config.otlp_endpoint {
        tracing::info!(%endpoint, "exporting traces over OTLP/gRPC");
    }
    Ok(Telemetry { otlp })
}

fn otlp(endpoint: &str, service_name: &str) -> anyhow::Result<Otlp> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("otlp-export")
        .enable_all()
        .build()
        .context("starting the OTLP export runtime")?;
    let provider = runtime.block_on(async {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .with_context(|| format!("invalid telemetry.otlp_endpoint {endpoint:?}"))?;
        let resource = Resource::builder()
            .with_service_name(service_name.to_owned())
            .build();
        anyhow::Ok(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource)
                .build(),
        )
    })?;
    Ok(Otlp { provider, runtime })
}

impl Telemetry {
    /// Flushes and stops the exporter. Call outside any async runtime, after the server stopped.
    pub fn shutdown(self) {
        if let Some(Otlp { provider, runtime }) = self.otlp {
            if let Err(error) = provider.shutdown() {
                // The subscriber is still installed, but its exporter is going away: stderr is
                // the reliable place for this last word.
                eprintln!("entrepot: flushing traces failed: {error}");
            }
            runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        }
    }
}
