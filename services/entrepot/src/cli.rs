//! The command line: `entrepot serve | migrate | admin …` and the flags overriding configuration.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::admin::AdminCommand;
use crate::config::Overrides;

#[derive(Debug, Parser)]
#[command(
    name = "entrepot",
    version,
    about = "A self-hosted multi-registry package server"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Without a command, `serve`: `cargo run` serves on the embedded default at once.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every subcommand takes, before or after its name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (TOML). Default: $ENTREPOT_CONFIG, else ./entrepot.toml if present.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory for the embedded database and blobs [default: ./data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite://… or postgres://…) [default: sqlite in the data directory].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administer accounts, repositories, tokens and packages directly in the database.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    // A help attribute rather than a doc comment: rustdoc would want the URL as a link, clap
    // would print the link syntax.
    #[arg(
        long,
        value_name = "URL",
        help = "External base URL of the server, e.g. https://packages.example.com"
    )]
    pub base_url: Option<String>,
}

impl Cli {
    /// The command to run; `serve` when none was given.
    pub fn into_command(self) -> Command {
        self.command
            .unwrap_or_else(|| Command::Serve(ServeArgs::default()))
    }

    /// The configuration layer these flags form (see `config`).
    pub fn overrides(&self) -> Overrides {
        let (listen, base_url) = match &self.command {
            Some(Command::Serve(serve)) => (serve.listen.clone(), serve.base_url.clone()),
            None | Some(Command::Migrate | Command::Admin(_)) => (None, None),
        };
        Overrides {
            listen,
            base_url,
            data_dir: self.global.data_dir.clone(),
            database_url: self.global.database_url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_command_means_serve() {
        let cli = Cli::try_parse_from(["entrepot", "--data-dir", "/tmp/x"]).unwrap();
        assert_eq!(
            cli.overrides().data_dir.as_deref(),
            Some(std::path::Path::new("/tmp/x"))
        );
        assert!(matches!(cli.into_command(), Command::Serve(_)));
    }

    #[test]
    fn serve_flags_become_overrides() {
        let cli = Cli::try_parse_from([
            "entrepot",
            "serve",
            "--listen",
            "0.0.0.0:80",
            "--data-dir",
            "/srv",
            "--config",
            "e.toml",
            "--base-url",
            "https://p.example",
            "--database-url",
            "postgres://db",
        ])
        .unwrap();
        let overrides = cli.overrides();
        assert_eq!(overrides.listen.as_deref(), Some("0.0.0.0:80"));
        assert_eq!(overrides.data_dir, Some(PathBuf::from("/srv")));
        assert_eq!(overrides.base_url.as_deref(), Some("https://p.example"));
        assert_eq!(overrides.database_url.as_deref(), Some("postgres://db"));
        assert_eq!(cli.global.config, Some(PathBuf::from("e.toml")));
    }

    #[test]
    fn global_flags_work_before_the_subcommand() {
        let cli = Cli::try_parse_from(["entrepot", "--data-dir", "/srv", "migrate"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Migrate)));
        assert_eq!(cli.overrides().data_dir, Some(PathBuf::from("/srv")));
        assert_eq!(cli.overrides().listen, None);
    }
}
