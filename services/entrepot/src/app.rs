//! The application: shared state, the one place routes are mounted, and the operational routes.
//!
//! [`AppState`] holds everything the request handlers share and is cloned into every worker;
//! [`AppState::configure`] is the single place where app data and routes are registered, and
//! [`build_app`] adds the middlewares every route goes through. Tests build the same app with
//! `actix_web::test::init_service(build_app(state))`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpResponse, web};
use entrepot_http::base_url::ConfiguredBaseUrl;
use entrepot_http::error::ErrorChain;
use metrics_exporter_prometheus::PrometheusHandle;

use entrepot_service::Services;

use crate::config::Config;

/// How long `/readyz` waits for the store before answering 503.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// Shared by every request handler; cheap to clone (everything inside is reference-counted).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub base_url: ConfiguredBaseUrl,
    pub metrics: PrometheusHandle,
    pub readiness: Readiness,
    pub services: Services,
}

impl AppState {
    /// Opens everything the server needs from its configuration.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let base_url = match &config.base_url {
            Some(url) => ConfiguredBaseUrl::new(url)
                .map_err(|error| anyhow::anyhow!("invalid base_url {url:?}: {error}"))?,
            None => ConfiguredBaseUrl::from_request_headers(),
        };
        let metrics = entrepot_http::metrics::install_recorder()?;
        std::fs::create_dir_all(&config.data_dir).map_err(|error| {
            anyhow::anyhow!(
                "cannot create the data directory {}: {error}",
                config.data_dir.display()
            )
        })?;
        // Opening the services runs the migrations.
        let services = Services::open(config.service_config()).await?;
        entrepot_container::spawn_janitor(services.clone(), &config.container);
        spawn_purge_worker(services.clone(), &config.lifecycle);
        services.spawn_download_flusher(config.download_flush_interval());
        let readiness = Readiness::new({
            let services = services.clone();
            move || {
                let services = services.clone();
                async move { services.ready().await.map_err(anyhow::Error::from) }
            }
        });
        Ok(Self {
            config: Arc::new(config),
            base_url,
            metrics,
            readiness,
            services,
        })
    }

    /// Registers app data and every route. The operational routes come first so that no
    /// registry's catch-all pattern can shadow them.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(web::Data::new(self.base_url.clone()))
            .app_data(web::Data::new(self.metrics.clone()))
            .app_data(web::Data::new(self.readiness.clone()))
            .service(
                web::resource("/healthz")
                    .route(web::get().to(healthz))
                    .route(web::head().to(healthz)),
            )
            .service(
                web::resource("/readyz")
                    .route(web::get().to(readyz))
                    .route(web::head().to(readyz)),
            )
            .route("/metrics", web::get().to(entrepot_http::metrics::render));
        cfg.app_data(web::Data::new(self.services.clone()))
            .configure(entrepot_api::configure)
            .configure(entrepot_container::configure(
                entrepot_container::ContainerState::new(self.config.container.clone()),
            ));
        // Each registry front-end's scope (/v2, /npm, /nuget, /rubygems, /maven) is mounted here.
        cfg.configure(entrepot_npm_registry::configure(self.config.npm));
        let maven = self.config.maven.clone();
        cfg.configure(|cfg| entrepot_maven_registry::configure(cfg, maven));
    }
}

/// The app with its middlewares: request ids and the request span outermost, then metrics.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .configure(|cfg| state.configure(cfg))
        .wrap(from_fn(audit_refusals))
        .wrap(from_fn(entrepot_http::metrics::middleware))
        .wrap(from_fn(entrepot_http::request_id::middleware))
}

/// Hands every request that used a token and was refused to the audit queue (which never waits: see
/// `entrepot_service::audit`).
async fn audit_refusals(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let services = req.app_data::<web::Data<Services>>().cloned();
    let request_id = req
        .extensions()
        .get::<entrepot_http::request_id::RequestId>()
        .map(ToString::to_string);
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let (response, seen) = entrepot_service::audit::scoped(request_id, next.call(req)).await;
    if let Some(services) = services
        && seen.token_id.is_some()
    {
        let status = match &response {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        if status == 401 || status == 403 || (status >= 400 && seen.denied) {
            let path = entrepot_http::request_id::redact_tokens_in_path(&path);
            services.record_refused_token_use(&seen, &method, &path, status);
        }
    }
    response
}

/// Runs the purge and the blob collector every `purge_interval_secs`, for the life of the process; with several
/// replicas the lease in the database lets one of them work per round.
fn spawn_purge_worker(services: Services, config: &crate::config::LifecycleConfig) {
    if config.purge_interval_secs == 0 {
        return;
    }
    let interval = Duration::from_secs(config.purge_interval_secs);
    let holder = format!(
        "{}-{}",
        std::process::id(),
        services.now().timestamp_nanos_opt().unwrap_or_default()
    );
    tokio::spawn(async move {
        let mut ticker = actix_web::rt::time::interval(interval);
        // The first tick is immediate; let the server come up first.
        ticker.tick().await;
        loop {
            ticker.tick().await;
            // The lease outlives a round that overruns the interval, and expires if this replica dies.
            match services.lifecycle_tick(&holder, interval * 2).await {
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the purge round failed"),
            }
        }
    });
}

type CheckFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>>>>;

/// The check behind `/readyz`, supplied by whoever owns the store.
#[derive(Clone)]
pub struct Readiness(Arc<dyn Fn() -> CheckFuture + Send + Sync>);

impl Readiness {
    /// `check` is called once per `/readyz` request; `Ok` means ready.
    pub fn new<F, Fut>(check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + 'static,
    {
        Self(Arc::new(move || Box::pin(check()) as CheckFuture))
    }

    pub fn always_ready() -> Self {
        Self::new(|| async { Ok(()) })
    }

    pub async fn check(&self) -> anyhow::Result<()> {
        match actix_web::rt::time::timeout(READINESS_TIMEOUT, (self.0)()).await {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!(
                "readiness check timed out after {READINESS_TIMEOUT:?}"
            )),
        }
    }
}

/// 200 while the process serves at all: a liveness probe.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// 200 when the store answers, 503 otherwise: a readiness probe. The reason goes to the log,
/// not the body.
async fn readyz(readiness: web::Data<Readiness>) -> HttpResponse {
    match readiness.check().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(error) => {
            tracing::warn!(error = %ErrorChain(error.as_ref()), "not ready");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("not ready")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test as actix_test;

    /// A state over a fresh data directory; the directory lives as long as the returned guard.
    async fn state(readiness: Readiness) -> (AppState, tempfile::TempDir) {
        let data_dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: data_dir.path().to_path_buf(),
            ..Config::default()
        };
        let mut state = AppState::open(config).await.unwrap();
        state.readiness = readiness;
        (state, data_dir)
    }

    #[actix_web::test]
    async fn healthz_and_readyz() {
        let (state, _dir) = state(Readiness::always_ready()).await;
        let app = actix_test::init_service(build_app(state)).await;
        for (uri, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
            let request = actix_test::TestRequest::get().uri(uri).to_request();
            let response = actix_test::call_service(&app, request).await;
            assert_eq!(response.status(), 200, "{uri}");
            assert!(response.headers().contains_key("x-request-id"));
            assert_eq!(actix_test::read_body(response).await, body.as_bytes());
        }
        let request = actix_test::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri("/healthz")
            .to_request();
        assert_eq!(actix_test::call_service(&app, request).await.status(), 200);
    }

    #[actix_web::test]
    async fn readyz_is_503_with_no_detail_when_the_store_fails() {
        let failing = Readiness::new(|| async {
            Err(anyhow::anyhow!(
                "connection refused to postgres://user:pw@db"
            ))
        });
        let (state, _dir) = state(failing).await;
        let app = actix_test::init_service(build_app(state)).await;
        let request = actix_test::TestRequest::get().uri("/readyz").to_request();
        let response = actix_test::call_service(&app, request).await;
        assert_eq!(response.status(), 503);
        assert_eq!(
            actix_test::read_body(response).await,
            "not ready".as_bytes()
        );
        // Liveness does not depend on the store.
        let request = actix_test::TestRequest::get().uri("/healthz").to_request();
        assert_eq!(actix_test::call_service(&app, request).await.status(), 200);
    }

    #[actix_web::test]
    async fn invalid_base_url_is_refused() {
        let data_dir = tempfile::tempdir().unwrap();
        let config = Config {
            base_url: Some("ftp://nope".to_owned()),
            data_dir: data_dir.path().to_path_buf(),
            ..Config::default()
        };
        let error = AppState::open(config).await.err().unwrap();
        assert!(error.to_string().contains("base_url"), "{error}");
    }
}
