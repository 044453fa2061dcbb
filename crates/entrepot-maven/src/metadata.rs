//! `maven-metadata.xml`: rendered by the server from what it stores, never taken from what a client uploaded.
//!
//! Maven and Gradle read the artifact-level file to list versions (`<latest>`, `<release>`, dynamic versions such as
//! `1.+`) and the SNAPSHOT version-level file to find the newest timestamped build; they also upload their own
//! versions of both after every deploy. Those uploads are parsed (so malformed XML is refused) and otherwise
//! ignored: two clients deploying at once would each upload a file missing the other's version, and a deleted
//! version would linger. Rendering from the rows is correct by construction.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_xml::escape::escape;

use crate::coords::Coordinates;
use crate::snapshot::{self, SnapshotStamp};
use crate::version::{MavenVersion, is_snapshot};
use crate::xml::{self, XmlError};

/// The artifact-level metadata of `coords` listing `versions` (any order; sorted here by Maven's rules).
/// `last_updated` is `yyyyMMddHHmmss` (UTC).
pub fn render_artifact(coords: &Coordinates, versions: &[String], last_updated: &str) -> String {
    let mut sorted: Vec<MavenVersion> = versions.iter().map(|v| MavenVersion::parse(v)).collect();
    sorted.sort();
    sorted.dedup_by(|a, b| a.as_str() == b.as_str());
    let latest = sorted.last().map(MavenVersion::as_str);
    let release = sorted
        .iter()
        .rev()
        .find(|v| !v.is_snapshot())
        .map(MavenVersion::as_str);
    let mut out = header(coords);
    out.push_str("  <versioning>\n");
    if let Some(latest) = latest {
        let _ = writeln!(out, "    <latest>{}</latest>", escape(latest));
    }
    if let Some(release) = release {
        let _ = writeln!(out, "    <release>{}</release>", escape(release));
    }
    out.push_str("    <versions>\n");
    for version in &sorted {
        let _ = writeln!(out, "      <version>{}</version>", escape(version.as_str()));
    }
    out.push_str("    </versions>\n");
    let _ = writeln!(
        out,
        "    <lastUpdated>{}</lastUpdated>",
        escape(last_updated)
    );
    out.push_str("  </versioning>\n</metadata>\n");
    out
}

/// A stored file of a SNAPSHOT version, as the version-level metadata needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    pub classifier: Option<String>,
    pub extension: String,
    /// `None` for a non-timestamped file (`hello-1.0-SNAPSHOT.jar`).
    pub stamp: Option<SnapshotStamp>,
    /// When the server stored it, `yyyyMMddHHmmss`; used for files without a stamp.
    pub stored: String,
}

/// The version-level metadata of the SNAPSHOT `version`: the newest build, and for each classifier and extension
/// the newest file. `None` when `version` is not a SNAPSHOT.
pub fn render_snapshot(
    coords: &Coordinates,
    version: &str,
    files: &[SnapshotFile],
) -> Option<String> {
    if !is_snapshot(version) {
        return None;
    }
    let newest_stamp = files.iter().filter_map(|f| f.stamp.as_ref()).max();
    // (classifier, extension) -> (value, updated), keeping the newest build of each.
    let mut newest: BTreeMap<(Option<&str>, &str), (&SnapshotFile, String, String)> =
        BTreeMap::new();
    for file in files {
        let (value, updated) = match &file.stamp {
            Some(stamp) => (snapshot::timestamped(version, stamp)?, stamp.updated()),
            None => (version.to_owned(), file.stored.clone()),
        };
        let key = (file.classifier.as_deref(), file.extension.as_str());
        let replace = match newest.get(&key) {
            None => true,
            Some((kept, _, kept_updated)) => match (&kept.stamp, &file.stamp) {
                (Some(a), Some(b)) => b > a,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (None, None) => updated > *kept_updated,
            },
        };
        if replace {
            newest.insert(key, (file, value, updated));
        }
    }
    let last_updated = newest
        .values()
        .map(|(_, _, updated)| updated.as_str())
        .max()
        .unwrap_or("")
        .to_owned();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata modelVersion=\"1.1.0\">\n",
    );
    let _ = writeln!(out, "  <groupId>{}</groupId>", escape(&coords.group_id));
    let _ = writeln!(
        out,
        "  <artifactId>{}</artifactId>",
        escape(&coords.artifact_id)
    );
    let _ = writeln!(out, "  <version>{}</version>", escape(version));
    out.push_str("  <versioning>\n");
    match newest_stamp {
        Some(stamp) => {
            let _ = write!(
                out,
                "    <snapshot>\n      <timestamp>{}</timestamp>\n      <buildNumber>{}</buildNumber>\n    </snapshot>\n",
                escape(&stamp.timestamp),
                stamp.build
            );
        }
        None => {
            out.push_str("    <snapshot>\n      <localCopy>true</localCopy>\n    </snapshot>\n")
        }
    }
    let _ = writeln!(
        out,
        "    <lastUpdated>{}</lastUpdated>",
        escape(&last_updated)
    );
    out.push_str("    <snapshotVersions>\n");
    for ((classifier, extension), (_, value, updated)) in &newest {
        out.push_str("      <snapshotVersion>\n");
        if let Some(classifier) = classifier {
            let _ = writeln!(
                out,
                "        <classifier>{}</classifier>",
                escape(*classifier)
            );
        }
        let _ = writeln!(out, "        <extension>{}</extension>", escape(*extension));
        let _ = writeln!(out, "        <value>{}</value>", escape(value));
        let _ = writeln!(out, "        <updated>{}</updated>", escape(updated));
        out.push_str("      </snapshotVersion>\n");
    }
    out.push_str("    </snapshotVersions>\n  </versioning>\n</metadata>\n");
    Some(out)
}

fn header(coords: &Coordinates) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n");
    let _ = writeln!(out, "  <groupId>{}</groupId>", escape(&coords.group_id));
    let _ = writeln!(
        out,
        "  <artifactId>{}</artifactId>",
        escape(&coords.artifact_id)
    );
    out
}

/// What a client-uploaded `maven-metadata.xml` says, for validation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientMetadata {
    pub group_id: Option<String>,
    pub artifact_id: Option<String>,
    pub version: Option<String>,
    pub versions: Vec<String>,
}

/// Why an uploaded metadata file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("the root element is <{0}>, not <metadata>")]
    NotMetadata(String),
    #[error("the metadata is for {found}, but its path says {expected}")]
    WrongCoordinates { found: String, expected: String },
}

/// Parses an uploaded `maven-metadata.xml` and checks that it is about `coords` (and `version`, at version level).
pub fn parse_client(
    bytes: &[u8],
    coords: &Coordinates,
    version: Option<&str>,
) -> Result<ClientMetadata, MetadataError> {
    let root = xml::parse(bytes)?;
    if root.name != "metadata" {
        return Err(MetadataError::NotMetadata(root.name));
    }
    let parsed = ClientMetadata {
        group_id: root.child_text("groupId").map(str::to_owned),
        artifact_id: root.child_text("artifactId").map(str::to_owned),
        version: root.child_text("version").map(str::to_owned),
        versions: root
            .child("versioning")
            .and_then(|v| v.child("versions"))
            .map(|vs| {
                vs.children_named("version")
                    .map(|v| v.text.trim().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let wrong =
        |found: String, expected: String| MetadataError::WrongCoordinates { found, expected };
    if let Some(group) = &parsed.group_id
        && group != &coords.group_id
    {
        return Err(wrong(group.clone(), coords.group_id.clone()));
    }
    if let Some(artifact) = &parsed.artifact_id
        && artifact != &coords.artifact_id
    {
        return Err(wrong(artifact.clone(), coords.artifact_id.clone()));
    }
    if let (Some(found), Some(expected)) = (&parsed.version, version)
        && found != expected
    {
        return Err(wrong(found.clone(), expected.to_owned()));
    }
    Ok(parsed)
}

/// Reads the version list of an artifact-level metadata document (what clients do with it).
pub fn versions_of(bytes: &[u8]) -> Result<Vec<String>, MetadataError> {
    let root = xml::parse(bytes)?;
    if root.name != "metadata" {
        return Err(MetadataError::NotMetadata(root.name));
    }
    Ok(root
        .child("versioning")
        .and_then(|v| v.child("versions"))
        .map(|vs| {
            vs.children_named("version")
                .map(|v| v.text.trim().to_owned())
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coords() -> Coordinates {
        Coordinates::new("com.example", "hello")
    }

    #[test]
    fn artifact_level_sorted_by_maven_rules() {
        let versions: Vec<String> = ["1.10.0", "1.2.0", "1.1.0-SNAPSHOT", "1.9.0", "1.2.0-rc1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let xml = render_artifact(&coords(), &versions, "20261121050659");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n  <groupId>com.example</groupId>\n  \
             <artifactId>hello</artifactId>\n  <versioning>\n    <latest>1.10.0</latest>\n    \
             <release>1.10.0</release>\n    <versions>\n      <version>1.1.0-SNAPSHOT</version>\n      \
             <version>1.2.0-rc1</version>\n      <version>1.2.0</version>\n      <version>1.9.0</version>\n      \
             <version>1.10.0</version>\n    </versions>\n    <lastUpdated>20261121050659</lastUpdated>\n  \
             </versioning>\n</metadata>\n"
        );
        assert_eq!(
            versions_of(xml.as_bytes()).unwrap(),
            ["1.1.0-SNAPSHOT", "1.2.0-rc1", "1.2.0", "1.9.0", "1.10.0"]
        );
    }

    #[test]
    fn latest_may_be_a_snapshot_release_never_is() {
        let versions = vec!["1.0.0".to_string(), "1.1.0-SNAPSHOT".to_string()];
        let xml = render_artifact(&coords(), &versions, "20261121050659");
        assert!(xml.contains("<latest>1.1.0-SNAPSHOT</latest>"));
        assert!(xml.contains("<release>1.0.0</release>"));
        let only_snapshots = render_artifact(&coords(), &["2.0-SNAPSHOT".to_string()], "1");
        assert!(!only_snapshots.contains("<release>"));
        let empty = render_artifact(&coords(), &[], "1");
        assert!(empty.contains("<versions>\n    </versions>"));
        assert!(!empty.contains("<latest>"));
    }

    fn stamped(classifier: Option<&str>, extension: &str, stamp: &str) -> SnapshotFile {
        SnapshotFile {
            classifier: classifier.map(str::to_owned),
            extension: extension.to_owned(),
            stamp: SnapshotStamp::parse(stamp),
            stored: "20261121000000".into(),
        }
    }

    #[test]
    fn version_level_points_at_the_newest_build() {
        let files = vec![
            stamped(None, "pom", "20261121.050659-1"),
            stamped(None, "jar", "20261121.050659-1"),
            stamped(None, "pom", "20261121.050705-2"),
            stamped(None, "jar", "20261121.050705-2"),
            stamped(Some("sources"), "jar", "20261121.050659-1"),
        ];
        let xml = render_snapshot(&coords(), "1.1.0-SNAPSHOT", &files).unwrap();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata modelVersion=\"1.1.0\">\n  \
             <groupId>com.example</groupId>\n  <artifactId>hello</artifactId>\n  <version>1.1.0-SNAPSHOT</version>\n  \
             <versioning>\n    <snapshot>\n      <timestamp>20261121.050705</timestamp>\n      \
             <buildNumber>2</buildNumber>\n    </snapshot>\n    <lastUpdated>20261121050705</lastUpdated>\n    \
             <snapshotVersions>\n      <snapshotVersion>\n        <extension>jar</extension>\n        \
             <value>1.1.0-20261121.050705-2</value>\n        <updated>20261121050705</updated>\n      \
             </snapshotVersion>\n      <snapshotVersion>\n        <extension>pom</extension>\n        \
             <value>1.1.0-20261121.050705-2</value>\n        <updated>20261121050705</updated>\n      \
             </snapshotVersion>\n      <snapshotVersion>\n        <classifier>sources</classifier>\n        \
             <extension>jar</extension>\n        <value>1.1.0-20261121.050659-1</value>\n        \
             <updated>20261121050659</updated>\n      </snapshotVersion>\n    </snapshotVersions>\n  \
             </versioning>\n</metadata>\n"
        );
        assert_eq!(render_snapshot(&coords(), "1.1.0", &files), None);
    }

    #[test]
    fn version_level_without_timestamps() {
        let files = vec![SnapshotFile {
            classifier: None,
            extension: "jar".into(),
            stamp: None,
            stored: "20261121101010".into(),
        }];
        let xml = render_snapshot(&coords(), "1.1.0-SNAPSHOT", &files).unwrap();
        assert!(xml.contains("<localCopy>true</localCopy>"));
        assert!(xml.contains("<value>1.1.0-SNAPSHOT</value>"));
        assert!(xml.contains("<lastUpdated>20261121101010</lastUpdated>"));
    }

    #[test]
    fn client_metadata_is_validated() {
        let good = br#"<?xml version="1.0" encoding="UTF-8"?>
<metadata><groupId>com.example</groupId><artifactId>hello</artifactId>
<versioning><versions><version>1.0.0</version></versions></versioning></metadata>"#;
        let parsed = parse_client(good, &coords(), None).unwrap();
        assert_eq!(parsed.versions, ["1.0.0"]);
        assert!(matches!(
            parse_client(b"<metadata><groupId>x", &coords(), None),
            Err(MetadataError::Xml(_))
        ));
        assert!(matches!(
            parse_client(b"<project/>", &coords(), None),
            Err(MetadataError::NotMetadata(_))
        ));
        assert!(matches!(
            parse_client(
                b"<metadata><artifactId>other</artifactId></metadata>",
                &coords(),
                None
            ),
            Err(MetadataError::WrongCoordinates { .. })
        ));
        assert!(matches!(
            parse_client(
                b"<metadata><version>2.0-SNAPSHOT</version></metadata>",
                &coords(),
                Some("1.0-SNAPSHOT")
            ),
            Err(MetadataError::WrongCoordinates { .. })
        ));
    }

    #[test]
    fn escapes_what_it_renders() {
        let xml = render_artifact(&Coordinates::new("a&b", "c"), &["1<2".to_string()], "1");
        assert!(xml.contains("<groupId>a&amp;b</groupId>"));
        assert!(xml.contains("<version>1&lt;2</version>"));
    }
}
