//! The one dispatcher of registry paths: from a method and the path below the registry's base (`/npm`) to the
//! endpoint it names, and the table of every endpoint with what it does (for the authorization table).
//!
//! Package names contain a `/` that clients escape differently (`%2f`, `%2F` or not at all) and tarball paths are
//! never escaped, so a pattern per route cannot express the surface; one parser can.

use crate::name::{NameError, PackageName};

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /-/ping`
    Ping,
    /// `GET /-/whoami`
    Whoami,
    /// `POST /-/v1/login`: web login, which this registry does not offer (npm falls back to the legacy flow).
    WebLogin,
    /// `PUT /-/user/org.couchdb.user:NAME`: `npm login` / `npm adduser`.
    Login { user: String },
    /// `DELETE /-/user/token/TOKEN`: `npm logout`.
    Logout { token: String },
    /// `GET /-/v1/search`
    Search,
    /// `POST /-/npm/v1/security/advisories/bulk` and `/-/npm/v1/security/audits/quick`: `npm audit`.
    Audit,
    /// `GET /-/package/PKG/dist-tags`
    DistTags { name: PackageName },
    /// `PUT /-/package/PKG/dist-tags/TAG` (also `POST`, as older clients send).
    SetDistTag { name: PackageName, tag: String },
    /// `DELETE /-/package/PKG/dist-tags/TAG`
    RemoveDistTag { name: PackageName, tag: String },
    /// `GET /PKG`
    Packument { name: PackageName },
    /// `PUT /PKG` or `PUT /PKG/-rev/R`: publish, deprecate, or remove versions.
    Put { name: PackageName },
    /// `DELETE /PKG/-rev/R` (or `DELETE /PKG`): unpublish the whole package.
    UnpublishPackage { name: PackageName },
    /// `GET /PKG/-/FILE.tgz`
    Tarball { name: PackageName, file: String },
    /// `DELETE /PKG/-/FILE.tgz/-rev/R`: the last step of `npm unpublish pkg@version`.
    UnpublishTarball { name: PackageName, file: String },
}

/// Why a path names no endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// No endpoint has this shape.
    NotFound,
    /// The path names a package, but not a valid scoped one.
    BadName(NameError),
    /// The endpoint exists but not with this method.
    MethodNotAllowed,
}

/// The kind of an endpoint, without its parameters: the rows of [`ENDPOINTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Ping,
    Whoami,
    WebLogin,
    Login,
    Logout,
    Search,
    Audit,
    DistTags,
    SetDistTag,
    RemoveDistTag,
    Packument,
    Put,
    UnpublishPackage,
    Tarball,
    UnpublishTarball,
}

/// What an endpoint needs, as declared (the service asks the permission core; this is the contract tests hold
/// it to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// Answers anyone.
    Public,
    /// Any valid credentials.
    Authenticated,
    /// Credentials in the body (user name + token as password).
    Login,
    /// Lists only what the caller may read.
    FilteredRead,
    /// Read of the package.
    Read,
    /// Write (publish is write or create; deprecate and unpublish of versions are decided per body).
    Write,
    /// Publish (write, or create at the first publish), deprecate (write) or remove versions (delete), by body.
    PutByBody,
    /// Delete (admin with `delete:packages`).
    Delete,
}

/// Every endpoint: method, path shape, and what it needs.
pub const ENDPOINTS: &[(Kind, &str, &str, Declared)] = &[
    (Kind::Ping, "GET", "/-/ping", Declared::Public),
    (Kind::Whoami, "GET", "/-/whoami", Declared::Authenticated),
    (Kind::WebLogin, "POST", "/-/v1/login", Declared::Public),
    (
        Kind::Login,
        "PUT",
        "/-/user/org.couchdb.user:{user}",
        Declared::Login,
    ),
    (
        Kind::Logout,
        "DELETE",
        "/-/user/token/{token}",
        Declared::Authenticated,
    ),
    (Kind::Search, "GET", "/-/v1/search", Declared::FilteredRead),
    (
        Kind::Audit,
        "POST",
        "/-/npm/v1/security/advisories/bulk",
        Declared::Public,
    ),
    (
        Kind::DistTags,
        "GET",
        "/-/package/{pkg}/dist-tags",
        Declared::Read,
    ),
    (
        Kind::SetDistTag,
        "PUT",
        "/-/package/{pkg}/dist-tags/{tag}",
        Declared::Write,
    ),
    (
        Kind::RemoveDistTag,
        "DELETE",
        "/-/package/{pkg}/dist-tags/{tag}",
        Declared::Write,
    ),
    (Kind::Packument, "GET", "/{pkg}", Declared::Read),
    (Kind::Put, "PUT", "/{pkg}[/-rev/{rev}]", Declared::PutByBody),
    (
        Kind::UnpublishPackage,
        "DELETE",
        "/{pkg}/-rev/{rev}",
        Declared::Delete,
    ),
    (Kind::Tarball, "GET", "/{pkg}/-/{file}", Declared::Read),
    (
        Kind::UnpublishTarball,
        "DELETE",
        "/{pkg}/-/{file}/-rev/{rev}",
        Declared::Delete,
    ),
];

impl Endpoint {
    pub fn kind(&self) -> Kind {
        match self {
            Self::Ping => Kind::Ping,
            Self::Whoami => Kind::Whoami,
            Self::WebLogin => Kind::WebLogin,
            Self::Login { .. } => Kind::Login,
            Self::Logout { .. } => Kind::Logout,
            Self::Search => Kind::Search,
            Self::Audit => Kind::Audit,
            Self::DistTags { .. } => Kind::DistTags,
            Self::SetDistTag { .. } => Kind::SetDistTag,
            Self::RemoveDistTag { .. } => Kind::RemoveDistTag,
            Self::Packument { .. } => Kind::Packument,
            Self::Put { .. } => Kind::Put,
            Self::UnpublishPackage { .. } => Kind::UnpublishPackage,
            Self::Tarball { .. } => Kind::Tarball,
            Self::UnpublishTarball { .. } => Kind::UnpublishTarball,
        }
    }

    /// What the endpoint needs, from [`ENDPOINTS`].
    pub fn declared(&self) -> Declared {
        let kind = self.kind();
        ENDPOINTS
            .iter()
            .find(|(k, ..)| *k == kind)
            .map(|(.., declared)| *declared)
            .unwrap_or(Declared::Public)
    }
}

/// Resolves a request. `path` is the raw (still percent-encoded) path below the registry base, starting with `/`.
pub fn route(method: &str, path: &str) -> Result<Endpoint, RouteError> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let method = method.to_ascii_uppercase();
    let allow = |ok: bool, endpoint: Endpoint| {
        if ok {
            Ok(endpoint)
        } else {
            Err(RouteError::MethodNotAllowed)
        }
    };
    match segments.as_slice() {
        ["-", "ping"] => allow(method == "GET" || method == "HEAD", Endpoint::Ping),
        ["-", "whoami"] => allow(method == "GET", Endpoint::Whoami),
        ["-", "v1", "login"] => allow(method == "POST", Endpoint::WebLogin),
        ["-", "v1", "search"] => allow(method == "GET", Endpoint::Search),
        ["-", "npm", "v1", "security", "advisories", "bulk"]
        | ["-", "npm", "v1", "security", "audits", "quick"] => {
            allow(method == "POST", Endpoint::Audit)
        }
        ["-", "user", user] if user.starts_with("org.couchdb.user:") => allow(
            method == "PUT",
            Endpoint::Login {
                user: decode(&user["org.couchdb.user:".len()..]),
            },
        ),
        ["-", "user", "token", token] => allow(
            method == "DELETE",
            Endpoint::Logout {
                token: decode(token),
            },
        ),
        ["-", "package", rest @ ..] => {
            let (name, rest) = package_prefix(rest)?;
            match rest {
                ["dist-tags"] => allow(method == "GET", Endpoint::DistTags { name }),
                ["dist-tags", tag] => {
                    let tag = decode(tag);
                    match method.as_str() {
                        "PUT" | "POST" => Ok(Endpoint::SetDistTag { name, tag }),
                        "DELETE" => Ok(Endpoint::RemoveDistTag { name, tag }),
                        _ => Err(RouteError::MethodNotAllowed),
                    }
                }
                _ => Err(RouteError::NotFound),
            }
        }
        ["-", ..] => Err(RouteError::NotFound),
        _ => {
            let (name, rest) = package_prefix(&segments)?;
            match rest {
                [] => match method.as_str() {
                    "GET" | "HEAD" => Ok(Endpoint::Packument { name }),
                    "PUT" => Ok(Endpoint::Put { name }),
                    "DELETE" => Ok(Endpoint::UnpublishPackage { name }),
                    _ => Err(RouteError::MethodNotAllowed),
                },
                ["-rev", _] => match method.as_str() {
                    "PUT" => Ok(Endpoint::Put { name }),
                    "DELETE" => Ok(Endpoint::UnpublishPackage { name }),
                    _ => Err(RouteError::MethodNotAllowed),
                },
                ["-", file] => allow(
                    method == "GET" || method == "HEAD",
                    Endpoint::Tarball {
                        name,
                        file: decode(file),
                    },
                ),
                ["-", file, "-rev", _] => allow(
                    method == "DELETE",
                    Endpoint::UnpublishTarball {
                        name,
                        file: decode(file),
                    },
                ),
                _ => Err(RouteError::NotFound),
            }
        }
    }
}

/// The package name at the start of `segments` (`@scope%2fname` in one segment, or `@scope` `name` in two) and
/// what follows it.
fn package_prefix<'s, 'p>(
    segments: &'s [&'p str],
) -> Result<(PackageName, &'s [&'p str]), RouteError> {
    let Some(first) = segments.first() else {
        return Err(RouteError::NotFound);
    };
    if first.is_empty() {
        return Err(RouteError::NotFound);
    }
    let lower = first.to_ascii_lowercase();
    let escaped_slash = lower.contains("%2f");
    let scoped = first.starts_with('@') || lower.starts_with("%40");
    if escaped_slash || !scoped {
        let name = PackageName::from_path_segment(first).map_err(RouteError::BadName)?;
        return Ok((name, &segments[1..]));
    }
    let Some(second) = segments.get(1) else {
        return Err(RouteError::BadName(NameError::Unscoped));
    };
    let name = PackageName::from_path_segment(&format!("{first}/{second}"))
        .map_err(RouteError::BadName)?;
    Ok((name, &segments[2..]))
}

/// Percent-decodes a non-name segment; an undecodable one is kept as sent (it then matches nothing).
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| segment.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib() -> PackageName {
        PackageName::parse("@acme/lib").unwrap()
    }

    #[test]
    fn package_routes_in_every_spelling() {
        for path in [
            "/@acme%2flib",
            "/@acme%2Flib",
            "/@acme/lib",
            "/%40acme%2flib",
        ] {
            assert_eq!(
                route("GET", path),
                Ok(Endpoint::Packument { name: lib() }),
                "{path}"
            );
            assert_eq!(
                route("PUT", path),
                Ok(Endpoint::Put { name: lib() }),
                "{path}"
            );
        }
        assert_eq!(
            route("PUT", "/@acme%2flib/-rev/3-12"),
            Ok(Endpoint::Put { name: lib() })
        );
        assert_eq!(
            route("DELETE", "/@acme%2flib/-rev/3-12"),
            Ok(Endpoint::UnpublishPackage { name: lib() })
        );
        assert_eq!(
            route("GET", "/@acme/lib/-/lib-1.0.0.tgz"),
            Ok(Endpoint::Tarball {
                name: lib(),
                file: "lib-1.0.0.tgz".into()
            })
        );
        assert_eq!(
            route("DELETE", "/@acme%2flib/-/lib-1.0.0.tgz/-rev/4-12"),
            Ok(Endpoint::UnpublishTarball {
                name: lib(),
                file: "lib-1.0.0.tgz".into()
            })
        );
    }

    #[test]
    fn special_routes() {
        assert_eq!(route("GET", "/-/ping"), Ok(Endpoint::Ping));
        assert_eq!(route("GET", "/-/whoami"), Ok(Endpoint::Whoami));
        assert_eq!(route("POST", "/-/v1/login"), Ok(Endpoint::WebLogin));
        assert_eq!(route("GET", "/-/v1/search"), Ok(Endpoint::Search));
        assert_eq!(
            route("POST", "/-/npm/v1/security/advisories/bulk"),
            Ok(Endpoint::Audit)
        );
        assert_eq!(
            route("PUT", "/-/user/org.couchdb.user:mia"),
            Ok(Endpoint::Login { user: "mia".into() })
        );
        assert_eq!(
            route("DELETE", "/-/user/token/etp_abc"),
            Ok(Endpoint::Logout {
                token: "etp_abc".into()
            })
        );
        assert_eq!(
            route("GET", "/-/package/@acme%2flib/dist-tags"),
            Ok(Endpoint::DistTags { name: lib() })
        );
        assert_eq!(
            route("PUT", "/-/package/@acme%2flib/dist-tags/beta"),
            Ok(Endpoint::SetDistTag {
                name: lib(),
                tag: "beta".into()
            })
        );
        assert_eq!(
            route("DELETE", "/-/package/@acme/lib/dist-tags/beta"),
            Ok(Endpoint::RemoveDistTag {
                name: lib(),
                tag: "beta".into()
            })
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            route("GET", "/lib"),
            Err(RouteError::BadName(NameError::Unscoped))
        );
        assert_eq!(
            route("GET", "/@acme"),
            Err(RouteError::BadName(NameError::Unscoped))
        );
        assert_eq!(route("GET", "/-/nope"), Err(RouteError::NotFound));
        assert_eq!(
            route("POST", "/-/whoami"),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(route("GET", "/@acme%2flib/x/y"), Err(RouteError::NotFound));
        assert!(matches!(
            route("GET", "/@Acme%2flib"),
            Err(RouteError::BadName(_))
        ));
    }

    #[test]
    fn every_kind_is_declared_once() {
        for (kind, ..) in ENDPOINTS {
            assert_eq!(
                ENDPOINTS.iter().filter(|(k, ..)| k == kind).count(),
                1,
                "{kind:?}"
            );
        }
        assert_eq!(ENDPOINTS.len(), 15);
    }
}
