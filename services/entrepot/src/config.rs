//! The server's configuration and how its layers are merged.
//!
//! Later layers win:
//!
//! 1. built-in defaults ([`Config::default`]);
//! 2. a TOML file: `--config FILE`, else `$ENTREPOT_CONFIG`, else `./entrepot.toml` when it exists
//!    (a file named explicitly must exist; the implicit one is optional);
//! 3. the plain `DATABASE_URL` variable, as most database tooling sets it;
//! 4. `ENTREPOT_*` variables, nested with `__`: `ENTREPOT_LISTEN`,
//!    `ENTREPOT_POLICY__DELETE_GUARD_DOWNLOADS`, `ENTREPOT_TELEMETRY__LOG_FORMAT`;
//! 5. command-line flags (`--listen`, `--data-dir`, `--base-url`, `--database-url`).
//!
//! Unknown keys in the file are errors, so a typo does not silently leave a default in place.
//! `ENTREPOT_*` variables that name no top-level key (`ENTREPOT_CONFIG`, or a test harness's own
//! variables) are ignored rather than refused.
//!
//! `deploy/entrepot.example.toml` documents every key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use entrepot_authz::policy::Policy;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "ENTREPOT_CONFIG";
/// The file read when neither `--config` nor `ENTREPOT_CONFIG` names one, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "entrepot.toml";
const ENV_PREFIX: &str = "ENTREPOT_";

/// Every top-level key of [`Config`]; `ENTREPOT_*` variables are matched against it.
/// A unit test keeps it in step with the struct.
const TOP_LEVEL_KEYS: &[&str] = &[
    "listen",
    "base_url",
    "data_dir",
    "database_url",
    "blob_dir",
    "blob_direct_io_after_mib",
    "policy",
    "token_cache_ttl_secs",
    "workflow_token_ttl_secs",
    "shutdown_timeout_secs",
    "download_flush_secs",
    "restore_window_days",
    "lifecycle",
    "telemetry",
    "container",
    "npm",
    "maven",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, `HOST:PORT`; port 0 picks a free port.
    pub listen: String,
    /// The external base URL every handed-out URL is built from, e.g.
    /// `https://packages.example.com`. Unset: derived from each request's Host and
    /// X-Forwarded-* headers.
    pub base_url: Option<String>,
    /// Where the embedded database and the blobs live by default.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`. Unset: `sqlite://<data_dir>/entrepot.db?mode=rwc`.
    /// May hold a database password: never log it (see [`Config::database_backend`]).
    pub database_url: Option<String>,
    /// Unset: `<data_dir>/blobs`.
    pub blob_dir: Option<PathBuf>,
    /// A blob being written bypasses the page cache (direct I/O) past this many MiB, which saves the CPU
    /// of copying large layers into a cache they are not read back from soon; 0 never does.
    pub blob_direct_io_after_mib: u64,
    /// The permission core's deployment settings.
    pub policy: Policy,
    /// How long a verified token stays in the in-memory cache; bounds how long a revoked token
    /// keeps working.
    pub token_cache_ttl_secs: u64,
    /// Lifetime of a minted repository workflow token.
    pub workflow_token_ttl_secs: u64,
    /// How long a graceful shutdown waits for in-flight requests.
    pub shutdown_timeout_secs: u64,
    /// How often download counts kept in memory are written to the database.
    pub download_flush_secs: u64,
    /// How long a deleted package or version stays restorable.
    pub restore_window_days: u64,
    /// The purge worker and blob collector (`[lifecycle]`).
    pub lifecycle: LifecycleConfig,
    pub telemetry: TelemetryConfig,
    /// The container registry (`/v2/`, `/token`).
    pub container: entrepot_container::ContainerConfig,
    /// The npm registry (`[npm]`).
    pub npm: entrepot_npm_registry::NpmConfig,
    /// The Maven and Gradle registry (`/maven/`).
    pub maven: entrepot_maven_registry::MavenConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            base_url: None,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            blob_dir: None,
            blob_direct_io_after_mib: 8,
            policy: Policy::default(),
            token_cache_ttl_secs: 30,
            workflow_token_ttl_secs: 3600,
            shutdown_timeout_secs: 30,
            download_flush_secs: 5,
            restore_window_days: 30,
            lifecycle: LifecycleConfig::default(),
            telemetry: TelemetryConfig::default(),
            container: entrepot_container::ContainerConfig::default(),
            npm: entrepot_npm_registry::NpmConfig::default(),
            maven: entrepot_maven_registry::MavenConfig::default(),
        }
    }
}

impl Config {
    /// The database URL in effect: the configured one, else SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("entrepot.db").display()
            ),
        }
    }

    /// The scheme of the database URL (`sqlite`, `postgres`), which is safe to log.
    pub fn database_backend(&self) -> String {
        let url = self.database_url();
        url.split_once(':')
            .map_or("unknown", |(scheme, _)| scheme)
            .to_owned()
    }

    /// The blob directory in effect.
    pub fn blob_dir(&self) -> PathBuf {
        self.blob_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("blobs"))
    }

    pub fn token_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.token_cache_ttl_secs)
    }

    pub fn workflow_token_ttl(&self) -> Duration {
        Duration::from_secs(self.workflow_token_ttl_secs)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    pub fn download_flush_interval(&self) -> Duration {
        Duration::from_secs(self.download_flush_secs.max(1))
    }

    /// What the service layer needs of this configuration.
    pub fn service_config(&self) -> entrepot_service::ServiceConfig {
        let mut service =
            entrepot_service::ServiceConfig::new(self.database_url(), self.blob_dir());
        service.policy = self.policy.clone();
        service.base_url = self.base_url.clone();
        service.token_cache_ttl = self.token_cache_ttl();
        service.workflow_token_ttl = self.workflow_token_ttl();
        service.restore_window =
            Duration::from_secs(self.restore_window_days.saturating_mul(86_400));
        service.blob_grace = Duration::from_secs(self.lifecycle.blob_grace_secs);
        service.direct_io_after = (self.blob_direct_io_after_mib > 0)
            .then_some(self.blob_direct_io_after_mib.saturating_mul(1 << 20));
        service
    }
}

/// The purge worker: what is deleted longer ago than the restore window goes for good, then the blobs nothing
/// references any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// Seconds between two rounds; 0 turns the worker off (`entrepot admin purge` still works).
    pub purge_interval_secs: u64,
    /// How long bytes a writer just stored are spared by the collector even though nothing references them
    /// yet; must exceed the longest time between an upload's last byte and the commit that records it.
    pub blob_grace_secs: u64,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            purge_interval_secs: 3600,
            blob_grace_secs: 3600,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// OTLP/gRPC collector endpoint, e.g. `http://localhost:4317`. Unset: no trace export.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of exported traces.
    pub service_name: String,
    pub log_format: LogFormat,
    /// An `EnvFilter` directive such as `info` or `info,entrepot_service=debug`.
    pub log_filter: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "entrepot".to_owned(),
            log_format: LogFormat::Text,
            log_filter: "info".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// figment's error is large (it carries where each value came from); boxed so that `Result`s
/// stay small.
pub type ConfigError = Box<figment::Error>;

/// Loads the configuration from every layer (see the module documentation).
/// `config_file` is `--config`.
pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
    Ok(figment(config_file, overrides)?.extract()?)
}

/// The merged layers, before extraction; useful to ask where a value came from.
pub fn figment(config_file: Option<&Path>, overrides: &Overrides) -> Result<Figment, ConfigError> {
    let mut figment = Figment::new();
    if let Some(file) = config_file_to_read(config_file)? {
        figment = figment.merge(Toml::file_exact(file));
    }
    let known = |key: &figment::value::UncasedStr| {
        let top = key.as_str().split('.').next().unwrap_or_default();
        TOP_LEVEL_KEYS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(top))
    };
    Ok(figment
        .merge(Env::raw().only(&["DATABASE_URL"]))
        .merge(Env::prefixed(ENV_PREFIX).split("__").filter(known))
        .merge(Serialized::defaults(overrides)))
}

fn config_file_to_read(flag: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    let explicit = flag
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from));
    match explicit {
        Some(path) if path.is_file() => Ok(Some(path)),
        Some(path) => Err(Box::new(figment::Error::from(format!(
            "configuration file {} does not exist",
            path.display()
        )))),
        None => {
            let implicit = PathBuf::from(DEFAULT_CONFIG_FILE);
            Ok(implicit.is_file().then_some(implicit))
        }
    }
}

#[cfg(test)]
// figment's `Jail` closures must return the unboxed `figment::Result`.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use entrepot_authz::model::{PackageType, ScopingModel};
    use figment::Jail;
    use figment::Provider as _;

    /// Every test starts with `jail.clear_env()`, so that a developer's or CI's `DATABASE_URL`
    /// or `ENTREPOT_*` cannot change the outcome.
    fn load_unboxed(file: Option<&Path>, overrides: &Overrides) -> figment::Result<Config> {
        load(file, overrides).map_err(|error| *error)
    }

    fn no_overrides() -> Overrides {
        Overrides::default()
    }

    #[test]
    fn top_level_keys_match_the_struct() {
        // Options are set so that every field serializes; a new optional field needs a value
        // here too.
        let config = Config {
            base_url: Some(String::new()),
            database_url: Some(String::new()),
            blob_dir: Some(PathBuf::new()),
            ..Config::default()
        };
        let data = Figment::from(Serialized::defaults(&config)).data().unwrap();
        let mut keys: Vec<&str> = data
            .values()
            .flat_map(|dict| dict.keys())
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut listed = TOP_LEVEL_KEYS.to_vec();
        listed.sort_unstable();
        assert_eq!(keys, listed, "update TOP_LEVEL_KEYS when Config changes");
    }

    #[test]
    fn defaults() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let config = load_unboxed(None, &no_overrides())?;
            assert_eq!(config, Config::default());
            assert_eq!(config.listen, "127.0.0.1:8080");
            assert_eq!(
                config.database_url(),
                "sqlite://./data/entrepot.db?mode=rwc"
            );
            assert_eq!(config.database_backend(), "sqlite");
            assert_eq!(config.blob_dir(), PathBuf::from("./data/blobs"));
            assert_eq!(config.token_cache_ttl(), Duration::from_secs(30));
            assert_eq!(config.workflow_token_ttl(), Duration::from_secs(3600));
            assert_eq!(config.telemetry.log_format, LogFormat::Text);
            assert_eq!(config.telemetry.log_filter, "info");
            Ok(())
        });
    }

    #[test]
    fn file_then_env_then_flags() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "custom.toml",
                r#"
                listen = "0.0.0.0:9000"
                data_dir = "/srv/file"
                base_url = "https://file.example"
                token_cache_ttl_secs = 5

                [policy]
                delete_guard_downloads = 10
                anonymous_read = ["container", "npm"]

                [policy.scoping]
                npm = "repository"

                [telemetry]
                log_format = "json"
                "#,
            )?;
            let file = PathBuf::from("custom.toml");

            let config = load_unboxed(Some(&file), &no_overrides())?;
            assert_eq!(config.listen, "0.0.0.0:9000");
            assert_eq!(config.data_dir, PathBuf::from("/srv/file"));
            assert_eq!(
                config.database_url(),
                "sqlite:///srv/file/entrepot.db?mode=rwc"
            );
            assert_eq!(config.blob_dir(), PathBuf::from("/srv/file/blobs"));
            assert_eq!(config.token_cache_ttl_secs, 5);
            assert_eq!(config.policy.delete_guard_downloads, 10);
            assert!(config.policy.anonymous_read(PackageType::Npm));
            assert_eq!(
                config.policy.scoping(PackageType::Npm),
                ScopingModel::Repository
            );
            assert_eq!(config.telemetry.log_format, LogFormat::Json);
            assert_eq!(
                config.telemetry.log_filter, "info",
                "untouched nested default"
            );

            jail.set_env("ENTREPOT_LISTEN", "127.0.0.1:9100");
            jail.set_env("ENTREPOT_POLICY__DELETE_GUARD_DOWNLOADS", "20");
            jail.set_env("ENTREPOT_TELEMETRY__LOG_FILTER", "debug");
            let config = load_unboxed(Some(&file), &no_overrides())?;
            assert_eq!(config.listen, "127.0.0.1:9100");
            assert_eq!(config.policy.delete_guard_downloads, 20);
            assert_eq!(config.telemetry.log_filter, "debug");
            assert_eq!(
                config.telemetry.log_format,
                LogFormat::Json,
                "file value kept"
            );
            assert_eq!(config.base_url.as_deref(), Some("https://file.example"));

            let overrides = Overrides {
                listen: Some("127.0.0.1:0".to_owned()),
                data_dir: Some(PathBuf::from("/srv/flag")),
                base_url: Some("https://flag.example".to_owned()),
                database_url: None,
            };
            let config = load_unboxed(Some(&file), &overrides)?;
            assert_eq!(config.listen, "127.0.0.1:0");
            assert_eq!(config.data_dir, PathBuf::from("/srv/flag"));
            assert_eq!(config.base_url.as_deref(), Some("https://flag.example"));
            assert_eq!(
                config.database_url(),
                "sqlite:///srv/flag/entrepot.db?mode=rwc",
                "derived from the winning data_dir"
            );
            assert_eq!(config.policy.delete_guard_downloads, 20, "env kept");
            Ok(())
        });
    }

    #[test]
    fn database_url_layers() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("entrepot.toml", r#"database_url = "sqlite://file.db""#)?;
            assert_eq!(
                load_unboxed(None, &no_overrides())?.database_url(),
                "sqlite://file.db"
            );

            jail.set_env("DATABASE_URL", "postgres://plain/db");
            assert_eq!(
                load_unboxed(None, &no_overrides())?.database_url(),
                "postgres://plain/db"
            );

            jail.set_env("ENTREPOT_DATABASE_URL", "postgres://prefixed/db");
            let config = load_unboxed(None, &no_overrides())?;
            assert_eq!(config.database_url(), "postgres://prefixed/db");
            assert_eq!(config.database_backend(), "postgres");

            let overrides = Overrides {
                database_url: Some("postgres://flag/db".to_owned()),
                ..Overrides::default()
            };
            assert_eq!(
                load_unboxed(None, &overrides)?.database_url(),
                "postgres://flag/db"
            );
            Ok(())
        });
    }

    #[test]
    fn config_file_from_env_and_errors() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("elsewhere.toml", r#"listen = "127.0.0.1:7000""#)?;
            jail.create_file("entrepot.toml", r#"listen = "127.0.0.1:6000""#)?;
            assert_eq!(
                load_unboxed(None, &no_overrides())?.listen,
                "127.0.0.1:6000"
            );

            jail.set_env(CONFIG_ENV, "elsewhere.toml");
            assert_eq!(
                load_unboxed(None, &no_overrides())?.listen,
                "127.0.0.1:7000"
            );

            jail.set_env(CONFIG_ENV, "missing.toml");
            let error = load_unboxed(None, &no_overrides()).unwrap_err();
            assert!(error.to_string().contains("missing.toml"), "{error}");

            let error =
                load_unboxed(Some(Path::new("also-missing.toml")), &no_overrides()).unwrap_err();
            assert!(error.to_string().contains("also-missing.toml"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            // Unrelated ENTREPOT_* variables are ignored...
            jail.set_env("ENTREPOT_TEST_POSTGRES_URL", "postgres://x");
            assert!(load_unboxed(None, &no_overrides()).is_ok());

            // ...but a typo in the file is an error.
            jail.create_file("entrepot.toml", "lisen = \"127.0.0.1:1\"\n")?;
            assert!(load_unboxed(None, &no_overrides()).is_err());
            jail.create_file("entrepot.toml", "[telemetry]\nlog_fromat = \"json\"\n")?;
            assert!(load_unboxed(None, &no_overrides()).is_err());
            jail.create_file("entrepot.toml", "[telemetry]\nlog_format = \"xml\"\n")?;
            assert!(load_unboxed(None, &no_overrides()).is_err());
            Ok(())
        });
    }

    #[test]
    fn the_example_file_is_valid_and_matches_the_defaults() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let example =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/entrepot.example.toml");
            let config = load_unboxed(Some(&example), &no_overrides())?;
            assert_eq!(config, Config::default());
            Ok(())
        });
    }
}
