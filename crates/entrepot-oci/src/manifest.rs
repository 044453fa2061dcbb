//! Validation of a pushed manifest and what it references.
//!
//! The registry stores manifests byte for byte (the digest is over the exact bytes), so this
//! module never re-serialises a manifest: it reads the fields the registry must act on and checks
//! the rules of image-spec `manifest.md`, `image-index.md` and `descriptor.md`:
//!
//! - `schemaVersion` is 2; every descriptor has a media type, a valid digest and a size >= 0;
//! - the `Content-Type` of the PUT and the body's `mediaType`, when both are present, agree;
//! - an image has `config` and `layers`; an index has `manifests`.
//!
//! The result says what must already exist: blobs for an image (`MANIFEST_BLOB_UNKNOWN`), child
//! manifests for an index. The `subject` need not exist (distribution-spec 1.1 allows pushing a
//! referrer before its subject). Fields we do not act on are ignored, as the spec asks of
//! implementations, so future additions do not break pushes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::media::{self, ManifestKind};
use crate::reference::DigestRef;

/// Largest manifest accepted; the spec asks registries to take at least 4 MiB.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// The annotation / label that links a package to its source repository.
pub const SOURCE_ANNOTATION: &str = "org.opencontainers.image.source";

/// Why a manifest was refused: `MANIFEST_INVALID` (or `SIZE_INVALID` when too large).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("manifest is not valid JSON of the expected shape: {0}")]
    Json(String),
    #[error("unsupported manifest media type {0:?}")]
    UnsupportedMediaType(String),
    #[error(
        "cannot tell the manifest media type: no Content-Type, mediaType or recognisable shape"
    )]
    UnknownMediaType,
    #[error("Content-Type {content_type:?} does not match the manifest's mediaType {body:?}")]
    MediaTypeMismatch { content_type: String, body: String },
    #[error("schemaVersion must be 2")]
    SchemaVersion,
    #[error("{0} is required")]
    MissingField(&'static str),
    /// Both image and index fields: such a document could be read as either (CVE-2021-41190).
    #[error("ambiguous manifest: an {kind} must not contain {field}")]
    Ambiguous {
        kind: &'static str,
        field: &'static str,
    },
    #[error("{field}: {problem}")]
    Descriptor { field: String, problem: String },
}

/// A validated content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: DigestRef,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
}

/// The platform of an index entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// What the registry needs to know about a pushed manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedManifest {
    /// The manifest's media type: what `GET` answers as `Content-Type`.
    pub media_type: &'static str,
    pub kind: ManifestKind,
    /// The image config (images only).
    pub config: Option<Descriptor>,
    /// The image layers (images only), in order.
    pub layers: Vec<Descriptor>,
    /// The child manifests (indexes only), in order.
    pub manifests: Vec<Descriptor>,
    pub subject: Option<Descriptor>,
    /// The artifact type the referrers API reports: `artifactType`, else (images only) the
    /// config's media type.
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

impl ParsedManifest {
    /// The blobs that must exist in the repository before the manifest is accepted: the config
    /// and every layer except foreign layers (those with `urls`), which live elsewhere.
    pub fn required_blobs(&self) -> impl Iterator<Item = &Descriptor> {
        self.config
            .iter()
            .chain(self.layers.iter().filter(|d| d.urls.is_empty()))
    }

    /// `org.opencontainers.image.source` from the manifest's annotations, if set.
    pub fn source(&self) -> Option<&str> {
        source_annotation(&self.annotations)
    }
}

fn source_annotation(map: &BTreeMap<String, String>) -> Option<&str> {
    map.get(SOURCE_ANNOTATION)
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// `org.opencontainers.image.source` from an image config blob's `config.Labels`, the place
/// `docker build --label` and `LABEL` put it.
pub fn source_from_config(config_json: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Image {
        config: Option<Inner>,
    }
    #[derive(Deserialize)]
    struct Inner {
        #[serde(rename = "Labels")]
        labels: Option<BTreeMap<String, Value>>,
    }
    let image: Image = serde_json::from_slice(config_json).ok()?;
    let value = image.config?.labels?.remove(SOURCE_ANNOTATION)?;
    value
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<i64>,
    media_type: Option<String>,
    artifact_type: Option<String>,
    config: Option<RawDescriptor>,
    layers: Option<Vec<RawDescriptor>>,
    manifests: Option<Vec<RawDescriptor>>,
    subject: Option<RawDescriptor>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: Option<String>,
    digest: Option<String>,
    size: Option<i64>,
    artifact_type: Option<String>,
    annotations: Option<BTreeMap<String, String>>,
    platform: Option<Platform>,
    urls: Option<Vec<String>>,
}

fn descriptor(raw: RawDescriptor, field: &str) -> Result<Descriptor, ManifestError> {
    let problem = |problem: String| ManifestError::Descriptor {
        field: field.to_owned(),
        problem,
    };
    let media_type = raw.media_type.unwrap_or_default();
    if !is_media_type(&media_type) {
        return Err(problem(format!("invalid mediaType {media_type:?}")));
    }
    let digest = raw
        .digest
        .ok_or_else(|| problem("digest is required".into()))?;
    let digest = DigestRef::parse(&digest).map_err(|e| problem(e.to_string()))?;
    let size = raw.size.ok_or_else(|| problem("size is required".into()))?;
    let size = u64::try_from(size).map_err(|_| problem(format!("negative size {size}")))?;
    if let Some(t) = &raw.artifact_type
        && !is_media_type(t)
    {
        return Err(problem(format!("invalid artifactType {t:?}")));
    }
    Ok(Descriptor {
        media_type,
        digest,
        size,
        artifact_type: raw.artifact_type,
        annotations: raw.annotations.unwrap_or_default(),
        platform: raw.platform,
        urls: raw.urls.unwrap_or_default(),
    })
}

/// RFC 6838's shape, loosely: `type/subtype` of printable ASCII without spaces.
fn is_media_type(s: &str) -> bool {
    let essence = media::essence(s);
    essence.split_once('/').is_some_and(|(t, st)| {
        !t.is_empty()
            && !st.is_empty()
            && !st.contains('/')
            && essence.bytes().all(|b| b.is_ascii_graphic())
    })
}

/// The canonical constant for a manifest media type, so `ParsedManifest` never carries the
/// client's spelling (case, parameters).
fn canonical(media_type: &str) -> Option<&'static str> {
    let essence = media::essence(media_type);
    media::MANIFEST_TYPES
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(essence))
}

/// Parses and validates a manifest PUT body.
///
/// `content_type` is the request's `Content-Type`. When absent (or a generic JSON type, which
/// some tools send), the body's `mediaType` decides, and failing that the shape: `manifests`
/// means an OCI index, `config` an OCI image manifest.
pub fn parse_manifest(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<ParsedManifest, ManifestError> {
    if body.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge {
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let raw: RawManifest =
        serde_json::from_slice(body).map_err(|e| ManifestError::Json(e.to_string()))?;

    let declared = content_type
        .map(media::essence)
        .filter(|ct| !ct.is_empty() && !ct.eq_ignore_ascii_case("application/json"));
    let body_type = raw.media_type.as_deref();
    let media_type = match (declared, body_type) {
        (Some(ct), _) => {
            canonical(ct).ok_or_else(|| ManifestError::UnsupportedMediaType(ct.to_owned()))?
        }
        (None, Some(bt)) => {
            canonical(bt).ok_or_else(|| ManifestError::UnsupportedMediaType(bt.to_owned()))?
        }
        (None, None) if raw.manifests.is_some() => media::OCI_INDEX,
        (None, None) if raw.config.is_some() => media::OCI_MANIFEST,
        (None, None) => return Err(ManifestError::UnknownMediaType),
    };
    if let Some(bt) = body_type
        && canonical(bt) != Some(media_type)
    {
        return Err(ManifestError::MediaTypeMismatch {
            content_type: media_type.to_owned(),
            body: bt.to_owned(),
        });
    }
    let is_docker =
        media_type == media::DOCKER_MANIFEST || media_type == media::DOCKER_MANIFEST_LIST;
    if is_docker && body_type.is_none() {
        // Docker schema 2 has no other way to tell a v2 manifest from schema 1.
        return Err(ManifestError::MissingField("mediaType"));
    }
    if raw.schema_version != Some(2) {
        return Err(ManifestError::SchemaVersion);
    }
    if let Some(t) = &raw.artifact_type
        && !is_media_type(t)
    {
        return Err(ManifestError::Descriptor {
            field: "artifactType".into(),
            problem: format!("invalid media type {t:?}"),
        });
    }
    // Docker's formats have no `subject`; ignoring a stray one keeps the referrers API OCI-only.
    let subject = match raw.subject {
        Some(s) if !is_docker => Some(descriptor(s, "subject")?),
        _ => None,
    };
    let annotations = raw.annotations.unwrap_or_default();
    let kind = media::manifest_kind(media_type).unwrap_or(ManifestKind::Image);

    match kind {
        ManifestKind::Image if raw.manifests.is_some() => Err(ManifestError::Ambiguous {
            kind: "image manifest",
            field: "manifests",
        }),
        ManifestKind::Index if raw.config.is_some() => Err(ManifestError::Ambiguous {
            kind: "index",
            field: "config",
        }),
        ManifestKind::Index if raw.layers.is_some() => Err(ManifestError::Ambiguous {
            kind: "index",
            field: "layers",
        }),
        ManifestKind::Image => {
            let config = descriptor(
                raw.config.ok_or(ManifestError::MissingField("config"))?,
                "config",
            )?;
            let layers = raw
                .layers
                .ok_or(ManifestError::MissingField("layers"))?
                .into_iter()
                .enumerate()
                .map(|(i, d)| descriptor(d, &format!("layers[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            let artifact_type = if is_docker {
                None
            } else {
                raw.artifact_type
                    .or_else(|| Some(config.media_type.clone()))
            };
            Ok(ParsedManifest {
                media_type,
                kind,
                config: Some(config),
                layers,
                manifests: Vec::new(),
                subject,
                artifact_type,
                annotations,
            })
        }
        ManifestKind::Index => {
            let manifests = raw
                .manifests
                .ok_or(ManifestError::MissingField("manifests"))?
                .into_iter()
                .enumerate()
                .map(|(i, d)| descriptor(d, &format!("manifests[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ParsedManifest {
                media_type,
                kind,
                config: None,
                layers: Vec::new(),
                manifests,
                subject,
                artifact_type: if is_docker { None } else { raw.artifact_type },
                annotations,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:d78351170db3c6d41bac84c8ad2b9796d5896d2fa113c7cd2d583fc0bc2a8735";
    const B: &str = "sha256:225b6fb3339cc40bf76831bd5eeb1a1e4f284c00f96a3d0b4ae0c6d9a1b0507f";
    const C: &str = "sha256:e768c78379eb9ba0354e63fa6ade8185eb7c4dff0be601a8b10ce1005937639a";
    const E: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    /// The shape skopeo pushes for `make-oci-layout.py` images.
    fn oci_image() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{A}","size":231}},
            "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{B}","size":290}}],
            "annotations":{{"org.opencontainers.image.source":"https://example.test/acme/app"}}}}"#
        )
    }

    /// An oras-style artifact that refers to an image: empty config, `artifactType`, `subject`.
    fn oci_artifact() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "artifactType":"application/vnd.example.sbom.v1+json",
            "config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{E}","size":2,"data":"e30="}},
            "layers":[{{"mediaType":"application/spdx+json","digest":"{B}","size":290,
                "annotations":{{"org.opencontainers.image.title":"sbom.json"}}}}],
            "subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{C}","size":467}},
            "annotations":{{"org.opencontainers.image.created":"2026-11-21T00:00:00Z"}}}}"#
        )
    }

    fn oci_index() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
            "manifests":[
              {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{A}","size":467,
                "platform":{{"architecture":"amd64","os":"linux"}}}},
              {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{B}","size":467,
                "platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}}],
            "annotations":{{"org.opencontainers.image.source":"https://example.test/acme/multi"}}}}"#
        )
    }

    /// What `skopeo copy --format v2s2` pushes.
    fn docker_manifest() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
            "config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":1470,"digest":"{A}"}},
            "layers":[
              {{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":290,"digest":"{B}"}},
              {{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","size":9,"digest":"{C}",
                "urls":["https://example.test/layer"]}}]}}"#
        )
    }

    fn docker_list() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
            "manifests":[{{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"{C}",
              "platform":{{"architecture":"arm","os":"linux","variant":"v7","os.features":["sse4"]}}}}]}}"#
        )
    }

    fn digests<'a>(ds: impl Iterator<Item = &'a Descriptor>) -> Vec<&'a str> {
        ds.map(|d| d.digest.as_str()).collect()
    }

    #[test]
    fn oci_image_manifest() {
        let m = parse_manifest(Some(media::OCI_MANIFEST), oci_image().as_bytes()).unwrap();
        assert_eq!(m.media_type, media::OCI_MANIFEST);
        assert_eq!(m.kind, ManifestKind::Image);
        assert_eq!(digests(m.required_blobs()), [A, B]);
        assert!(m.manifests.is_empty());
        assert_eq!(m.subject, None);
        assert_eq!(m.artifact_type.as_deref(), Some(media::OCI_CONFIG));
        assert_eq!(m.source(), Some("https://example.test/acme/app"));
    }

    #[test]
    fn oci_artifact_with_subject() {
        let m = parse_manifest(Some(media::OCI_MANIFEST), oci_artifact().as_bytes()).unwrap();
        assert_eq!(
            m.artifact_type.as_deref(),
            Some("application/vnd.example.sbom.v1+json")
        );
        assert_eq!(m.subject.as_ref().map(|s| s.digest.as_str()), Some(C));
        assert_eq!(
            m.config.as_ref().map(|c| c.media_type.as_str()),
            Some(media::OCI_EMPTY)
        );
        assert_eq!(
            m.layers[0].annotations["org.opencontainers.image.title"],
            "sbom.json"
        );
        assert_eq!(m.source(), None);
    }

    #[test]
    fn oci_image_index() {
        let m = parse_manifest(Some(media::OCI_INDEX), oci_index().as_bytes()).unwrap();
        assert_eq!(m.kind, ManifestKind::Index);
        assert_eq!(digests(m.manifests.iter()), [A, B]);
        assert_eq!(m.required_blobs().count(), 0);
        assert_eq!(
            m.manifests[1]
                .platform
                .as_ref()
                .and_then(|p| p.variant.as_deref()),
            Some("v8")
        );
        assert_eq!(m.artifact_type, None);
        assert_eq!(m.source(), Some("https://example.test/acme/multi"));
    }

    #[test]
    fn docker_schema2() {
        let m = parse_manifest(Some(media::DOCKER_MANIFEST), docker_manifest().as_bytes()).unwrap();
        assert_eq!(m.media_type, media::DOCKER_MANIFEST);
        assert_eq!(m.layers.len(), 2);
        assert_eq!(
            digests(m.required_blobs()),
            [A, B],
            "foreign layer is not required"
        );
        assert_eq!(m.artifact_type, None);

        let l =
            parse_manifest(Some(media::DOCKER_MANIFEST_LIST), docker_list().as_bytes()).unwrap();
        assert_eq!(l.kind, ManifestKind::Index);
        assert_eq!(
            l.manifests[0]
                .platform
                .as_ref()
                .map(|p| p.os_features.clone()),
            Some(vec!["sse4".to_owned()])
        );
    }

    #[test]
    fn media_type_resolution() {
        let bare_image = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{}","digest":"{A}","size":1}},"layers":[]}}"#,
            media::OCI_CONFIG
        );
        let bare_index = r#"{"schemaVersion":2,"manifests":[]}"#;
        let cases: Vec<(Option<&str>, String, &str)> = vec![
            (None, oci_image(), media::OCI_MANIFEST),
            (None, docker_list(), media::DOCKER_MANIFEST_LIST),
            (Some("application/json"), oci_index(), media::OCI_INDEX),
            (Some(""), docker_manifest(), media::DOCKER_MANIFEST),
            (
                Some("Application/VND.OCI.Image.Manifest.v1+JSON; charset=utf-8"),
                oci_image(),
                media::OCI_MANIFEST,
            ),
            (
                Some(media::OCI_MANIFEST),
                bare_image.clone(),
                media::OCI_MANIFEST,
            ),
            (None, bare_image, media::OCI_MANIFEST),
            (None, bare_index.into(), media::OCI_INDEX),
        ];
        for (ct, body, expected) in cases {
            let got = parse_manifest(ct, body.as_bytes()).map(|m| m.media_type);
            assert_eq!(got, Ok(expected), "{ct:?} {body}");
        }
    }

    #[test]
    fn invalid_manifests() {
        let image = oci_image();
        let replace = |from: &str, to: &str| image.replacen(from, to, 1);
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_MANIFEST_BYTES));
        type Check = fn(&ManifestError) -> bool;
        let cases: Vec<(Option<&str>, String, Check)> = vec![
            (Some(media::OCI_MANIFEST), big, |e| {
                matches!(e, ManifestError::TooLarge { .. })
            }),
            (Some(media::OCI_MANIFEST), "not json".into(), |e| {
                matches!(e, ManifestError::Json(_))
            }),
            (Some(media::OCI_MANIFEST), "[]".into(), |e| {
                matches!(e, ManifestError::Json(_))
            }),
            (Some(media::OCI_CONFIG), image.clone(), |e| {
                matches!(e, ManifestError::UnsupportedMediaType(_))
            }),
            (None, "{}".into(), |e| *e == ManifestError::UnknownMediaType),
            (None, r#"{"mediaType":"text/plain"}"#.into(), |e| {
                matches!(e, ManifestError::UnsupportedMediaType(_))
            }),
            (Some(media::OCI_INDEX), image.clone(), |e| {
                matches!(e, ManifestError::MediaTypeMismatch { .. })
            }),
            (Some(media::DOCKER_MANIFEST), image.clone(), |e| {
                matches!(e, ManifestError::MediaTypeMismatch { .. })
            }),
            (
                Some(media::DOCKER_MANIFEST),
                docker_manifest().replacen(
                    r#""mediaType":"application/vnd.docker.distribution.manifest.v2+json","#,
                    "",
                    1,
                ),
                |e| *e == ManifestError::MissingField("mediaType"),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace("\"schemaVersion\":2", "\"schemaVersion\":1"),
                |e| *e == ManifestError::SchemaVersion,
            ),
            (
                Some(media::OCI_MANIFEST),
                replace("\"schemaVersion\":2,", ""),
                |e| *e == ManifestError::SchemaVersion,
            ),
            (
                Some(media::OCI_MANIFEST),
                replace("\"schemaVersion\":2", "\"schemaVersion\":\"2\""),
                |e| matches!(e, ManifestError::Json(_)),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace("\"config\"", "\"konfig\""),
                |e| *e == ManifestError::MissingField("config"),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace("\"layers\"", "\"lairs\""),
                |e| *e == ManifestError::MissingField("layers"),
            ),
            (
                Some(media::OCI_INDEX),
                r#"{"schemaVersion":2}"#.into(),
                |e| *e == ManifestError::MissingField("manifests"),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace("\"size\":231", "\"size\":-1"),
                |e| matches!(e, ManifestError::Descriptor { field, .. } if field == "config"),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace("\"size\":290", "\"size\":2.5"),
                |e| matches!(e, ManifestError::Json(_)),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace(",\"size\":290", ""),
                |e| matches!(e, ManifestError::Descriptor { field, .. } if field == "layers[0]"),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace(B, "sha256:abc"),
                |e| matches!(e, ManifestError::Descriptor { field, .. } if field == "layers[0]"),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace(B, "md5:abc"),
                |e| matches!(e, ManifestError::Descriptor { problem, .. } if problem.contains("unsupported")),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace(
                    "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",",
                    "",
                ),
                |e| matches!(e, ManifestError::Descriptor { .. }),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace("application/vnd.oci.image.config.v1+json", "not a type"),
                |e| matches!(e, ManifestError::Descriptor { .. }),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace("\"layers\":[", "\"layers\":[5,"),
                |e| matches!(e, ManifestError::Json(_)),
            ),
            (
                Some(media::OCI_MANIFEST),
                replace(
                    "\"schemaVersion\":2",
                    "\"schemaVersion\":2,\"artifactType\":\"x\"",
                ),
                |e| matches!(e, ManifestError::Descriptor { .. }),
            ),
            (
                Some(media::OCI_MANIFEST),
                oci_artifact().replacen(C, "sha256:zz", 1),
                |e| matches!(e, ManifestError::Descriptor { field, .. } if field == "subject"),
            ),
            (
                Some(media::OCI_INDEX),
                oci_index().replacen("\"size\":467", "\"size\":-467", 1),
                |e| matches!(e, ManifestError::Descriptor { field, .. } if field == "manifests[0]"),
            ),
        ];
        for (ct, body, check) in cases {
            let got = parse_manifest(ct, body.as_bytes());
            assert!(
                matches!(&got, Err(e) if check(e)),
                "{ct:?} {} -> {got:?}",
                &body[..body.len().min(200)]
            );
        }
    }

    #[test]
    fn docker_subject_is_ignored() {
        let body = docker_manifest().replacen(
            "\"schemaVersion\":2,",
            &format!("\"schemaVersion\":2,\"subject\":{{\"mediaType\":\"{}\",\"digest\":\"{C}\",\"size\":1}},", media::OCI_MANIFEST),
            1,
        );
        assert_eq!(
            parse_manifest(Some(media::DOCKER_MANIFEST), body.as_bytes())
                .unwrap()
                .subject,
            None
        );
    }

    #[test]
    fn descriptor_serialises_for_referrers() {
        let m = parse_manifest(Some(media::OCI_INDEX), oci_index().as_bytes()).unwrap();
        let json = serde_json::to_value(&m.manifests[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"mediaType": media::OCI_MANIFEST, "digest": A, "size": 467,
                "platform": {"architecture": "amd64", "os": "linux"}})
        );
    }

    #[test]
    fn config_labels() {
        let cases = [
            (
                r#"{"config":{"Labels":{"org.opencontainers.image.source":"https://x.test/a/b"}}}"#,
                Some("https://x.test/a/b"),
            ),
            (
                r#"{"architecture":"amd64","config":{"Labels":{"other":"x"}}}"#,
                None,
            ),
            (r#"{"config":{"Labels":null}}"#, None),
            (r#"{"config":{}}"#, None),
            (r#"{}"#, None),
            (
                r#"{"config":{"Labels":{"org.opencontainers.image.source":5}}}"#,
                None,
            ),
            (
                r#"{"config":{"Labels":{"org.opencontainers.image.source":"  "}}}"#,
                None,
            ),
            ("garbage", None),
        ];
        for (config, expected) in cases {
            assert_eq!(
                source_from_config(config.as_bytes()).as_deref(),
                expected,
                "{config}"
            );
        }
    }
}
