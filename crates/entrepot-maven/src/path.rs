//! Paths of the Maven 2 repository layout below `/maven/`, parsed and checked.
//!
//! `OWNER/REPO/<group path>/<artifact>/<version>/<file>` names a file of a version;
//! `OWNER/REPO/<group path>/<artifact>/maven-metadata.xml` the artifact-level metadata;
//! `OWNER/REPO/<group path>/<artifact>/<version>-SNAPSHOT/maven-metadata.xml` a SNAPSHOT's version-level metadata;
//! any of them with `.md5 .sha1 .sha256 .sha512` appended names that checksum. `REPO` may be `*`: the read-only
//! owner-wide view.
//!
//! The path is taken raw, as the client sent it: segments are limited to the characters Maven coordinates use, so
//! `..`, `.`, empty segments (`//`, a leading `/`), percent-encoded bytes (`%2F`, `%2e`) and backslashes are refused
//! before anything looks them up.

use crate::checksum::ChecksumKind;
use crate::coords::Coordinates;
use crate::snapshot::{self, SnapshotStamp};
use crate::version::is_snapshot;

/// The file name of repository metadata at either level.
pub const METADATA_FILE: &str = "maven-metadata.xml";

/// Which repositories a path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepositorySelector {
    /// One repository of the owner: where packages are deployed and read.
    Named(String),
    /// `*`: every repository of the owner the caller can read (read-only).
    All,
}

/// A parsed request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPath {
    pub owner: String,
    pub repository: RepositorySelector,
    pub target: Target,
    /// Set when the path names the checksum side file of `target`.
    pub checksum: Option<ChecksumKind>,
}

/// What a path names, checksum suffix aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `<group>/<artifact>/maven-metadata.xml`
    ArtifactMetadata(Coordinates),
    /// `<group>/<artifact>/<version>-SNAPSHOT/maven-metadata.xml`
    VersionMetadata {
        coords: Coordinates,
        version: String,
    },
    /// `<group>/<artifact>/<version>/<file>`
    File(ArtifactFile),
}

impl Target {
    pub fn coords(&self) -> &Coordinates {
        match self {
            Self::ArtifactMetadata(coords) => coords,
            Self::VersionMetadata { coords, .. } => coords,
            Self::File(file) => &file.coords,
        }
    }
}

/// A file of a version, with what its name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactFile {
    pub coords: Coordinates,
    /// The version directory: `1.0.0` or `1.1.0-SNAPSHOT`.
    pub version: String,
    /// The file name: `hello-1.1.0-20261121.050659-1-sources.jar`.
    pub name: String,
    pub classifier: Option<String>,
    /// `jar`, `pom`, `module`, `tar.gz`, `jar.asc`, …
    pub extension: String,
    /// For a timestamped SNAPSHOT file, its stamp.
    pub snapshot: Option<SnapshotStamp>,
}

impl ArtifactFile {
    /// Whether the file belongs to a SNAPSHOT version (mutable), as opposed to a release (immutable).
    pub fn is_snapshot(&self) -> bool {
        is_snapshot(&self.version)
    }
}

/// Why a path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A segment that could escape or confuse the layout (`..`, `%2F`, `\`, an empty segment…). 400.
    #[error(
        "invalid path segment {0:?}: only letters, digits and . _ - + ~ are allowed, and no empty, . or .. segments"
    )]
    InvalidSegment(String),
    /// The file name does not belong to the artifact and version directory it is in. 400.
    #[error(
        "the file name {file:?} does not match the artifact {artifact:?} and version directory {version:?}"
    )]
    FileMismatch {
        file: String,
        artifact: String,
        version: String,
    },
    /// Not a path of the layout at all (too short, a directory listing). 404.
    #[error("no such path in a Maven repository")]
    NotInLayout,
}

impl PathError {
    /// 400 for malformed paths, 404 for paths the layout simply does not have.
    pub const fn status(&self) -> u16 {
        match self {
            Self::NotInLayout => 404,
            _ => 400,
        }
    }
}

fn check_segment(segment: &str) -> Result<&str, PathError> {
    let allowed =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'~');
    if segment.is_empty() || segment.starts_with('.') || !segment.bytes().all(allowed) {
        return Err(PathError::InvalidSegment(segment.to_owned()));
    }
    Ok(segment)
}

/// Parses the path below `/maven/` (`OWNER/REPO/…`), as the client sent it.
pub fn parse(path: &str) -> Result<RepoPath, PathError> {
    // A directory listing (Gradle asks for one when metadata is missing) is not something a repository serves.
    if path.ends_with('/') && !path.ends_with("//") && !path.is_empty() {
        let trimmed = &path[..path.len() - 1];
        for segment in trimmed.split('/') {
            check_segment_or_star(segment)?;
        }
        return Err(PathError::NotInLayout);
    }
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() < 2 {
        return Err(PathError::NotInLayout);
    }
    let owner = check_segment(segments[0])?.to_owned();
    let repository = match segments[1] {
        "*" => RepositorySelector::All,
        name => RepositorySelector::Named(check_segment(name)?.to_owned()),
    };
    let rest = &segments[2..];
    for segment in rest {
        check_segment(segment)?;
    }
    let (target, checksum) = parse_layout(rest)?;
    Ok(RepoPath {
        owner,
        repository,
        target,
        checksum,
    })
}

fn check_segment_or_star(segment: &str) -> Result<(), PathError> {
    if segment == "*" {
        Ok(())
    } else {
        check_segment(segment).map(drop)
    }
}

/// Parses `<group path>/<artifact>/…` into what it names.
pub fn parse_layout(segments: &[&str]) -> Result<(Target, Option<ChecksumKind>), PathError> {
    let n = segments.len();
    let Some(last) = segments.last() else {
        return Err(PathError::NotInLayout);
    };
    let (name, checksum) = match ChecksumKind::split_file_name(last) {
        Some((base, kind)) => (base, Some(kind)),
        None => (*last, None),
    };
    let group = |parts: &[&str]| parts.join(".");
    if name == METADATA_FILE {
        if n >= 4 && is_snapshot(segments[n - 2]) {
            let coords = Coordinates::new(group(&segments[..n - 3]), segments[n - 3]);
            return Ok((
                Target::VersionMetadata {
                    coords,
                    version: segments[n - 2].to_owned(),
                },
                checksum,
            ));
        }
        if n >= 3 {
            let coords = Coordinates::new(group(&segments[..n - 2]), segments[n - 2]);
            return Ok((Target::ArtifactMetadata(coords), checksum));
        }
        return Err(PathError::NotInLayout);
    }
    if n < 4 {
        return Err(PathError::NotInLayout);
    }
    let coords = Coordinates::new(group(&segments[..n - 3]), segments[n - 3]);
    let version = segments[n - 2];
    let file = parse_file_name(coords, version, name)?;
    Ok((Target::File(file), checksum))
}

/// Checks that `name` is `<artifact>-<version>[-<classifier>].<extension>` for its directory, where a SNAPSHOT's
/// version may be timestamped.
pub fn parse_file_name(
    coords: Coordinates,
    version: &str,
    name: &str,
) -> Result<ArtifactFile, PathError> {
    let mismatch = || PathError::FileMismatch {
        file: name.to_owned(),
        artifact: coords.artifact_id.clone(),
        version: version.to_owned(),
    };
    let rest = name
        .strip_prefix(coords.artifact_id.as_str())
        .and_then(|rest| rest.strip_prefix('-'))
        .ok_or_else(mismatch)?;
    let (tail, snapshot) = if let Some(tail) = rest.strip_prefix(version) {
        (tail, None)
    } else {
        let base = snapshot::base_version(version).ok_or_else(mismatch)?;
        let after_base = rest
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix('-'))
            .ok_or_else(mismatch)?;
        // `YYYYMMDD.HHMMSS-N` then the classifier or extension.
        let stamp_len = 15
            + 1
            + after_base
                .get(16..)
                .map(|digits| digits.bytes().take_while(u8::is_ascii_digit).count())
                .unwrap_or(0);
        let stamp = after_base
            .get(..stamp_len)
            .and_then(SnapshotStamp::parse)
            .ok_or_else(mismatch)?;
        (&after_base[stamp_len..], Some(stamp))
    };
    let (classifier, extension) = if let Some(extension) = tail.strip_prefix('.') {
        (None, extension)
    } else if let Some(classified) = tail.strip_prefix('-') {
        let (classifier, extension) = classified.split_once('.').ok_or_else(mismatch)?;
        if classifier.is_empty() {
            return Err(mismatch());
        }
        (Some(classifier.to_owned()), extension)
    } else {
        return Err(mismatch());
    };
    let extension_ok = extension.starts_with(|c: char| c.is_ascii_alphabetic())
        && extension
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !extension_ok {
        return Err(mismatch());
    }
    Ok(ArtifactFile {
        version: version.to_owned(),
        name: name.to_owned(),
        classifier,
        extension: extension.to_owned(),
        snapshot,
        coords,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> ArtifactFile {
        match parse(path).unwrap().target {
            Target::File(file) => file,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn release_files() {
        let f = file("acme/web/com/example/hello/1.0.0/hello-1.0.0.jar");
        assert_eq!(f.coords, Coordinates::new("com.example", "hello"));
        assert_eq!(f.version, "1.0.0");
        assert_eq!(f.extension, "jar");
        assert_eq!(f.classifier, None);
        assert_eq!(f.snapshot, None);
        assert!(!f.is_snapshot());
        let f = file("acme/web/com/example/hello/1.0.0/hello-1.0.0-sources.jar");
        assert_eq!(f.classifier.as_deref(), Some("sources"));
        let f = file("acme/web/org/x/lib/2.1/lib-2.1-linux-x86_64.tar.gz");
        assert_eq!(f.classifier.as_deref(), Some("linux-x86_64"));
        assert_eq!(f.extension, "tar.gz");
        let f = file("acme/web/org/x/lib/2.1/lib-2.1.module");
        assert_eq!(f.extension, "module");
        let f = file("acme/web/org/x/lib/2.1/lib-2.1.jar.asc");
        assert_eq!(f.extension, "jar.asc");
    }

    #[test]
    fn snapshot_files() {
        let f = file("acme/web/com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-20261121.050659-1.pom");
        assert!(f.is_snapshot());
        assert_eq!(f.snapshot.as_ref().unwrap().build, 1);
        assert_eq!(f.extension, "pom");
        let f = file(
            "acme/web/com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-20261121.050659-12-javadoc.jar",
        );
        assert_eq!(f.snapshot.as_ref().unwrap().build, 12);
        assert_eq!(f.classifier.as_deref(), Some("javadoc"));
        let f = file("acme/web/com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-SNAPSHOT.jar");
        assert_eq!(f.snapshot, None);
        assert!(f.is_snapshot());
    }

    #[test]
    fn metadata_levels_and_checksums() {
        let p = parse("acme/web/com/example/hello/maven-metadata.xml").unwrap();
        assert_eq!(
            p.target,
            Target::ArtifactMetadata(Coordinates::new("com.example", "hello"))
        );
        assert_eq!(p.checksum, None);
        let p = parse("acme/web/com/example/hello/1.1.0-SNAPSHOT/maven-metadata.xml.sha1").unwrap();
        assert_eq!(
            p.target,
            Target::VersionMetadata {
                coords: Coordinates::new("com.example", "hello"),
                version: "1.1.0-SNAPSHOT".into()
            }
        );
        assert_eq!(p.checksum, Some(ChecksumKind::Sha1));
        let p = parse("acme/web/com/example/hello/1.0.0/hello-1.0.0.jar.sha512").unwrap();
        assert_eq!(p.checksum, Some(ChecksumKind::Sha512));
        assert_eq!(p.repository, RepositorySelector::Named("web".into()));
        let p = parse("acme/*/com/example/hello/maven-metadata.xml").unwrap();
        assert_eq!(p.repository, RepositorySelector::All);
    }

    #[test]
    fn traversal_and_encodings_are_refused() {
        for bad in [
            "acme/web/com/../../etc/passwd/1/passwd-1.jar",
            "acme/web/com/./hello/1.0/hello-1.0.jar",
            "acme/web/com%2F..%2Fhello/hello/1.0/hello-1.0.jar",
            "acme/web/com/example/hello/1.0/hello-1.0.jar%2F",
            "acme/web//etc/passwd/1/passwd-1.jar",
            "/etc/passwd/x/1/x-1.jar",
            "acme/web/com\\..\\x/hello/1.0/hello-1.0.jar",
            "acme/web/com/example/hello/1.0/.hidden",
            "acme/../com/example/hello/1.0/hello-1.0.jar",
            "acme/web/com/ex ample/hello/1.0/hello-1.0.jar",
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.status(), 400, "{bad}: {error:?}");
        }
    }

    #[test]
    fn names_that_contradict_their_directory() {
        for bad in [
            "acme/web/com/example/hello/1.0.0/hello-1.0.1.jar",
            "acme/web/com/example/hello/1.0.0/other-1.0.0.jar",
            "acme/web/com/example/hello/1.0.0/hello-1.0.0",
            "acme/web/com/example/hello/1.0.0/hello-1.0.0-.jar",
            "acme/web/com/example/hello/1.0.0/hello-2.0.0.pom",
            "acme/web/com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-20261121.050659.jar",
            "acme/web/com/example/hello/1.1.0-SNAPSHOT/hello-1.2.0-20261121.050659-1.jar",
            "acme/web/com/example/hello/1.1.0/hello-1.1.0-20261121.050659-1.jar",
        ] {
            let error = parse(bad).unwrap_err();
            assert!(
                matches!(error, PathError::FileMismatch { .. }),
                "{bad}: {error:?}"
            );
            assert_eq!(error.status(), 400);
        }
    }

    #[test]
    fn outside_the_layout() {
        for path in [
            "acme",
            "acme/web",
            "acme/web/hello",
            "acme/web/com/example/glib/",
            "acme/web/maven-metadata.xml",
            "acme/web/hello/1.0/x.jar",
        ] {
            let result = parse(path);
            assert_eq!(
                result.as_ref().map_err(PathError::status),
                Err(404),
                "{path}: {result:?}"
            );
        }
    }
}
