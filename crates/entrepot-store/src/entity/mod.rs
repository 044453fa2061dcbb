//! sea-orm entities, one per table of the initial migration.

pub mod account;
pub mod org_settings;
pub mod membership;
pub mod team;
pub mod team_member;
pub mod repository;
pub mod collaborator;
pub mod team_repository;
pub mod blob;
pub mod package;
pub mod package_version;
pub mod package_file;
pub mod package_grant;
pub mod actions_access;
pub mod token;
