//! Media types and `Accept` negotiation for manifest GETs.
//!
//! A registry never converts manifests, so negotiation is a yes/no question: may the stored
//! manifest be sent to this client? Clients that send no `Accept`, or `*/*`, take anything (oras,
//! curl); skopeo sends six separate `Accept` lines, others one comma-separated list, so the
//! front-end passes every header value and this module splits them all.

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// The placeholder config and layer of artifacts that have none (image-spec 1.1).
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_FOREIGN_LAYER_GZIP: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// The manifest types this registry stores, in the order a server lists them.
pub const MANIFEST_TYPES: [&str; 4] = [
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

/// Whether a manifest points at blobs (an image) or at other manifests (an index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    Image,
    Index,
}

/// The kind of a manifest media type, or `None` for anything we do not store as a manifest.
/// Parameters and case are ignored, as HTTP media types allow.
pub fn manifest_kind(media_type: &str) -> Option<ManifestKind> {
    let essence = essence(media_type);
    if essence.eq_ignore_ascii_case(OCI_MANIFEST) || essence.eq_ignore_ascii_case(DOCKER_MANIFEST) {
        Some(ManifestKind::Image)
    } else if essence.eq_ignore_ascii_case(OCI_INDEX)
        || essence.eq_ignore_ascii_case(DOCKER_MANIFEST_LIST)
    {
        Some(ManifestKind::Index)
    } else {
        None
    }
}

/// The media type without parameters: `application/json; charset=utf-8` → `application/json`.
pub fn essence(media_type: &str) -> &str {
    media_type.split(';').next().unwrap_or("").trim()
}

/// Whether a client sending these `Accept` values accepts `media_type`.
///
/// Each value may be a comma-separated list; `q=0` excludes an entry (RFC 9110), other weights
/// only order preferences, which do not matter when there is a single candidate.
pub fn accepts<S: AsRef<str>>(accept_values: &[S], media_type: &str) -> bool {
    let wanted = essence(media_type);
    let (wanted_type, _) = wanted.split_once('/').unwrap_or((wanted, ""));
    let mut any_entry = false;
    for entry in accept_values.iter().flat_map(|v| v.as_ref().split(',')) {
        let mut parts = entry.split(';');
        let range = parts.next().unwrap_or("").trim();
        if range.is_empty() {
            continue;
        }
        any_entry = true;
        let refused = parts.any(|p| {
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("q")
                    && v.trim().parse::<f32>().is_ok_and(|q| q == 0.0)
            })
        });
        if refused {
            continue;
        }
        let matches = range == "*/*"
            || range.eq_ignore_ascii_case(wanted)
            || range
                .strip_suffix("/*")
                .is_some_and(|t| t.eq_ignore_ascii_case(wanted_type));
        if matches {
            return true;
        }
    }
    !any_entry
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What skopeo sends on a manifest GET (six header lines).
    const SKOPEO: [&str; 6] = [
        OCI_MANIFEST,
        DOCKER_MANIFEST,
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.docker.distribution.manifest.v1+json",
        DOCKER_MANIFEST_LIST,
        OCI_INDEX,
    ];

    #[test]
    fn negotiation() {
        let oras_one_line = format!("{OCI_MANIFEST}, {OCI_INDEX}");
        let old_docker = [
            DOCKER_MANIFEST,
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
        ];
        let cases: Vec<(Vec<&str>, &str, bool)> = vec![
            (vec![], OCI_MANIFEST, true),
            (vec![""], OCI_INDEX, true),
            (vec!["*/*"], DOCKER_MANIFEST_LIST, true),
            (vec!["application/*"], OCI_INDEX, true),
            (vec!["text/*"], OCI_INDEX, false),
            (SKOPEO.to_vec(), OCI_MANIFEST, true),
            (SKOPEO.to_vec(), OCI_INDEX, true),
            (SKOPEO.to_vec(), DOCKER_MANIFEST_LIST, true),
            (vec![oras_one_line.as_str()], OCI_INDEX, true),
            (vec![oras_one_line.as_str()], DOCKER_MANIFEST, false),
            (old_docker.to_vec(), OCI_MANIFEST, false),
            (old_docker.to_vec(), DOCKER_MANIFEST, true),
            (
                vec!["APPLICATION/VND.OCI.IMAGE.INDEX.V1+JSON"],
                OCI_INDEX,
                true,
            ),
            (
                vec!["application/vnd.oci.image.index.v1+json; q=0.5"],
                OCI_INDEX,
                true,
            ),
            (
                vec!["application/vnd.oci.image.index.v1+json;q=0", "*/*;q=0"],
                OCI_INDEX,
                false,
            ),
            (vec!["application/json"], OCI_MANIFEST, false),
            (vec![" , "], OCI_MANIFEST, true),
        ];
        for (accept, stored, expected) in cases {
            assert_eq!(
                accepts(&accept, stored),
                expected,
                "{accept:?} for {stored}"
            );
        }
    }

    #[test]
    fn kinds() {
        let cases = [
            (OCI_MANIFEST, Some(ManifestKind::Image)),
            (DOCKER_MANIFEST, Some(ManifestKind::Image)),
            (OCI_INDEX, Some(ManifestKind::Index)),
            (DOCKER_MANIFEST_LIST, Some(ManifestKind::Index)),
            (
                "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
                Some(ManifestKind::Image),
            ),
            (OCI_CONFIG, None),
            ("application/json", None),
            ("", None),
        ];
        for (media_type, expected) in cases {
            assert_eq!(manifest_kind(media_type), expected, "{media_type:?}");
        }
        assert_eq!(essence(" a/b ; x=y"), "a/b");
    }
}
