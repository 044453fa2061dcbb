//! sea-orm entities, one per table.

pub mod account;
pub mod actions_access;
pub mod audit_event;
pub mod blob;
pub mod blob_checksum;
pub mod collaborator;
pub mod container_blob_link;
pub mod container_setting;
pub mod container_tag;
pub mod container_upload;
pub mod lifecycle_lease;
pub mod membership;
pub mod npm_package;
pub mod org_settings;
pub mod package;
pub mod package_file;
pub mod package_grant;
pub mod package_version;
pub mod repository;
pub mod team;
pub mod team_member;
pub mod team_repository;
pub mod token;
