//! The npm error body, `{"error": "..."}`, and the messages that tell a user what to do next.
//!
//! npm prints the `error` field verbatim after the status line, so each message names the fix, not only the fault.

use serde::{Deserialize, Serialize};

/// The body of every npm error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

impl ErrorBody {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            error: message.into(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.error })
    }
}

/// The `WWW-Authenticate` value of a 401: npm only retries with credentials after a Basic challenge.
pub fn www_authenticate(realm: &str) -> String {
    let realm = realm.replace(['"', '\\'], "");
    format!("Basic realm=\"{realm}\"")
}

/// 401: no or unusable credentials.
pub fn unauthorized(registry_url: &str) -> String {
    format!(
        "authentication required: log in with `npm login --registry={registry_url}` using a personal access \
         token as password"
    )
}

/// 401 on `PUT /-/user/org.couchdb.user:NAME` when the password is not a token.
pub fn login_needs_token() -> String {
    "log in with a personal access token as password: Entrepôt does not accept account passwords from npm".into()
}

/// 403: authenticated but not allowed to write.
pub fn forbidden(package: &str) -> String {
    format!(
        "permission denied: you cannot publish to {package}; ask an administrator of its owner for write access, \
         and check that your token has the write:packages scope"
    )
}

/// 404 for a package that does not exist or that the caller may not see (the two must read alike).
pub fn package_not_found(package: &str) -> String {
    format!("package {package} not found")
}

/// 404 for a version or its tarball.
pub fn version_not_found(package: &str, version: &str) -> String {
    format!("version {version} of {package} not found")
}

/// 409: versions are immutable, even after deletion.
pub fn version_exists(package: &str, version: &str) -> String {
    format!(
        "cannot publish over the previously published version {version} of {package}: versions are immutable, \
         bump the version in package.json"
    )
}

/// 413: the tarball is over the configured limit.
pub fn too_large(limit_bytes: u64) -> String {
    format!("package tarball is larger than the limit of {limit_bytes} bytes")
}

/// 404 on `POST /-/v1/login`: npm falls back to the classic login only after a 404.
pub fn web_login_unsupported() -> String {
    "web login is not supported: npm falls back to `npm login` with a personal access token".into()
}

/// 400: a dist-tag command named a tag npm would read as a version range.
pub fn tag_is_range(tag: &str) -> String {
    format!(
        "tag name {tag:?} must not be a valid SemVer range: choose a name such as `next` or `beta`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape() {
        let body = ErrorBody::new("nope");
        assert_eq!(body.to_json(), serde_json::json!({"error": "nope"}));
        assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"error":"nope"}"#);
        let back: ErrorBody = serde_json::from_str(r#"{"error":"x"}"#).unwrap();
        assert_eq!(back.error, "x");
    }

    #[test]
    fn messages_name_the_fix() {
        let cases: &[(String, &str)] = &[
            (
                unauthorized("https://pk.example/npm/"),
                "npm login --registry=https://pk.example/npm/",
            ),
            (
                unauthorized("https://pk.example/npm/"),
                "personal access token as password",
            ),
            (login_needs_token(), "personal access token"),
            (forbidden("@acme/lib"), "write:packages"),
            (package_not_found("@acme/lib"), "@acme/lib not found"),
            (
                version_not_found("@acme/lib", "1.0.0"),
                "version 1.0.0 of @acme/lib",
            ),
            (version_exists("@acme/lib", "1.0.0"), "bump the version"),
            (too_large(10), "10 bytes"),
            (web_login_unsupported(), "npm login"),
            (tag_is_range("v1"), "\"v1\""),
        ];
        for (message, needle) in cases {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }

    #[test]
    fn challenge() {
        let cases = [
            ("Entrepôt", r#"Basic realm="Entrepôt""#),
            (r#"a"b\c"#, r#"Basic realm="abc""#),
            ("", r#"Basic realm="""#),
        ];
        for (realm, want) in cases {
            assert_eq!(www_authenticate(realm), want);
        }
    }
}
