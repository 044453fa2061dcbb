//! The distribution spec's error codes, each registered once with its status, and the error body.
//!
//! As in distribution's `registry/api/errcode`, a code carries its HTTP status and default message
//! in one table ([`ErrorCode::ALL`] walks it), so two handlers cannot answer the same code with
//! different statuses. Statuses follow distribution, the reference the clients were tested
//! against. A few situations need another status for the same code (an unsupported digest
//! algorithm is `UNSUPPORTED` with 400, not 405); [`OciError::with_status`] makes that override
//! explicit at the one place that needs it.
//!
//! This module also says which code each parse error of this crate becomes, so the front-end maps
//! errors with `?` and `From` instead of deciding codes per handler.

use serde::Serialize;
use serde_json::Value;

use crate::manifest::ManifestError;
use crate::name::NameError;
use crate::path::RouteError;
use crate::range::RangeError;
use crate::reference::{DigestError, ReferenceError};

/// An error code of the distribution spec (plus distribution's `RANGE_INVALID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    TooManyRequests,
    RangeInvalid,
}

struct Registration {
    code: &'static str,
    status: u16,
    message: &'static str,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 15] = [
        Self::BlobUnknown,
        Self::BlobUploadInvalid,
        Self::BlobUploadUnknown,
        Self::DigestInvalid,
        Self::ManifestBlobUnknown,
        Self::ManifestInvalid,
        Self::ManifestUnknown,
        Self::NameInvalid,
        Self::NameUnknown,
        Self::SizeInvalid,
        Self::Unauthorized,
        Self::Denied,
        Self::Unsupported,
        Self::TooManyRequests,
        Self::RangeInvalid,
    ];

    /// The registry: the only place a code's wire name, status and message are written.
    const fn registration(self) -> Registration {
        let (code, status, message) = match self {
            Self::BlobUnknown => ("BLOB_UNKNOWN", 404, "blob unknown to registry"),
            Self::BlobUploadInvalid => ("BLOB_UPLOAD_INVALID", 404, "blob upload invalid"),
            Self::BlobUploadUnknown => (
                "BLOB_UPLOAD_UNKNOWN",
                404,
                "blob upload unknown to registry",
            ),
            Self::DigestInvalid => (
                "DIGEST_INVALID",
                400,
                "provided digest did not match uploaded content",
            ),
            Self::ManifestBlobUnknown => (
                "MANIFEST_BLOB_UNKNOWN",
                400,
                "manifest references a manifest or blob unknown to registry",
            ),
            Self::ManifestInvalid => ("MANIFEST_INVALID", 400, "manifest invalid"),
            Self::ManifestUnknown => ("MANIFEST_UNKNOWN", 404, "manifest unknown to registry"),
            Self::NameInvalid => ("NAME_INVALID", 400, "invalid repository name"),
            Self::NameUnknown => ("NAME_UNKNOWN", 404, "repository name not known to registry"),
            Self::SizeInvalid => (
                "SIZE_INVALID",
                400,
                "provided length did not match content length",
            ),
            Self::Unauthorized => ("UNAUTHORIZED", 401, "authentication required"),
            Self::Denied => ("DENIED", 403, "requested access to the resource is denied"),
            Self::Unsupported => ("UNSUPPORTED", 405, "the operation is unsupported"),
            Self::TooManyRequests => ("TOOMANYREQUESTS", 429, "too many requests"),
            Self::RangeInvalid => ("RANGE_INVALID", 416, "invalid content range"),
        };
        Registration {
            code,
            status,
            message,
        }
    }

    /// The wire name, e.g. `BLOB_UNKNOWN`.
    pub const fn as_str(self) -> &'static str {
        self.registration().code
    }

    pub const fn status(self) -> u16 {
        self.registration().status
    }

    pub const fn message(self) -> &'static str {
        self.registration().message
    }
}

/// One error as a registry answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct OciError {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<Value>,
    status: Option<u16>,
}

impl OciError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: code.message().to_owned(),
            detail: None,
            status: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_detail(mut self, detail: impl Into<Value>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Overrides the registered status; see the module documentation for when that is right.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn status(&self) -> u16 {
        self.status.unwrap_or_else(|| self.code.status())
    }

    /// The JSON body for this error alone.
    pub fn to_body(&self) -> String {
        render_body(std::slice::from_ref(self))
    }
}

impl std::fmt::Display for OciError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for OciError {}

#[derive(Serialize)]
struct Body<'a> {
    errors: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a Value>,
}

/// `{"errors":[{"code","message","detail"}]}`; `detail` is left out when there is none, as
/// distribution does.
pub fn render_body(errors: &[OciError]) -> String {
    let body = Body {
        errors: errors
            .iter()
            .map(|e| Entry {
                code: e.code.as_str(),
                message: &e.message,
                detail: e.detail.as_ref(),
            })
            .collect(),
    };
    // Serialising strings and `Value`s into a `String` cannot fail.
    serde_json::to_string(&body).unwrap_or_default()
}

impl From<NameError> for OciError {
    fn from(error: NameError) -> Self {
        OciError::new(ErrorCode::NameInvalid).with_detail(error.to_string())
    }
}

impl From<DigestError> for OciError {
    fn from(error: DigestError) -> Self {
        match error {
            DigestError::Invalid(_) => OciError::new(ErrorCode::DigestInvalid)
                .with_message("invalid digest")
                .with_detail(error.to_string()),
            DigestError::Unsupported(_) => OciError::new(ErrorCode::Unsupported)
                .with_message("unsupported digest algorithm")
                .with_detail(error.to_string())
                .with_status(400),
        }
    }
}

/// A bad reference is only seen on manifest URLs; on a push that makes the manifest invalid.
/// (A pull may prefer to answer `MANIFEST_UNKNOWN`; that is the handler's choice.)
impl From<ReferenceError> for OciError {
    fn from(error: ReferenceError) -> Self {
        match error {
            ReferenceError::Digest(d) => d.into(),
            ReferenceError::Tag(t) => {
                OciError::new(ErrorCode::ManifestInvalid).with_detail(t.to_string())
            }
        }
    }
}

impl RouteError {
    /// The error body for this routing failure; `None` for a path no route has, which is a plain
    /// 404 without an OCI body.
    pub fn to_oci(&self) -> Option<OciError> {
        match self {
            RouteError::NotFound => None,
            RouteError::NameInvalid(e) => Some(e.clone().into()),
            RouteError::ReferenceInvalid(e) => Some(e.clone().into()),
            RouteError::DigestInvalid(e) => Some(e.clone().into()),
        }
    }
}

impl From<ManifestError> for OciError {
    fn from(error: ManifestError) -> Self {
        match error {
            ManifestError::TooLarge { .. } => OciError::new(ErrorCode::SizeInvalid)
                .with_message("manifest too large")
                .with_detail(error.to_string())
                .with_status(413),
            _ => OciError::new(ErrorCode::ManifestInvalid).with_detail(error.to_string()),
        }
    }
}

impl From<RangeError> for OciError {
    fn from(error: RangeError) -> Self {
        OciError::new(ErrorCode::RangeInvalid).with_detail(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn registry_table() {
        let expected = [
            ("BLOB_UNKNOWN", 404),
            ("BLOB_UPLOAD_INVALID", 404),
            ("BLOB_UPLOAD_UNKNOWN", 404),
            ("DIGEST_INVALID", 400),
            ("MANIFEST_BLOB_UNKNOWN", 400),
            ("MANIFEST_INVALID", 400),
            ("MANIFEST_UNKNOWN", 404),
            ("NAME_INVALID", 400),
            ("NAME_UNKNOWN", 404),
            ("SIZE_INVALID", 400),
            ("UNAUTHORIZED", 401),
            ("DENIED", 403),
            ("UNSUPPORTED", 405),
            ("TOOMANYREQUESTS", 429),
            ("RANGE_INVALID", 416),
        ];
        let got: Vec<_> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str(), c.status()))
            .collect();
        assert_eq!(got, expected);
        let names: HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names.len(),
            ErrorCode::ALL.len(),
            "each code registered once"
        );
        assert!(ErrorCode::ALL.iter().all(|c| !c.message().is_empty()));
    }

    #[test]
    fn body_shape() {
        let e = OciError::new(ErrorCode::BlobUnknown)
            .with_detail(serde_json::json!({"digest": "sha256:x"}));
        assert_eq!(
            e.to_body(),
            r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":{"digest":"sha256:x"}}]}"#
        );
        let two = render_body(&[
            OciError::new(ErrorCode::Denied),
            OciError::new(ErrorCode::Unauthorized).with_message("x"),
        ]);
        assert_eq!(
            two,
            r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"},{"code":"UNAUTHORIZED","message":"x"}]}"#
        );
        assert_eq!(render_body(&[]), r#"{"errors":[]}"#);
        assert_eq!(
            OciError::new(ErrorCode::NameUnknown).to_string(),
            "NAME_UNKNOWN: repository name not known to registry"
        );
    }

    #[test]
    fn mapping_from_parse_errors() {
        let cases: Vec<(OciError, &str, u16)> = vec![
            (NameError::Empty.into(), "NAME_INVALID", 400),
            (DigestError::Invalid("x").into(), "DIGEST_INVALID", 400),
            (
                DigestError::Unsupported("md5".into()).into(),
                "UNSUPPORTED",
                400,
            ),
            (
                ReferenceError::Tag(crate::reference::TagError::Empty).into(),
                "MANIFEST_INVALID",
                400,
            ),
            (
                ReferenceError::Digest(DigestError::Invalid("x")).into(),
                "DIGEST_INVALID",
                400,
            ),
            (
                ManifestError::TooLarge { limit: 1 }.into(),
                "SIZE_INVALID",
                413,
            ),
            (ManifestError::SchemaVersion.into(), "MANIFEST_INVALID", 400),
            (RangeError::Malformed.into(), "RANGE_INVALID", 416),
        ];
        for (error, code, status) in cases {
            assert_eq!(
                (error.code.as_str(), error.status()),
                (code, status),
                "{error:?}"
            );
        }
        assert_eq!(RouteError::NotFound.to_oci(), None);
        assert_eq!(
            RouteError::NameInvalid(NameError::Empty)
                .to_oci()
                .map(|e| e.code),
            Some(ErrorCode::NameInvalid)
        );
    }
}
