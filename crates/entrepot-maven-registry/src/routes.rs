//! The registry's one route table: every method × path kind × view it answers, with the operation each performs.
//!
//! Paths of the Maven layout nest to any depth, so the registry has one dispatcher rather than actix patterns: it
//! parses the path ([`entrepot_maven::path`]), classifies it with [`classify`], and finds its row here. A request with
//! no row (a `PUT` on the owner-wide view, a `DELETE`) is answered 405.

use entrepot_maven::path::{RepoPath, RepositorySelector, Target};

/// Which repositories a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `/maven/OWNER/REPO/…`
    Repository,
    /// `/maven/OWNER/*/…`: every repository of OWNER the caller can read.
    Owner,
}

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// `<group>/<artifact>/<version>/<file>`
    File,
    /// A file's `.md5 .sha1 .sha256 .sha512`.
    FileChecksum,
    /// `<group>/<artifact>/maven-metadata.xml`
    ArtifactMetadata,
    /// `<group>/<artifact>/<version>-SNAPSHOT/maven-metadata.xml`
    VersionMetadata,
    /// A metadata file's checksum, at either level.
    MetadataChecksum,
}

/// The operation a route performs, as the permission core knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// `Operation::Read` on the package.
    Read,
    /// `Operation::Write` on the package, or creating it in its repository (`authorize_create`).
    Deploy,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub view: View,
    pub kind: PathKind,
    pub declared: Declared,
}

const fn route(method: &'static str, view: View, kind: PathKind, declared: Declared) -> Route {
    Route {
        method,
        view,
        kind,
        declared,
    }
}

use Declared::{Deploy, Read};
use PathKind::{ArtifactMetadata, File, FileChecksum, MetadataChecksum, VersionMetadata};
use View::{Owner, Repository};

/// Every route of the registry.
pub const ROUTES: &[Route] = &[
    route("GET", Repository, File, Read),
    route("HEAD", Repository, File, Read),
    route("GET", Repository, FileChecksum, Read),
    route("HEAD", Repository, FileChecksum, Read),
    route("GET", Repository, ArtifactMetadata, Read),
    route("HEAD", Repository, ArtifactMetadata, Read),
    route("GET", Repository, VersionMetadata, Read),
    route("HEAD", Repository, VersionMetadata, Read),
    route("GET", Repository, MetadataChecksum, Read),
    route("HEAD", Repository, MetadataChecksum, Read),
    route("PUT", Repository, File, Deploy),
    route("PUT", Repository, FileChecksum, Deploy),
    route("PUT", Repository, ArtifactMetadata, Deploy),
    route("PUT", Repository, VersionMetadata, Deploy),
    route("PUT", Repository, MetadataChecksum, Deploy),
    route("GET", Owner, File, Read),
    route("HEAD", Owner, File, Read),
    route("GET", Owner, FileChecksum, Read),
    route("HEAD", Owner, FileChecksum, Read),
    route("GET", Owner, ArtifactMetadata, Read),
    route("HEAD", Owner, ArtifactMetadata, Read),
    route("GET", Owner, VersionMetadata, Read),
    route("HEAD", Owner, VersionMetadata, Read),
    route("GET", Owner, MetadataChecksum, Read),
    route("HEAD", Owner, MetadataChecksum, Read),
];

/// The view and kind of a parsed path.
pub fn classify(path: &RepoPath) -> (View, PathKind) {
    let view = match path.repository {
        RepositorySelector::Named(_) => View::Repository,
        RepositorySelector::All => View::Owner,
    };
    let kind = match (&path.target, path.checksum.is_some()) {
        (Target::File(_), false) => PathKind::File,
        (Target::File(_), true) => PathKind::FileChecksum,
        (Target::ArtifactMetadata(_), false) => PathKind::ArtifactMetadata,
        (Target::VersionMetadata { .. }, false) => PathKind::VersionMetadata,
        (_, true) => PathKind::MetadataChecksum,
    };
    (view, kind)
}

/// The row for a request, if the registry answers it.
pub fn find(method: &str, view: View, kind: PathKind) -> Option<&'static Route> {
    ROUTES
        .iter()
        .find(|r| r.method == method && r.view == view && r.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_method_view_and_kind() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.view == b.view && a.kind == b.kind),
                    "{a:?} twice"
                );
            }
        }
        // The owner-wide view is read-only.
        assert!(
            ROUTES
                .iter()
                .all(|r| r.view == View::Repository || r.declared == Declared::Read)
        );
        assert!(find("DELETE", View::Repository, PathKind::File).is_none());
        assert!(find("PUT", View::Owner, PathKind::File).is_none());
    }
}
