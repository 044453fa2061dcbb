//! What the service hands back: plain, serialisable views of rows, in the vocabulary of the API.

use chrono::{DateTime, Utc};
use entrepot_blob::BlobReader;
use entrepot_identity::secret::Secret;
use entrepot_store::entity::{
    account, org_settings, package_file, package_version, repository, token,
};
use serde::Serialize;

/// A user or an organization.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: i64,
    pub login: String,
    /// `User` or `Organization`, as GitHub's API says.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: Option<String>,
    pub email: Option<String>,
    pub site_admin: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&account::Model> for UserView {
    fn from(row: &account::Model) -> Self {
        Self {
            id: row.id,
            login: row.login.clone(),
            kind: if row.kind == entrepot_store::accounts::KIND_ORG {
                "Organization"
            } else {
                "User"
            },
            name: row.display_name.clone(),
            email: row.email.clone(),
            site_admin: row.site_admin,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    pub login: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub organization: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgSettingsView {
    /// `read`, `write`, `admin` or `none`.
    pub base_permission: String,
    pub inherit_access_by_default: bool,
    pub package_creation_visibilities: Vec<String>,
}

impl From<&org_settings::Model> for OrgSettingsView {
    fn from(row: &org_settings::Model) -> Self {
        Self {
            base_permission: row.base_permission.clone().unwrap_or_else(|| "none".into()),
            inherit_access_by_default: row.inherit_access_by_default,
            package_creation_visibilities: row
                .package_creation_visibilities
                .split(',')
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RepositoryView {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub owner: String,
    pub visibility: String,
    pub private: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RepositoryView {
    pub(crate) fn new(row: &repository::Model, owner: &str) -> Self {
        Self {
            id: row.id,
            name: row.name.clone(),
            full_name: format!("{owner}/{}", row.name),
            owner: owner.to_owned(),
            visibility: row.visibility.clone(),
            private: row.visibility != "public",
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, Serialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// `pat` or `workflow`.
    pub kind: String,
    /// The public prefix and last characters, to recognise the token.
    pub hint: String,
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenView {
    pub(crate) fn from_row(row: &token::Model, owner: Option<String>) -> Self {
        Self {
            id: row.id,
            name: row.name.clone(),
            kind: row.kind.clone(),
            hint: row.hint.clone(),
            scopes: row
                .scopes
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            level: row.level.clone(),
            owner,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub token: Secret,
    pub info: TokenView,
}

impl Serialize for CreatedToken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            token: &'a str,
            #[serde(flatten)]
            info: &'a TokenView,
        }
        Shown {
            token: self.token.expose(),
            info: &self.info,
        }
        .serialize(serializer)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageView {
    pub id: i64,
    pub name: String,
    pub package_type: String,
    pub owner: String,
    pub visibility: String,
    /// `OWNER/REPO` of the linked (granular) or home (repository-scoped) repository.
    pub repository: Option<String>,
    /// The same repository in full, for the GitHub-shaped packages API.
    #[serde(skip)]
    pub repository_detail: Option<RepositoryView>,
    pub inherit_access: bool,
    pub version_count: u64,
    pub downloads: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileView {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub sha512: Option<String>,
    pub content_type: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl FileView {
    pub(crate) fn new(file: &package_file::Model, sha256: String, sha512: Option<String>) -> Self {
        Self {
            name: file.name.clone(),
            size: file.size as u64,
            sha256,
            sha512,
            content_type: file.content_type.clone(),
            created_at: file.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    pub id: i64,
    pub version: String,
    pub metadata: serde_json::Value,
    pub downloads: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl From<&package_version::Model> for VersionView {
    fn from(row: &package_version::Model) -> Self {
        Self {
            id: row.id,
            version: row.version.clone(),
            metadata: row.metadata.clone(),
            downloads: row.downloads,
            created_at: row.created_at,
            updated_at: row.updated_at,
            deleted_at: row.deleted_at,
        }
    }
}

/// A file opened for download: what it is, and its bytes (or the requested range of them).
pub struct OpenedFile {
    pub file: FileView,
    pub reader: BlobReader,
}

impl std::fmt::Debug for OpenedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedFile")
            .field("file", &self.file)
            .field("range", &self.reader.range)
            .finish()
    }
}
