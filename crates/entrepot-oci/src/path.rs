//! The one dispatcher for `/v2/` paths.
//!
//! Repository names contain `/`, so a router cannot match `/v2/{name}/manifests/{ref}` by depth
//! (trow registers one copy per depth). Instead the path is read from the right: the last segment
//! is the argument, the one before it says what kind of request this is, and everything left of
//! that is the name. A name segment that happens to be called `blobs` or `manifests` is therefore
//! harmless: `acme/manifests/manifests/v1` is the manifest `v1` of `acme/manifests`.
//!
//! The caller passes the percent-decoded path without its query string; nothing in the grammar
//! needs escaping.

use std::fmt;

use crate::name::{NameError, RepoName};
use crate::reference::{DigestError, DigestRef, Reference, ReferenceError};

/// Longest accepted upload session id; ours are UUIDs, this leaves room for other formats.
pub const MAX_UPLOAD_ID_LEN: usize = 128;

/// A request target under `/v2/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/v2/`
    Base,
    /// `/v2/_catalog`
    Catalog,
    /// `/v2/<name>/tags/list`
    Tags { name: RepoName },
    /// `/v2/<name>/manifests/<reference>`
    Manifest {
        name: RepoName,
        reference: Reference,
    },
    /// `/v2/<name>/blobs/<digest>`
    Blob { name: RepoName, digest: DigestRef },
    /// `/v2/<name>/blobs/uploads/`
    UploadStart { name: RepoName },
    /// `/v2/<name>/blobs/uploads/<id>`
    Upload { name: RepoName, id: String },
    /// `/v2/<name>/referrers/<digest>`
    Referrers { name: RepoName, digest: DigestRef },
}

/// Why a path is not a route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// No route has this shape: a plain 404.
    #[error("not found")]
    NotFound,
    /// The shape is right but the name is not: `NAME_INVALID`.
    #[error(transparent)]
    NameInvalid(#[from] NameError),
    /// A manifest reference that is neither a tag nor a digest.
    #[error(transparent)]
    ReferenceInvalid(ReferenceError),
    /// A blob or referrers digest that is malformed or of an unsupported algorithm.
    #[error(transparent)]
    DigestInvalid(DigestError),
}

impl Route {
    /// Parses a full path starting with `/v2`, as a request line carries it.
    pub fn parse_path(path: &str) -> Result<Self, RouteError> {
        match path.strip_prefix("/v2") {
            Some("") => Ok(Self::Base),
            Some(rest) => rest
                .strip_prefix('/')
                .map_or(Err(RouteError::NotFound), Self::parse),
            None => Err(RouteError::NotFound),
        }
    }

    /// Parses what follows `/v2/`.
    pub fn parse(rest: &str) -> Result<Self, RouteError> {
        match rest {
            "" => return Ok(Self::Base),
            "_catalog" => return Ok(Self::Catalog),
            _ => {}
        }
        let (head, last) = rest.rsplit_once('/').ok_or(RouteError::NotFound)?;
        let (name, kind) = head.rsplit_once('/').ok_or(RouteError::NotFound)?;
        if name.is_empty() {
            return Err(RouteError::NotFound);
        }
        match (kind, last) {
            ("tags", "list") => Ok(Self::Tags {
                name: RepoName::parse(name)?,
            }),
            // Both `blobs/uploads/` (the spec) and `blobs/uploads` (a lenient client) start one.
            ("blobs", "uploads") => Ok(Self::UploadStart {
                name: RepoName::parse(name)?,
            }),
            ("uploads", id) => {
                let name = name.strip_suffix("/blobs").ok_or(RouteError::NotFound)?;
                if name.is_empty() {
                    return Err(RouteError::NotFound);
                }
                if id.is_empty() {
                    return Ok(Self::UploadStart {
                        name: RepoName::parse(name)?,
                    });
                }
                if !is_upload_id(id) {
                    return Err(RouteError::NotFound);
                }
                Ok(Self::Upload {
                    name: RepoName::parse(name)?,
                    id: id.to_owned(),
                })
            }
            (_, "") => Err(RouteError::NotFound),
            ("manifests", reference) => {
                let name = RepoName::parse(name)?;
                let reference =
                    Reference::parse(reference).map_err(RouteError::ReferenceInvalid)?;
                Ok(Self::Manifest { name, reference })
            }
            ("blobs", digest) => {
                let name = RepoName::parse(name)?;
                let digest = DigestRef::parse(digest).map_err(RouteError::DigestInvalid)?;
                Ok(Self::Blob { name, digest })
            }
            ("referrers", digest) => {
                let name = RepoName::parse(name)?;
                let digest = DigestRef::parse(digest).map_err(RouteError::DigestInvalid)?;
                Ok(Self::Referrers { name, digest })
            }
            _ => Err(RouteError::NotFound),
        }
    }

    /// The repository the route addresses, if any (for scopes and permission checks).
    pub fn name(&self) -> Option<&RepoName> {
        match self {
            Self::Base | Self::Catalog => None,
            Self::Tags { name }
            | Self::Manifest { name, .. }
            | Self::Blob { name, .. }
            | Self::UploadStart { name }
            | Self::Upload { name, .. }
            | Self::Referrers { name, .. } => Some(name),
        }
    }
}

/// Upload ids end up in `Location` headers and storage keys, so only URL-safe characters pass.
fn is_upload_id(id: &str) -> bool {
    id.len() <= MAX_UPLOAD_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
}

/// Renders the route's path, starting with `/v2/`; parsing it gives back the same route.
impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Base => write!(f, "/v2/"),
            Self::Catalog => write!(f, "/v2/_catalog"),
            Self::Tags { name } => write!(f, "/v2/{name}/tags/list"),
            Self::Manifest { name, reference } => write!(f, "/v2/{name}/manifests/{reference}"),
            Self::Blob { name, digest } => write!(f, "/v2/{name}/blobs/{digest}"),
            Self::UploadStart { name } => write!(f, "/v2/{name}/blobs/uploads/"),
            Self::Upload { name, id } => write!(f, "/v2/{name}/blobs/uploads/{id}"),
            Self::Referrers { name, digest } => write!(f, "/v2/{name}/referrers/{digest}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const D: &str = "sha256:e768c78379eb9ba0354e63fa6ade8185eb7c4dff0be601a8b10ce1005937639a";

    fn n(s: &str) -> RepoName {
        RepoName::parse(s).unwrap()
    }
    fn d() -> DigestRef {
        DigestRef::parse(D).unwrap()
    }

    #[test]
    fn routes() {
        let cases: Vec<(String, Route)> = vec![
            ("".into(), Route::Base),
            ("_catalog".into(), Route::Catalog),
            ("ns/img/tags/list".into(), Route::Tags { name: n("ns/img") }),
            (
                "acme/tools/app/tags/list".into(),
                Route::Tags {
                    name: n("acme/tools/app"),
                },
            ),
            (
                "ns/img/manifests/v1".into(),
                Route::Manifest {
                    name: n("ns/img"),
                    reference: Reference::parse("v1").unwrap(),
                },
            ),
            (
                format!("ns/img/manifests/{D}"),
                Route::Manifest {
                    name: n("ns/img"),
                    reference: Reference::parse(D).unwrap(),
                },
            ),
            (
                format!("a/b/c/d/blobs/{D}"),
                Route::Blob {
                    name: n("a/b/c/d"),
                    digest: d(),
                },
            ),
            (
                "ns/img/blobs/uploads/".into(),
                Route::UploadStart { name: n("ns/img") },
            ),
            (
                "ns/img/blobs/uploads".into(),
                Route::UploadStart { name: n("ns/img") },
            ),
            (
                "ns/img/blobs/uploads/3bf0d55f-4c54-44dc-aa41-b94f5cde7d84".into(),
                Route::Upload {
                    name: n("ns/img"),
                    id: "3bf0d55f-4c54-44dc-aa41-b94f5cde7d84".into(),
                },
            ),
            (
                format!("ns/img/referrers/{D}"),
                Route::Referrers {
                    name: n("ns/img"),
                    digest: d(),
                },
            ),
            // Marker words inside the name: the rightmost one decides.
            (
                "acme/manifests/manifests/v1".into(),
                Route::Manifest {
                    name: n("acme/manifests"),
                    reference: Reference::parse("v1").unwrap(),
                },
            ),
            (
                format!("acme/manifests/blobs/{D}"),
                Route::Blob {
                    name: n("acme/manifests"),
                    digest: d(),
                },
            ),
            (
                "acme/blobs/tags/list".into(),
                Route::Tags {
                    name: n("acme/blobs"),
                },
            ),
            (
                "acme/tags/list/tags/list".into(),
                Route::Tags {
                    name: n("acme/tags/list"),
                },
            ),
            (
                "acme/blobs/uploads/blobs/uploads/x".into(),
                Route::Upload {
                    name: n("acme/blobs/uploads"),
                    id: "x".into(),
                },
            ),
        ];
        for (rest, expected) in cases {
            assert_eq!(Route::parse(&rest), Ok(expected.clone()), "{rest:?}");
            assert_eq!(
                Route::parse_path(&format!("/v2/{rest}")),
                Ok(expected),
                "{rest:?}"
            );
        }
        assert_eq!(Route::parse_path("/v2"), Ok(Route::Base));
    }

    #[test]
    fn bad_routes() {
        use RouteError::*;
        type Check = fn(&RouteError) -> bool;
        let cases: Vec<(String, Check)> = vec![
            ("img".into(), |e| *e == NotFound),
            ("/".into(), |e| *e == NotFound),
            ("tags/list".into(), |e| *e == NotFound),
            ("/tags/list".into(), |e| *e == NotFound),
            ("ns/img/tags".into(), |e| *e == NotFound),
            ("ns/img/tags/all".into(), |e| *e == NotFound),
            ("ns/img/manifests/".into(), |e| *e == NotFound),
            ("ns/img/blobs/".into(), |e| *e == NotFound),
            ("ns/img/uploads/x".into(), |e| *e == NotFound),
            ("blobs/uploads/x".into(), |e| *e == NotFound),
            ("ns/img/blobs/uploads/a b".into(), |e| *e == NotFound),
            (format!("ns/img/blobs/uploads/{}", "a".repeat(129)), |e| {
                *e == NotFound
            }),
            ("ns/img/unknown/x".into(), |e| *e == NotFound),
            ("ns/img/manifests/v1/extra".into(), |e| *e == NotFound),
            ("_catalog/x".into(), |e| *e == NotFound),
            ("img/tags/list".into(), |e| {
                matches!(e, NameInvalid(NameError::MissingOwner(_)))
            }),
            ("NS/img/tags/list".into(), |e| {
                matches!(e, NameInvalid(NameError::InvalidChar('N')))
            }),
            ("ns//img/tags/list".into(), |e| {
                matches!(e, NameInvalid(NameError::EmptyComponent))
            }),
            (format!("Bad/manifests/{D}"), |e| {
                matches!(e, NameInvalid(_))
            }),
            ("ns/img/manifests/-v1".into(), |e| {
                matches!(e, ReferenceInvalid(_))
            }),
            ("ns/img/manifests/sha256:abc".into(), |e| {
                matches!(e, ReferenceInvalid(_))
            }),
            ("ns/img/blobs/v1".into(), |e| {
                matches!(e, DigestInvalid(DigestError::Invalid(_)))
            }),
            ("ns/img/blobs/sha1:abc".into(), |e| {
                matches!(e, DigestInvalid(DigestError::Unsupported(_)))
            }),
            ("ns/img/referrers/v1".into(), |e| {
                matches!(e, DigestInvalid(_))
            }),
        ];
        for (rest, check) in cases {
            let got = Route::parse(&rest);
            assert!(matches!(&got, Err(e) if check(e)), "{rest:?} -> {got:?}");
        }
        assert_eq!(Route::parse_path("/v3/"), Err(NotFound));
        assert_eq!(Route::parse_path("/v2x/"), Err(NotFound));
        assert_eq!(Route::parse_path(""), Err(NotFound));
    }

    #[test]
    fn route_name() {
        assert_eq!(Route::Base.name(), None);
        assert_eq!(
            Route::parse("ns/img/tags/list").unwrap().name(),
            Some(&n("ns/img"))
        );
    }

    fn component() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,4}((\\.|_|__|-{1,3})[a-z0-9]{1,4}){0,2}"
    }

    fn repo_name() -> impl Strategy<Value = RepoName> {
        prop::collection::vec(component(), 2..5).prop_map(|parts| n(&parts.join("/")))
    }

    fn reference() -> impl Strategy<Value = Reference> {
        prop_oneof![
            "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}".prop_map(|t| Reference::parse(&t).unwrap()),
            "[0-9a-f]{64}".prop_map(|h| Reference::parse(&format!("sha256:{h}")).unwrap()),
            "[0-9a-f]{128}".prop_map(|h| Reference::parse(&format!("sha512:{h}")).unwrap()),
        ]
    }

    fn route() -> impl Strategy<Value = Route> {
        let digest = "[0-9a-f]{64}".prop_map(|h| DigestRef::parse(&format!("sha256:{h}")).unwrap());
        prop_oneof![
            Just(Route::Base),
            Just(Route::Catalog),
            repo_name().prop_map(|name| Route::Tags { name }),
            (repo_name(), reference())
                .prop_map(|(name, reference)| Route::Manifest { name, reference }),
            (repo_name(), digest.clone()).prop_map(|(name, digest)| Route::Blob { name, digest }),
            repo_name().prop_map(|name| Route::UploadStart { name }),
            (repo_name(), "[a-zA-Z0-9=_.-]{1,40}")
                .prop_map(|(name, id)| Route::Upload { name, id }),
            (repo_name(), digest).prop_map(|(name, digest)| Route::Referrers { name, digest }),
        ]
    }

    proptest! {
        #[test]
        fn never_panics(path in "\\PC{0,80}") {
            let _ = Route::parse(&path);
            let _ = Route::parse_path(&path);
        }

        #[test]
        fn never_panics_on_plausible_paths(
            parts in prop::collection::vec(
                prop_oneof![
                    Just("blobs".to_owned()), Just("uploads".to_owned()), Just("manifests".to_owned()),
                    Just("tags".to_owned()), Just("list".to_owned()), Just("referrers".to_owned()),
                    Just(String::new()), Just(D.to_owned()), "[a-z._-]{1,5}",
                ],
                0..7,
            )
        ) {
            let _ = Route::parse(&parts.join("/"));
        }

        #[test]
        fn render_then_parse_round_trips(route in route()) {
            prop_assert_eq!(Route::parse_path(&route.to_string()), Ok(route));
        }

        #[test]
        fn names_and_references_round_trip(name in repo_name(), reference in reference()) {
            prop_assert_eq!(RepoName::parse(name.as_str()), Ok(name.clone()));
            prop_assert_eq!(format!("{}/{}", name.owner(), name.package()), name.to_string());
            prop_assert_eq!(Reference::parse(&reference.to_string()), Ok(reference));
        }
    }
}
