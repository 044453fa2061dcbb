//! The npm publish body (`PUT /@scope%2fname`): parsing, verifying the tarball against its declared checksums, and
//! cleaning the version object before the server stores it.
//!
//! The body is a packument with one new version and its tarball inlined as base64 in `_attachments`. Everything
//! the registry later serves is derived from what this module returns, so it refuses anything inconsistent: a
//! tarball whose bytes, size or package.json disagree with the JSON next to it would be served with the wrong
//! integrity and break every install.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use thiserror::Error;

use crate::name::PackageName;
use crate::split::{AttachmentDataError, SplitBody};
use crate::tags::{DistTags, TagError, validate_tag};
use crate::tarball::{self, TarballError, TarballInfo};

/// Size limits applied before anything is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest tarball accepted, in bytes (compressed).
    pub max_tarball_bytes: u64,
    /// The most a tarball may unpack to; guards against gzip bombs.
    pub max_unpacked_bytes: u64,
}

impl Limits {
    /// Limits for a tarball size, allowing the unpacked content to be 20 times larger (text compresses well;
    /// the public registry's largest packages stay well under that ratio).
    pub fn for_tarball(max_tarball_bytes: u64) -> Self {
        Self {
            max_tarball_bytes,
            max_unpacked_bytes: max_tarball_bytes.saturating_mul(20),
        }
    }
}

/// Whether `npm publish --access` asked for a public or restricted package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    Restricted,
}

/// A verified publish of one version.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    pub name: PackageName,
    /// The canonical version string (also the key of the stored version).
    pub version: String,
    /// The version object to store, without the fields the server owns (see [`clean_version_object`]).
    pub version_object: Value,
    /// The tags the body asks to point at this version (npm sends `latest` unless `--tag` says otherwise).
    pub dist_tags: DistTags,
    /// The tarball's bytes; `None` when they streamed to storage as the body came in ([`StreamedTarball`]).
    pub tarball: Option<Vec<u8>>,
    /// The name the registry serves the tarball under: `name-1.0.0.tgz`.
    pub tarball_filename: String,
    /// `sha512-<base64>` of the tarball, computed here.
    pub integrity: String,
    /// sha1 hex of the tarball, computed here.
    pub shasum: String,
    /// The `repository` of the version object, used to link the package to a repository.
    pub repository_url: Option<String>,
    /// A deprecation message sent with the publish (non-empty `deprecated`).
    pub deprecated: Option<String>,
    pub access: Option<Access>,
    pub readme: Option<String>,
}

/// Why a publish body was refused. [`PublishError::status`] is the HTTP status the registry answers with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PublishError {
    #[error("request body is not a JSON object: {0}")]
    NotJson(String),
    #[error("package name in the body ({body}) does not match the URL ({url})")]
    NameMismatch { url: String, body: String },
    #[error("publish must contain exactly one version, found {0}")]
    VersionCount(usize),
    #[error("publish must contain exactly one tarball in _attachments, found {0}")]
    AttachmentCount(usize),
    #[error("invalid version {0:?}: versions must be valid SemVer (for example 1.0.0)")]
    InvalidVersion(String),
    #[error("version object {field} {found:?} does not match {expected:?}")]
    VersionObjectMismatch {
        field: &'static str,
        expected: String,
        found: String,
    },
    #[error("attachment {0:?} must be named after the package and version ({1})")]
    AttachmentName(String, String),
    #[error("{0}")]
    Malformed(String),
    #[error("attachment data is not valid base64")]
    InvalidBase64,
    #[error("attachment is {actual} bytes but its length says {declared}")]
    LengthMismatch { declared: u64, actual: u64 },
    #[error("tarball is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("dist.integrity {0:?} is not a usable Subresource Integrity value")]
    InvalidIntegrity(String),
    #[error("tarball does not match dist.integrity: the upload is corrupt, publish again")]
    IntegrityMismatch,
    #[error("tarball does not match dist.shasum: the upload is corrupt, publish again")]
    ShasumMismatch,
    #[error("version object has neither dist.integrity nor dist.shasum")]
    MissingChecksum,
    #[error("{0}")]
    Tarball(#[from] TarballError),
    #[error("package.json in the tarball says {field} {found:?} but the publish says {expected:?}")]
    ManifestMismatch {
        field: &'static str,
        expected: String,
        found: String,
    },
    #[error("{0}")]
    Tag(#[from] TagError),
    #[error("dist-tag {tag:?} must point at the published version {version}, not {target:?}")]
    TagTarget {
        tag: String,
        version: String,
        target: String,
    },
}

impl PublishError {
    /// 413 for size limits, 400 for everything else. Whether the version already exists (409) is decided by the
    /// server, which alone knows the stored versions.
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } | Self::Tarball(TarballError::TooLargeUnpacked(_)) => 413,
            _ => 400,
        }
    }
}

/// Fields of a version object the server owns: identity, publisher, checksums and computed flags are set or
/// rendered by the registry, never taken from the client.
const SERVER_OWNED: &[&str] = &[
    "_rev",
    "_attachments",
    "_npmUser",
    "_resolved",
    "_integrity",
    "_from",
    "_shasum",
    "_hasShrinkwrap",
    "hasInstallScript",
    "deprecated",
    "maintainers",
];

/// Parses and verifies a publish body sent to the package URL `url_name`.
pub fn parse_publish(
    url_name: &PackageName,
    body: &[u8],
    limits: Limits,
) -> Result<Publish, PublishError> {
    let doc = parse_body(body)?;
    check_body_name(url_name, &doc)?;
    publish_from_doc(url_name, &doc, limits, None)
}

/// [`parse_publish`] for a body split as it streamed in.
pub fn parse_publish_split(
    url_name: &PackageName,
    split: SplitBody,
    limits: Limits,
) -> Result<Publish, PublishError> {
    let doc = parse_body(&split.skeleton)?;
    check_body_name(url_name, &doc)?;
    let predecoded = split
        .attachments
        .into_iter()
        .next()
        .map(|first| first.map(Decoded::Bytes));
    publish_from_doc(url_name, &doc, limits, predecoded)
}

pub(crate) fn parse_body(body: &[u8]) -> Result<Map<String, Value>, PublishError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(PublishError::NotJson("not an object".into())),
        Err(error) => Err(PublishError::NotJson(error.to_string())),
    }
}

pub(crate) fn check_body_name(
    url_name: &PackageName,
    doc: &Map<String, Value>,
) -> Result<(), PublishError> {
    let body_name = doc.get("name").and_then(Value::as_str).unwrap_or_default();
    if body_name != url_name.full() {
        return Err(PublishError::NameMismatch {
            url: url_name.full(),
            body: body_name.to_owned(),
        });
    }
    Ok(())
}

/// The digests of a tarball an integrity string may name: the four npm's `ssri` knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub sha1: Vec<u8>,
    pub sha256: Vec<u8>,
    pub sha384: Vec<u8>,
    pub sha512: Vec<u8>,
}

/// What was learned from a tarball's bytes while they streamed to storage, in place of the bytes (see
/// [`crate::split::Splitter::streaming`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedTarball {
    pub len: u64,
    pub digests: Digests,
    /// [`tarball::inspect_reader`] of the bytes.
    pub info: Result<TarballInfo, TarballError>,
}

/// An attachment decoded from the body: in memory, or streamed to storage as it was decoded.
#[derive(Debug)]
pub(crate) enum Decoded {
    Bytes(Vec<u8>),
    Streamed(StreamedTarball),
}

impl Decoded {
    fn len(&self) -> u64 {
        match self {
            Self::Bytes(bytes) => bytes.len() as u64,
            Self::Streamed(streamed) => streamed.len,
        }
    }

    /// The digest of `strength` (0 sha1, 1 sha256, 2 sha384, 3 sha512).
    fn digest(&self, strength: usize) -> Vec<u8> {
        match self {
            Self::Bytes(bytes) => bytes_digest(bytes, strength),
            Self::Streamed(streamed) => {
                let digests = &streamed.digests;
                match strength {
                    0 => digests.sha1.clone(),
                    1 => digests.sha256.clone(),
                    2 => digests.sha384.clone(),
                    _ => digests.sha512.clone(),
                }
            }
        }
    }
}

fn bytes_digest(bytes: &[u8], strength: usize) -> Vec<u8> {
    match strength {
        0 => Sha1::digest(bytes).to_vec(),
        1 => Sha256::digest(bytes).to_vec(),
        2 => Sha384::digest(bytes).to_vec(),
        _ => Sha512::digest(bytes).to_vec(),
    }
}

/// The attachment's bytes when the body was split as it streamed in ([`crate::split`]): `None` decodes the
/// `data` of the document itself.
pub(crate) type Predecoded = Option<Result<Decoded, AttachmentDataError>>;

pub(crate) fn publish_from_doc(
    name: &PackageName,
    doc: &Map<String, Value>,
    limits: Limits,
    predecoded: Predecoded,
) -> Result<Publish, PublishError> {
    let versions = object(doc, "versions")?;
    let Some((key, version_object)) = only(versions) else {
        return Err(PublishError::VersionCount(versions.len()));
    };
    let no_attachments = Map::new();
    let attachments = match doc.get("_attachments") {
        Some(Value::Object(attachments)) => attachments,
        _ => &no_attachments,
    };
    let Some((filename, attachment)) = only(attachments) else {
        return Err(PublishError::AttachmentCount(attachments.len()));
    };
    let version = canonical_version(key)?;
    let Value::Object(version_object) = version_object else {
        return Err(PublishError::Malformed(format!(
            "versions[{key:?}] is not an object"
        )));
    };
    for (field, expected) in [("name", name.full()), ("version", version.clone())] {
        let found = version_object
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default();
        if found != expected {
            return Err(PublishError::VersionObjectMismatch {
                field,
                expected,
                found: found.to_owned(),
            });
        }
    }

    let tarball_filename = name.tarball_filename(&version);
    let accepted_names = [
        format!("{}-{version}.tgz", name.full()),
        tarball_filename.clone(),
    ];
    if !accepted_names.contains(filename) {
        return Err(PublishError::AttachmentName(
            filename.clone(),
            tarball_filename,
        ));
    }
    let tarball = match predecoded {
        None => Decoded::Bytes(decode_attachment(attachment, limits)?),
        Some(decoded) => predecoded_attachment(attachment, decoded, limits)?,
    };

    let dist = version_object
        .get("dist")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let integrity = format!("sha512-{}", STANDARD.encode(tarball.digest(3)));
    let shasum = hex::encode(tarball.digest(0));
    let declared_integrity = dist.get("integrity").and_then(Value::as_str);
    let declared_shasum = dist.get("shasum").and_then(Value::as_str);
    if declared_integrity.is_none() && declared_shasum.is_none() {
        return Err(PublishError::MissingChecksum);
    }
    if let Some(declared) = declared_integrity {
        verify_sri_with(declared, |strength| tarball.digest(strength))?;
    }
    if let Some(declared) = declared_shasum
        && !declared.eq_ignore_ascii_case(&shasum)
    {
        return Err(PublishError::ShasumMismatch);
    }

    let (info, tarball) = match tarball {
        Decoded::Bytes(bytes) => (
            tarball::inspect(&bytes, limits.max_unpacked_bytes)?,
            Some(bytes),
        ),
        Decoded::Streamed(streamed) => (streamed.info?, None),
    };
    check_manifest(&info.manifest, name, &version)?;

    let dist_tags = body_dist_tags(doc, &version)?;
    let deprecated = version_object
        .get("deprecated")
        .and_then(Value::as_str)
        .filter(|message| !message.is_empty())
        .map(str::to_owned);
    let readme = version_object
        .get("readme")
        .or_else(|| doc.get("readme"))
        .and_then(Value::as_str)
        .filter(|readme| !readme.is_empty())
        .map(str::to_owned);
    let access = match doc.get("access").and_then(Value::as_str) {
        Some("public") => Some(Access::Public),
        Some("restricted") => Some(Access::Restricted),
        _ => None,
    };
    let repository_url = repository_url(&Value::Object(version_object.clone()));
    let mut cleaned = clean_version_object(version_object.clone(), name, &version);
    let dist = cleaned
        .entry("dist")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(dist) = dist {
        dist.insert("integrity".into(), Value::String(integrity.clone()));
        dist.insert("shasum".into(), Value::String(shasum.clone()));
        dist.insert("fileCount".into(), info.file_count.into());
        dist.insert("unpackedSize".into(), info.unpacked_size.into());
    }
    cleaned.insert("_hasShrinkwrap".into(), Value::Bool(info.has_shrinkwrap));

    Ok(Publish {
        name: name.clone(),
        version,
        version_object: Value::Object(cleaned),
        dist_tags,
        tarball,
        tarball_filename,
        integrity,
        shasum,
        repository_url,
        deprecated,
        access,
        readme,
    })
}

/// The single entry of a map, or `None` when it has zero or several.
fn only(map: &Map<String, Value>) -> Option<(&String, &Value)> {
    let mut entries = map.iter();
    match (entries.next(), entries.next()) {
        (Some(entry), None) => Some(entry),
        _ => None,
    }
}

fn object<'a>(
    doc: &'a Map<String, Value>,
    field: &str,
) -> Result<&'a Map<String, Value>, PublishError> {
    match doc.get(field) {
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(PublishError::Malformed(format!("{field} is not an object"))),
        None => Err(PublishError::Malformed(format!("{field} is missing"))),
    }
}

/// Strict SemVer, in its canonical spelling: the stored key must be the string clients will ask for.
pub(crate) fn canonical_version(raw: &str) -> Result<String, PublishError> {
    match semver::Version::parse(raw) {
        Ok(version) if version.to_string() == raw => Ok(raw.to_owned()),
        _ => Err(PublishError::InvalidVersion(raw.to_owned())),
    }
}

/// Checks the bytes decoded while the body streamed in against the attachment's declared length.
fn predecoded_attachment(
    attachment: &Value,
    decoded: Result<Decoded, AttachmentDataError>,
    limits: Limits,
) -> Result<Decoded, PublishError> {
    let declared = attachment
        .get("length")
        .and_then(Value::as_u64)
        .ok_or_else(|| PublishError::Malformed("attachment has no numeric length".into()))?;
    let too_large = PublishError::TooLarge {
        limit: limits.max_tarball_bytes,
    };
    if declared > limits.max_tarball_bytes {
        return Err(too_large);
    }
    let bytes = match decoded {
        Ok(bytes) => bytes,
        Err(AttachmentDataError::InvalidBase64) => return Err(PublishError::InvalidBase64),
        Err(AttachmentDataError::TooLarge) => return Err(too_large),
    };
    if bytes.len() != declared {
        return Err(PublishError::LengthMismatch {
            declared,
            actual: bytes.len(),
        });
    }
    Ok(bytes)
}

fn decode_attachment(attachment: &Value, limits: Limits) -> Result<Vec<u8>, PublishError> {
    let data = attachment
        .get("data")
        .and_then(Value::as_str)
        .ok_or_else(|| PublishError::Malformed("attachment has no data".into()))?;
    let declared = attachment
        .get("length")
        .and_then(Value::as_u64)
        .ok_or_else(|| PublishError::Malformed("attachment has no numeric length".into()))?;
    let too_large = PublishError::TooLarge {
        limit: limits.max_tarball_bytes,
    };
    // Both the declared and the encoded size are checked before decoding: neither can be trusted alone.
    if declared > limits.max_tarball_bytes {
        return Err(too_large);
    }
    let max_encoded = limits.max_tarball_bytes.div_ceil(3).saturating_mul(4);
    if data.len() as u64 > max_encoded {
        return Err(too_large);
    }
    let bytes = STANDARD
        .decode(data)
        .map_err(|_| PublishError::InvalidBase64)?;
    if bytes.len() as u64 != declared {
        return Err(PublishError::LengthMismatch {
            declared,
            actual: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// `sha512-<base64>`, the integrity npm computes.
pub fn sri_sha512(bytes: &[u8]) -> String {
    format!("sha512-{}", STANDARD.encode(Sha512::digest(bytes)))
}

/// Verifies a Subresource Integrity string against bytes as npm's `ssri` does: among the entries with an algorithm
/// it knows, only the strongest algorithm counts, and one matching entry of it suffices.
pub fn verify_sri(sri: &str, bytes: &[u8]) -> Result<(), PublishError> {
    verify_sri_with(sri, |strength| bytes_digest(bytes, strength))
}

/// [`verify_sri`] given the digest of each strength (0 sha1, 1 sha256, 2 sha384, 3 sha512).
fn verify_sri_with(sri: &str, digest_of: impl Fn(usize) -> Vec<u8>) -> Result<(), PublishError> {
    const STRENGTH: [&str; 4] = ["sha1", "sha256", "sha384", "sha512"];
    let entries: Vec<(usize, &str)> = sri
        .split_ascii_whitespace()
        .filter_map(|entry| {
            let (algorithm, rest) = entry.split_once('-')?;
            let strength = STRENGTH.iter().position(|known| *known == algorithm)?;
            // Options after `?` are ignored, as the SRI spec says.
            Some((strength, rest.split('?').next().unwrap_or_default()))
        })
        .collect();
    let Some(strongest) = entries.iter().map(|(strength, _)| *strength).max() else {
        return Err(PublishError::InvalidIntegrity(sri.to_owned()));
    };
    let digest = digest_of(strongest);
    let matches = entries
        .iter()
        .filter(|(strength, _)| *strength == strongest)
        .any(|(_, encoded)| {
            STANDARD
                .decode(encoded)
                .is_ok_and(|declared| declared == digest)
        });
    if matches {
        Ok(())
    } else {
        Err(PublishError::IntegrityMismatch)
    }
}

fn check_manifest(manifest: &Value, name: &PackageName, version: &str) -> Result<(), PublishError> {
    let found_name = manifest
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if found_name != name.full() {
        return Err(PublishError::ManifestMismatch {
            field: "name",
            expected: name.full(),
            found: found_name.to_owned(),
        });
    }
    // npm cleans the version it sends (`v1.0.0` → `1.0.0`) but packs package.json as written.
    let raw = manifest
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let cleaned = raw.trim().trim_start_matches(['=', 'v']);
    let same = semver::Version::parse(cleaned)
        .ok()
        .zip(semver::Version::parse(version).ok())
        .is_some_and(|(found, expected)| found == expected);
    if !same {
        return Err(PublishError::ManifestMismatch {
            field: "version",
            expected: version.to_owned(),
            found: raw.to_owned(),
        });
    }
    Ok(())
}

fn body_dist_tags(doc: &Map<String, Value>, version: &str) -> Result<DistTags, PublishError> {
    let mut tags = BTreeMap::new();
    let Some(raw) = doc.get("dist-tags") else {
        return Ok(tags);
    };
    let raw = raw
        .as_object()
        .ok_or_else(|| PublishError::Malformed("dist-tags is not an object".into()))?;
    for (tag, target) in raw {
        validate_tag(tag)?;
        let target = target.as_str().unwrap_or_default();
        if target != version {
            return Err(PublishError::TagTarget {
                tag: tag.clone(),
                version: version.to_owned(),
                target: target.to_owned(),
            });
        }
        tags.insert(tag.clone(), target.to_owned());
    }
    Ok(tags)
}

/// The repository URL of a version object: `repository` is either a string or `{type, url, directory}`.
pub fn repository_url(version_object: &Value) -> Option<String> {
    let url = match version_object.get("repository")? {
        Value::String(url) => url,
        Value::Object(repository) => repository.get("url")?.as_str()?,
        _ => return None,
    };
    let url = url.trim();
    (!url.is_empty()).then(|| url.to_owned())
}

/// Removes what the server owns from a version object and sets its identity fields canonically.
pub fn clean_version_object(
    mut object: Map<String, Value>,
    name: &PackageName,
    version: &str,
) -> Map<String, Value> {
    for field in SERVER_OWNED {
        object.remove(*field);
    }
    if let Some(Value::Object(dist)) = object.get_mut("dist") {
        // The tarball URL is rendered from the registry's base URL on every read; signatures and attestations
        // can only come from the registry itself.
        for field in [
            "tarball",
            "signatures",
            "attestations",
            "npm-signature",
            "fileCount",
            "unpackedSize",
        ] {
            dist.remove(field);
        }
    }
    object.insert("_id".into(), Value::String(format!("{name}@{version}")));
    object.insert("name".into(), Value::String(name.full()));
    object.insert("version".into(), Value::String(version.to_owned()));
    object
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! A publish body as npm 11 sends it (shape from the captured traffic), built around a real tarball.

    use super::*;
    use crate::tarball::build;

    pub fn body_for(name: &str, version: &str, tarball: &[u8]) -> Value {
        serde_json::json!({
            "_id": name,
            "name": name,
            "description": "scoped demo",
            "dist-tags": {"latest": version},
            "versions": {
                version: {
                    "name": name,
                    "version": version,
                    "description": "scoped demo",
                    "main": "index.js",
                    "license": "MIT",
                    "repository": {"type": "git", "url": "git+https://pk.example/acme/lib.git"},
                    "scripts": {"test": "true"},
                    "dependencies": {"left-pad": "^1.0.0"},
                    "readme": "# lib",
                    "_id": format!("{name}@{version}"),
                    "_nodeVersion": "20.20.2",
                    "_npmVersion": "11.19.1",
                    "_npmUser": {"name": "mallory"},
                    "dist": {
                        "integrity": sri_sha512(tarball),
                        "shasum": hex::encode(Sha1::digest(tarball)),
                        "tarball": format!("http://127.0.0.1:18674/{name}/-/{name}-{version}.tgz"),
                    },
                }
            },
            "access": null,
            "_attachments": {
                format!("{name}-{version}.tgz"): {
                    "content_type": "application/octet-stream",
                    "data": STANDARD.encode(tarball),
                    "length": tarball.len(),
                }
            },
        })
    }

    pub fn body(name: &str, version: &str) -> Value {
        body_for(name, version, &build::package(name, version))
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use crate::tarball::build;

    const LIMITS: Limits = Limits {
        max_tarball_bytes: 1 << 20,
        max_unpacked_bytes: 1 << 22,
    };

    /// A label, an edit of the npm-shaped body, and a check of the outcome.
    type Case<T> = (&'static str, fn(&mut Value), fn(&T) -> bool);

    fn acme_lib() -> PackageName {
        PackageName::parse("@acme/lib").unwrap()
    }

    fn run(body: &Value) -> Result<Publish, PublishError> {
        parse_publish(&acme_lib(), body.to_string().as_bytes(), LIMITS)
    }

    #[test]
    fn accepts_what_npm_sends() {
        let tarball = build::package("@acme/lib", "1.2.3");
        let publish = run(&body_for("@acme/lib", "1.2.3", &tarball)).unwrap();
        assert_eq!(publish.name, acme_lib());
        assert_eq!(publish.version, "1.2.3");
        assert_eq!(publish.tarball.as_deref(), Some(tarball.as_slice()));
        assert_eq!(publish.tarball_filename, "lib-1.2.3.tgz");
        assert_eq!(publish.integrity, sri_sha512(&tarball));
        assert_eq!(publish.shasum, hex::encode(Sha1::digest(&tarball)));
        assert_eq!(
            publish.dist_tags,
            BTreeMap::from([("latest".into(), "1.2.3".into())])
        );
        assert_eq!(
            publish.repository_url.as_deref(),
            Some("git+https://pk.example/acme/lib.git")
        );
        assert_eq!(publish.readme.as_deref(), Some("# lib"));
        assert_eq!((publish.deprecated, publish.access), (None, None));
        let object = &publish.version_object;
        assert_eq!(object["_id"], "@acme/lib@1.2.3");
        assert_eq!(object["dependencies"]["left-pad"], "^1.0.0");
        assert_eq!(object["_hasShrinkwrap"], false);
        assert_eq!(object["dist"]["fileCount"], 2);
        assert!(
            object.get("_npmUser").is_none(),
            "the server sets the publisher"
        );
        assert!(
            object["dist"].get("tarball").is_none(),
            "rendered per request"
        );
        assert_eq!(object["dist"]["integrity"], publish.integrity.as_str());
    }

    #[test]
    fn accepts_variants() {
        let cases: &[Case<Publish>] = &[
            (
                "bare attachment name",
                |b| rename_attachment(b, "lib-1.0.0.tgz"),
                |p| p.tarball_filename == "lib-1.0.0.tgz",
            ),
            ("shasum only", |b| remove_dist(b, "integrity"), |_| true),
            ("integrity only", |b| remove_dist(b, "shasum"), |_| true),
            ("uppercase shasum", |b| upper_shasum(b), |_| true),
            (
                "several SRI entries",
                |b| prefix_integrity(b, "sha1-AAAA sha512-BBBB "),
                |_| true,
            ),
            (
                "SRI with options",
                |b| suffix_integrity(b, "?foo"),
                |_| true,
            ),
            (
                "access public",
                |b| b["access"] = "public".into(),
                |p| p.access == Some(Access::Public),
            ),
            (
                "access restricted",
                |b| b["access"] = "restricted".into(),
                |p| p.access == Some(Access::Restricted),
            ),
            (
                "no dist-tags",
                |b| drop_field(b, "dist-tags"),
                |p| p.dist_tags.is_empty(),
            ),
            (
                "tag beta",
                |b| b["dist-tags"] = serde_json::json!({"beta": "1.0.0"}),
                |p| p.dist_tags.contains_key("beta"),
            ),
            (
                "deprecated",
                |b| version_mut(b)["deprecated"] = "old".into(),
                |p| p.deprecated.as_deref() == Some("old"),
            ),
            (
                "empty deprecation",
                |b| version_mut(b)["deprecated"] = "".into(),
                |p| p.deprecated.is_none(),
            ),
            (
                "repository string",
                |b| version_mut(b)["repository"] = "acme/lib".into(),
                |p| p.repository_url.as_deref() == Some("acme/lib"),
            ),
            (
                "no repository",
                |b| drop_version_field(b, "repository"),
                |p| p.repository_url.is_none(),
            ),
            (
                "top-level readme",
                |b| {
                    drop_version_field(b, "readme");
                    b["readme"] = "top".into();
                },
                |p| p.readme.as_deref() == Some("top"),
            ),
        ];
        for (label, edit, check) in cases {
            let mut body = body("@acme/lib", "1.0.0");
            edit(&mut body);
            let publish = run(&body).unwrap_or_else(|e| panic!("{label}: {e}"));
            assert!(check(&publish), "{label}");
        }
    }

    #[test]
    fn tarball_layouts() {
        let pj = br#"{"name":"@acme/lib","version":"v1.0.0"}"#;
        let cases: &[(&str, Vec<u8>, Result<bool, PublishError>)] = &[
            (
                "other top dir",
                build::tgz(&[(
                    "lib-abc/package.json",
                    br#"{"name":"@acme/lib","version":"1.0.0"}"#,
                )]),
                Ok(false),
            ),
            (
                "v-prefixed version in package.json",
                build::tgz(&[("package/package.json", pj)]),
                Ok(false),
            ),
            (
                "shrinkwrap",
                build::tgz(&[
                    ("package/package.json", pj),
                    ("package/npm-shrinkwrap.json", b"{}"),
                ]),
                Ok(true),
            ),
            (
                "wrong name inside",
                build::package("@acme/other", "1.0.0"),
                Err(PublishError::ManifestMismatch {
                    field: "name",
                    expected: "@acme/lib".into(),
                    found: "@acme/other".into(),
                }),
            ),
            (
                "wrong version inside",
                build::package("@acme/lib", "1.0.1"),
                Err(PublishError::ManifestMismatch {
                    field: "version",
                    expected: "1.0.0".into(),
                    found: "1.0.1".into(),
                }),
            ),
            (
                "no package.json",
                build::tgz(&[("package/index.js", b"x")]),
                Err(PublishError::Tarball(TarballError::NoManifest)),
            ),
        ];
        for (label, tarball, want) in cases {
            let got = run(&body_for("@acme/lib", "1.0.0", tarball))
                .map(|p| p.version_object["_hasShrinkwrap"] == true);
            assert_eq!(&got, want, "{label}");
        }
    }

    #[test]
    fn refuses_bad_bodies() {
        let cases: &[Case<PublishError>] = &[
            (
                "other name",
                |b| b["name"] = "@acme/other".into(),
                |e| matches!(e, PublishError::NameMismatch { .. }),
            ),
            (
                "no name",
                |b| drop_field(b, "name"),
                |e| matches!(e, PublishError::NameMismatch { .. }),
            ),
            (
                "no versions",
                |b| drop_field(b, "versions"),
                |e| matches!(e, PublishError::Malformed(_)),
            ),
            (
                "versions not object",
                |b| b["versions"] = 1.into(),
                |e| matches!(e, PublishError::Malformed(_)),
            ),
            (
                "zero versions",
                |b| b["versions"] = serde_json::json!({}),
                |e| *e == PublishError::VersionCount(0),
            ),
            (
                "two versions",
                |b| {
                    let v = version_mut(b).clone();
                    b["versions"]["1.0.1"] = v;
                },
                |e| *e == PublishError::VersionCount(2),
            ),
            (
                "no attachments",
                |b| drop_field(b, "_attachments"),
                |e| *e == PublishError::AttachmentCount(0),
            ),
            (
                "empty attachments",
                |b| b["_attachments"] = serde_json::json!({}),
                |e| *e == PublishError::AttachmentCount(0),
            ),
            (
                "two attachments",
                |b| {
                    let a = b["_attachments"]["@acme/lib-1.0.0.tgz"].clone();
                    b["_attachments"]["lib-1.0.0.tgz"] = a;
                },
                |e| *e == PublishError::AttachmentCount(2),
            ),
            (
                "bad semver",
                |b| rekey_version(b, "1.0"),
                |e| matches!(e, PublishError::InvalidVersion(_)),
            ),
            (
                "non-canonical semver",
                |b| rekey_version(b, "v1.0.0"),
                |e| matches!(e, PublishError::InvalidVersion(_)),
            ),
            (
                "object version differs",
                |b| version_mut(b)["version"] = "1.0.1".into(),
                |e| {
                    matches!(
                        e,
                        PublishError::VersionObjectMismatch {
                            field: "version",
                            ..
                        }
                    )
                },
            ),
            (
                "object name differs",
                |b| version_mut(b)["name"] = "@acme/x".into(),
                |e| matches!(e, PublishError::VersionObjectMismatch { field: "name", .. }),
            ),
            (
                "version not object",
                |b| b["versions"]["1.0.0"] = "x".into(),
                |e| matches!(e, PublishError::Malformed(_)),
            ),
            (
                "attachment for another version",
                |b| rename_attachment(b, "@acme/lib-2.0.0.tgz"),
                |e| matches!(e, PublishError::AttachmentName(..)),
            ),
            (
                "bad base64",
                |b| attachment_mut(b)["data"] = "!!!not base64".into(),
                |e| *e == PublishError::InvalidBase64,
            ),
            (
                "no data",
                |b| drop_attachment_field(b, "data"),
                |e| matches!(e, PublishError::Malformed(_)),
            ),
            (
                "no length",
                |b| drop_attachment_field(b, "length"),
                |e| matches!(e, PublishError::Malformed(_)),
            ),
            (
                "string length",
                |b| attachment_mut(b)["length"] = "12".into(),
                |e| matches!(e, PublishError::Malformed(_)),
            ),
            (
                "length too small",
                |b| attachment_mut(b)["length"] = 3.into(),
                |e| matches!(e, PublishError::LengthMismatch { declared: 3, .. }),
            ),
            (
                "declared too large",
                |b| attachment_mut(b)["length"] = (1u64 << 30).into(),
                |e| *e == PublishError::TooLarge { limit: 1 << 20 },
            ),
            (
                "encoded too large",
                |b| attachment_mut(b)["data"] = "A".repeat(1_500_000).into(),
                |e| *e == PublishError::TooLarge { limit: 1 << 20 },
            ),
            (
                "integrity mismatch",
                |b| version_mut(b)["dist"]["integrity"] = sri_sha512(b"other").into(),
                |e| *e == PublishError::IntegrityMismatch,
            ),
            (
                "sha1 SRI mismatch",
                |b| {
                    version_mut(b)["dist"]["integrity"] = "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into()
                },
                |e| *e == PublishError::IntegrityMismatch,
            ),
            (
                "unknown SRI algorithm",
                |b| version_mut(b)["dist"]["integrity"] = "md5-AAAA".into(),
                |e| matches!(e, PublishError::InvalidIntegrity(_)),
            ),
            (
                "shasum mismatch",
                |b| version_mut(b)["dist"]["shasum"] = "00".repeat(20).into(),
                |e| *e == PublishError::ShasumMismatch,
            ),
            (
                "no checksums",
                |b| {
                    remove_dist(b, "integrity");
                    remove_dist(b, "shasum");
                },
                |e| *e == PublishError::MissingChecksum,
            ),
            (
                "tag is a range",
                |b| b["dist-tags"] = serde_json::json!({"v1": "1.0.0"}),
                |e| *e == PublishError::Tag(TagError::IsRange("v1".into())),
            ),
            (
                "tag is a version",
                |b| b["dist-tags"] = serde_json::json!({"1.0.0": "1.0.0"}),
                |e| matches!(e, PublishError::Tag(TagError::IsRange(_))),
            ),
            (
                "tag points elsewhere",
                |b| b["dist-tags"] = serde_json::json!({"latest": "0.9.0"}),
                |e| matches!(e, PublishError::TagTarget { .. }),
            ),
            (
                "dist-tags not object",
                |b| b["dist-tags"] = "latest".into(),
                |e| matches!(e, PublishError::Malformed(_)),
            ),
        ];
        for (label, edit, check) in cases {
            let mut body = body("@acme/lib", "1.0.0");
            edit(&mut body);
            let error = run(&body).unwrap_err();
            assert!(check(&error), "{label}: {error:?}");
            let want_status = if matches!(error, PublishError::TooLarge { .. }) {
                413
            } else {
                400
            };
            assert_eq!(error.status(), want_status, "{label}");
        }
    }

    #[test]
    fn refuses_non_json() {
        let cases: &[&[u8]] = &[b"", b"nope", b"[]", b"\"x\"", b"{"];
        for body in cases {
            let error = parse_publish(&acme_lib(), body, LIMITS).unwrap_err();
            assert!(
                matches!(error, PublishError::NotJson(_)),
                "{body:?}: {error:?}"
            );
        }
    }

    #[test]
    fn gzip_bomb_is_413() {
        let zeros = vec![0u8; 1 << 16];
        let tarball = build::tgz(&[
            (
                "package/package.json",
                br#"{"name":"@acme/lib","version":"1.0.0"}"#,
            ),
            ("package/z", &zeros),
        ]);
        let limits = Limits {
            max_tarball_bytes: 1 << 20,
            max_unpacked_bytes: 1 << 12,
        };
        let body = body_for("@acme/lib", "1.0.0", &tarball);
        let error = parse_publish(&acme_lib(), body.to_string().as_bytes(), limits).unwrap_err();
        assert_eq!(error.status(), 413, "{error:?}");
        assert_eq!(Limits::for_tarball(10).max_unpacked_bytes, 200);
    }

    #[test]
    fn sri() {
        let bytes = b"hello";
        let sha256 = format!("sha256-{}", STANDARD.encode(Sha256::digest(bytes)));
        let sha384 = format!("sha384-{}", STANDARD.encode(Sha384::digest(bytes)));
        let sha512 = sri_sha512(bytes);
        let wrong512 = sri_sha512(b"other");
        let cases: Vec<(String, Result<(), PublishError>)> = vec![
            (sha512.clone(), Ok(())),
            (sha256.clone(), Ok(())),
            (sha384.clone(), Ok(())),
            (format!("{wrong512} {sha512}"), Ok(())),
            (
                format!("{sha256} {wrong512}"),
                Err(PublishError::IntegrityMismatch),
            ),
            (
                format!("{wrong512}\n{sha256}"),
                Err(PublishError::IntegrityMismatch),
            ),
            (format!("md5-xyz {sha384}"), Ok(())),
            ("sha512-!!!".into(), Err(PublishError::IntegrityMismatch)),
            ("".into(), Err(PublishError::InvalidIntegrity("".into()))),
            (
                "garbage".into(),
                Err(PublishError::InvalidIntegrity("garbage".into())),
            ),
        ];
        for (sri, want) in cases {
            assert_eq!(verify_sri(&sri, bytes), want, "{sri}");
        }
    }

    #[test]
    fn repository_forms() {
        let cases = [
            (
                serde_json::json!({"repository": "https://x/y"}),
                Some("https://x/y"),
            ),
            (
                serde_json::json!({"repository": {"type": "git", "url": " git+https://x/y.git "}}),
                Some("git+https://x/y.git"),
            ),
            (serde_json::json!({"repository": {"type": "git"}}), None),
            (serde_json::json!({"repository": ""}), None),
            (serde_json::json!({"repository": 3}), None),
            (serde_json::json!({}), None),
        ];
        for (object, want) in cases {
            assert_eq!(repository_url(&object).as_deref(), want, "{object}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bodies(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = parse_publish(&acme_lib(), &body, LIMITS);
        }

        #[test]
        fn never_panics_on_arbitrary_integrity(sri in ".{0,200}") {
            let _ = verify_sri(&sri, b"bytes");
        }

        #[test]
        fn never_panics_on_edited_fields(field in "[a-z_-]{1,12}", value in ".{0,40}") {
            let mut body = body("@acme/lib", "1.0.0");
            version_mut(&mut body)[field.as_str()] = Value::String(value.clone());
            let _ = run(&body);
            body[field.as_str()] = Value::String(value);
            let _ = run(&body);
        }
    }

    fn version_mut(body: &mut Value) -> &mut Value {
        body["versions"]
            .as_object_mut()
            .unwrap()
            .values_mut()
            .next()
            .unwrap()
    }

    fn attachment_mut(body: &mut Value) -> &mut Value {
        body["_attachments"]
            .as_object_mut()
            .unwrap()
            .values_mut()
            .next()
            .unwrap()
    }

    fn drop_field(body: &mut Value, field: &str) {
        body.as_object_mut().unwrap().remove(field);
    }

    fn drop_version_field(body: &mut Value, field: &str) {
        version_mut(body).as_object_mut().unwrap().remove(field);
    }

    fn drop_attachment_field(body: &mut Value, field: &str) {
        attachment_mut(body).as_object_mut().unwrap().remove(field);
    }

    fn remove_dist(body: &mut Value, field: &str) {
        version_mut(body)["dist"]
            .as_object_mut()
            .unwrap()
            .remove(field);
    }

    fn upper_shasum(body: &mut Value) {
        let upper = version_mut(body)["dist"]["shasum"]
            .as_str()
            .unwrap()
            .to_uppercase();
        version_mut(body)["dist"]["shasum"] = upper.into();
    }

    fn prefix_integrity(body: &mut Value, prefix: &str) {
        let sri = version_mut(body)["dist"]["integrity"]
            .as_str()
            .unwrap()
            .to_owned();
        version_mut(body)["dist"]["integrity"] = format!("{prefix}{sri}").into();
    }

    fn suffix_integrity(body: &mut Value, suffix: &str) {
        let sri = version_mut(body)["dist"]["integrity"]
            .as_str()
            .unwrap()
            .to_owned();
        version_mut(body)["dist"]["integrity"] = format!("{sri}{suffix}").into();
    }

    fn rename_attachment(body: &mut Value, to: &str) {
        let attachments = body["_attachments"].as_object_mut().unwrap();
        let (_, value) = attachments
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v.clone()))
            .unwrap();
        attachments.clear();
        attachments.insert(to.to_owned(), value);
    }

    fn rekey_version(body: &mut Value, to: &str) {
        let versions = body["versions"].as_object_mut().unwrap();
        let value = versions.values().next().unwrap().clone();
        versions.clear();
        versions.insert(to.to_owned(), value);
    }
}
