//! Every container route, declared once with what it needs of the image it names.
//!
//! The `/v2/` path grammar is parsed by `entrepot_oci::path::Route`; this table says, for each method on each
//! route kind, which token-scope action (`pull`, `push`, `delete`) the request needs. The table serves two
//! purposes: a registry bearer token must have been granted that action on that repository (else 401 with
//! `error="insufficient_scope"`), and the authorization test walks it route by route. Whether the principal may
//! actually do it is decided per request by the permission core, through the service layer.

use entrepot_oci::path::Route;
use entrepot_service::ImageAction;

/// The kinds of `/v2/` routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Base,
    Catalog,
    Tags,
    Manifest,
    Blob,
    UploadStart,
    Upload,
    Referrers,
}

impl RouteKind {
    pub fn of(route: &Route) -> Self {
        match route {
            Route::Base => Self::Base,
            Route::Catalog => Self::Catalog,
            Route::Tags { .. } => Self::Tags,
            Route::Manifest { .. } => Self::Manifest,
            Route::Blob { .. } => Self::Blob,
            Route::UploadStart { .. } => Self::UploadStart,
            Route::Upload { .. } => Self::Upload,
            Route::Referrers { .. } => Self::Referrers,
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// `GET /v2/`: valid credentials, or none (answered with the challenge).
    Authentication,
    /// `_catalog`: filtered to what the caller may pull.
    Listing,
    /// An action on the image the path names.
    Image(ImageAction),
}

pub struct RouteDecl {
    pub method: &'static str,
    pub kind: RouteKind,
    /// The spec's name for the endpoint (end-1 … end-13), for documentation and test output.
    pub endpoint: &'static str,
    pub need: Need,
}

const fn decl(
    method: &'static str,
    kind: RouteKind,
    endpoint: &'static str,
    need: Need,
) -> RouteDecl {
    RouteDecl {
        method,
        kind,
        endpoint,
        need,
    }
}

use ImageAction::{Delete, Pull, Push};
use RouteKind as K;

pub const ROUTES: &[RouteDecl] = &[
    decl("GET", K::Base, "end-1 base", Need::Authentication),
    decl("HEAD", K::Base, "end-1 base", Need::Authentication),
    decl("GET", K::Catalog, "catalog", Need::Listing),
    decl("GET", K::Blob, "end-2 blob", Need::Image(Pull)),
    decl("HEAD", K::Blob, "end-2 blob", Need::Image(Pull)),
    decl("DELETE", K::Blob, "end-10 blob delete", Need::Image(Delete)),
    decl("GET", K::Manifest, "end-3 manifest", Need::Image(Pull)),
    decl("HEAD", K::Manifest, "end-3 manifest", Need::Image(Pull)),
    decl("PUT", K::Manifest, "end-7 manifest push", Need::Image(Push)),
    decl(
        "DELETE",
        K::Manifest,
        "end-9 manifest delete",
        Need::Image(Delete),
    ),
    decl(
        "POST",
        K::UploadStart,
        "end-4 upload start / end-11 mount",
        Need::Image(Push),
    ),
    decl("PATCH", K::Upload, "end-5 upload chunk", Need::Image(Push)),
    decl("PUT", K::Upload, "end-6 upload close", Need::Image(Push)),
    decl("GET", K::Upload, "end-13 upload status", Need::Image(Push)),
    decl("DELETE", K::Upload, "upload cancel", Need::Image(Push)),
    decl("GET", K::Tags, "end-8 tags", Need::Image(Pull)),
    decl("GET", K::Referrers, "end-12 referrers", Need::Image(Pull)),
];

/// The declaration for a method on a route kind; `None` is 405.
pub fn lookup(method: &str, kind: RouteKind) -> Option<&'static RouteDecl> {
    ROUTES
        .iter()
        .find(|decl| decl.kind == kind && decl.method.eq_ignore_ascii_case(method))
}

/// The token-scope action name of an image action.
pub fn action_name(action: ImageAction) -> &'static str {
    match action {
        ImageAction::Pull => "pull",
        ImageAction::Push => "push",
        ImageAction::Delete => "delete",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_kind_has_a_declaration_and_none_twice() {
        for kind in [
            K::Base,
            K::Catalog,
            K::Tags,
            K::Manifest,
            K::Blob,
            K::UploadStart,
            K::Upload,
            K::Referrers,
        ] {
            assert!(ROUTES.iter().any(|d| d.kind == kind), "{kind:?}");
        }
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.kind == b.kind && a.method == b.method),
                    "{} twice",
                    a.endpoint
                );
            }
        }
        assert!(lookup("put", K::Blob).is_none());
        assert_eq!(lookup("get", K::Tags).unwrap().need, Need::Image(Pull));
    }
}
