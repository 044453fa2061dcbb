//! The `entrepot` binary: parse the command line, load configuration, run the command.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use entrepot::cli::{Cli, Command};
use entrepot::config::{self, Config};
use entrepot::{admin, server, telemetry};

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    let config = match config::load(cli.global.config.as_deref(), &cli.overrides()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("entrepot: configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let telemetry = match telemetry::init(&config.telemetry) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("entrepot: telemetry: {error:#}");
            return ExitCode::from(2);
        }
    };

    // The actix system runs the command; telemetry is flushed after it, outside any runtime.
    let result = actix_web::rt::System::new().block_on(run(cli.into_command(), config, started));
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("entrepot: {error:#}");
            ExitCode::FAILURE
        }
    };
    telemetry.shutdown();
    code
}

async fn run(command: Command, config: Config, started: Instant) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => server::serve(config, started).await,
        Command::Migrate => {
            // Opening the store runs every pending migration.
            std::fs::create_dir_all(&config.data_dir)?;
            entrepot_store::Store::open(&config.database_url())
                .await?
                .close()
                .await?;
            tracing::info!(database = %config.database_backend(), "migrations applied");
            Ok(())
        }
        Command::Admin(command) => admin::run(command, &config).await,
    }
}
