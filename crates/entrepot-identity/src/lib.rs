//! Token and password formats, hashing and credential extraction.
//!
//! This crate answers three questions without any I/O:
//!
//! - **What does a token look like?** [`token`]: `etp_` (personal access token) or `etw_`
//!   (repository workflow token), 30 base62 characters of randomness, and a 6-character base62
//!   CRC32 checksum of everything before it, as GitHub does with `ghp_`. The checksum lets
//!   [`token::parse`] turn away garbage and typos before anything touches the database, and lets
//!   secret scanners recognise a leaked token.
//! - **How is it stored?** As the sha256 of the whole token ([`token::TokenHash`]), never the
//!   token itself. Tokens carry ~178 bits of entropy, so a fast hash is as safe as a slow one and
//!   costs microseconds: npm, pnpm and NuGet send the token on every read, and a password hash
//!   per request is what made one peer's installs ten times slower. Passwords, which people
//!   choose, get argon2id instead ([`password`]); they are accepted by the web UI and the API
//!   only, never by the registries.
//! - **Where did the client put it?** [`credential::extract`] reads every style the supported
//!   clients use: `Authorization: Bearer`, `Basic` with the token as password, NuGet's
//!   `X-NuGet-ApiKey`, and RubyGems' bare `Authorization: <token>`.
//!
//! **Architecture Invariant:** this crate knows nothing about HTTP frameworks, databases or
//! async runtimes; it takes strings and returns values. Secrets travel as [`secret::Secret`],
//! whose `Debug` and `Display` print a placeholder, so a secret cannot reach a log line or an
//! error body by accident.

pub mod credential;
pub mod password;
pub mod secret;
pub mod token;
