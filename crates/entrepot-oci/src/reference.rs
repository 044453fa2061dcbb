//! Tags, digests and the `<reference>` of a manifest URL.
//!
//! A digest is `algorithm:encoded` (image-spec `descriptor.md`). A string that does not follow that
//! general grammar, or a known algorithm with the wrong encoding, is *invalid* (`DIGEST_INVALID`);
//! a well-formed digest of an algorithm we do not implement is *unsupported* (`UNSUPPORTED`), so a
//! client can tell "you sent garbage" from "this server cannot hash that".
//!
//! [`DigestRef`] is deliberately not `entrepot_blob::Digest`: keeping this crate a leaf keeps it
//! pure and quick to build; both print the same canonical string, which is how the front-end
//! converts one into the other.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest tag (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`).
pub const MAX_TAG_LEN: usize = 128;

/// The digest algorithms this registry verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the lowercase hex encoding.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }
}

/// Why a digest string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// Not `algorithm:encoded`, or the encoding does not fit the algorithm: `DIGEST_INVALID`.
    #[error("invalid digest: {0}")]
    Invalid(&'static str),
    /// Well formed, but an algorithm this registry does not implement: `UNSUPPORTED`.
    #[error("unsupported digest algorithm {0:?}")]
    Unsupported(String),
}

/// A validated digest in canonical form (`sha256:` + 64 lowercase hex, or `sha512:` + 128).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DigestRef {
    algorithm: Algorithm,
    full: String,
}

impl DigestRef {
    pub fn parse(input: &str) -> Result<Self, DigestError> {
        let Some((algorithm, encoded)) = input.split_once(':') else {
            return Err(DigestError::Invalid(
                "missing ':' between algorithm and encoded value",
            ));
        };
        if !is_algorithm_grammar(algorithm) {
            return Err(DigestError::Invalid("malformed algorithm"));
        }
        if encoded.is_empty()
            || !encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
        {
            return Err(DigestError::Invalid("malformed encoded value"));
        }
        let algorithm = match algorithm {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            other => return Err(DigestError::Unsupported(other.to_owned())),
        };
        if encoded.len() != algorithm.hex_len() {
            return Err(DigestError::Invalid("wrong length for the algorithm"));
        }
        // The spec fixes lowercase hex for both algorithms; uppercase would alias a second URL
        // onto the same content.
        if !encoded
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(DigestError::Invalid("encoded value must be lowercase hex"));
        }
        Ok(Self {
            algorithm,
            full: input.to_owned(),
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part, without the `algorithm:` prefix.
    pub fn hex(&self) -> &str {
        &self.full[self.algorithm.as_str().len() + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.full
    }
}

/// `[a-z0-9]+([+._-][a-z0-9]+)*`
fn is_algorithm_grammar(s: &str) -> bool {
    !s.is_empty()
        && s.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

impl fmt::Display for DigestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl FromStr for DigestRef {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for DigestRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.full)
    }
}

impl<'de> Deserialize<'de> for DigestRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A tag was refused: `MANIFEST_INVALID` on push, a 404 shape on pull.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("tag is empty")]
    Empty,
    #[error("tag is longer than {MAX_TAG_LEN} characters")]
    TooLong,
    #[error("tag must start with a letter, digit or '_'")]
    BadStart,
    #[error("tag contains the invalid character {0:?}")]
    InvalidChar(char),
}

/// A tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    pub fn parse(input: &str) -> Result<Self, TagError> {
        let Some(first) = input.chars().next() else {
            return Err(TagError::Empty);
        };
        if let Some(bad) = input
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(TagError::InvalidChar(bad));
        }
        if input.len() > MAX_TAG_LEN {
            return Err(TagError::TooLong);
        }
        if !(first.is_ascii_alphanumeric() || first == '_') {
            return Err(TagError::BadStart);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a manifest URL names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    Tag(Tag),
    Digest(DigestRef),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error(transparent)]
    Tag(#[from] TagError),
    #[error(transparent)]
    Digest(#[from] DigestError),
}

impl Reference {
    /// A tag never contains `:`, so a colon means the client meant a digest.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if input.contains(':') {
            Ok(Self::Digest(DigestRef::parse(input)?))
        } else {
            Ok(Self::Tag(Tag::parse(input)?))
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Tag(t) => t.as_str(),
            Self::Digest(d) => d.as_str(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H64: &str = "e768c78379eb9ba0354e63fa6ade8185eb7c4dff0be601a8b10ce1005937639a";

    #[test]
    fn digests() {
        let h128 = "ab".repeat(64);
        let ok = [format!("sha256:{H64}"), format!("sha512:{h128}")];
        for input in &ok {
            let d = DigestRef::parse(input).unwrap();
            assert_eq!(d.as_str(), input);
            assert_eq!(d.algorithm().as_str(), input.split(':').next().unwrap());
            assert_eq!(d.hex(), input.split(':').nth(1).unwrap());
        }
        use DigestError::*;
        let bad: Vec<(String, DigestError)> = vec![
            (
                String::new(),
                Invalid("missing ':' between algorithm and encoded value"),
            ),
            (
                H64.into(),
                Invalid("missing ':' between algorithm and encoded value"),
            ),
            (format!(":{H64}"), Invalid("malformed algorithm")),
            (format!("SHA256:{H64}"), Invalid("malformed algorithm")),
            (format!("sha256+:{H64}"), Invalid("malformed algorithm")),
            ("sha256:".into(), Invalid("malformed encoded value")),
            ("sha256:ab/cd".into(), Invalid("malformed encoded value")),
            (
                format!("sha256:{}", &H64[1..]),
                Invalid("wrong length for the algorithm"),
            ),
            (
                format!("sha256:{H64}0"),
                Invalid("wrong length for the algorithm"),
            ),
            (
                format!("sha256:{}", H64.to_uppercase()),
                Invalid("encoded value must be lowercase hex"),
            ),
            (
                format!("sha256:{}", "g".repeat(64)),
                Invalid("encoded value must be lowercase hex"),
            ),
            (
                format!("sha512:{H64}"),
                Invalid("wrong length for the algorithm"),
            ),
            (format!("sha384:{H64}"), Unsupported("sha384".into())),
            ("md5:abc".into(), Unsupported("md5".into())),
            (
                "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8".into(),
                Unsupported("multihash+base58".into()),
            ),
        ];
        for (input, expected) in bad {
            assert_eq!(DigestRef::parse(&input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn digest_serde_round_trip() {
        let d = DigestRef::parse(&format!("sha256:{H64}")).unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"sha256:{H64}\""));
        assert_eq!(serde_json::from_str::<DigestRef>(&json).unwrap(), d);
        assert!(serde_json::from_str::<DigestRef>("\"sha256:xyz\"").is_err());
    }

    #[test]
    fn tags() {
        let long_ok = "a".repeat(128);
        for ok in [
            "v1",
            "latest",
            "_private",
            "1.0.0-rc.1",
            "A_b.C-d",
            "0",
            long_ok.as_str(),
        ] {
            assert_eq!(Tag::parse(ok).unwrap().as_str(), ok);
        }
        let too_long = "a".repeat(129);
        let bad: Vec<(&str, TagError)> = vec![
            ("", TagError::Empty),
            (".hidden", TagError::BadStart),
            ("-x", TagError::BadStart),
            ("v1+build", TagError::InvalidChar('+')),
            ("a/b", TagError::InvalidChar('/')),
            ("a b", TagError::InvalidChar(' ')),
            ("ü", TagError::InvalidChar('ü')),
            (too_long.as_str(), TagError::TooLong),
        ];
        for (input, expected) in bad {
            assert_eq!(Tag::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn references() {
        assert!(matches!(Reference::parse("v1"), Ok(Reference::Tag(_))));
        assert!(matches!(
            Reference::parse(&format!("sha256:{H64}")),
            Ok(Reference::Digest(_))
        ));
        assert!(matches!(
            Reference::parse("sha256:abc"),
            Err(ReferenceError::Digest(DigestError::Invalid(_)))
        ));
        assert!(matches!(
            Reference::parse("sha1:abc"),
            Err(ReferenceError::Digest(DigestError::Unsupported(_)))
        ));
        assert!(matches!(
            Reference::parse("-x"),
            Err(ReferenceError::Tag(TagError::BadStart))
        ));
    }
}
