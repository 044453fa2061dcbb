//! Service-level tests; every test body runs on SQLite and on PostgreSQL (see `entrepot_testkit::on_both`).

mod accounts;
mod downloads;
mod lifecycle;
mod maven;
mod npm;
mod publish;
mod read_cache;
mod settings;
mod support;
mod tokens;
