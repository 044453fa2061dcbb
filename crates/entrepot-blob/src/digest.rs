//! Content digests in the `algorithm:hex` form OCI, npm and the metadata store share.
//!
//! Parsing follows the OCI image-spec grammar so the container registry can tell a
//! malformed digest (`DIGEST_INVALID`) from a well-formed one we do not support
//! (`UNSUPPORTED`):
//!
//! ```text
//! digest    ::= algorithm ":" encoded
//! algorithm ::= component ([+._-] component)*      component ::= [a-z0-9]+
//! encoded   ::= [a-zA-Z0-9=_-]+
//! ```
//!
//! For the two algorithms we support, the encoded part must additionally be lowercase hex
//! of the exact length (64 for sha256, 128 for sha512); the spec forbids uppercase there.

use std::fmt;
use std::str::FromStr;

/// A hash algorithm the store can compute and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    Sha256,
    Sha512,
}

impl DigestAlgorithm {
    /// The name used before the `:` in a digest string.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the lowercase hex encoding of a digest of this algorithm.
    pub const fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DigestAlgorithm {
    type Err = DigestParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sha256" => Ok(Self::Sha256),
            "sha512" => Ok(Self::Sha512),
            _ if is_algorithm_syntax(s) => {
                Err(DigestParseError::UnsupportedAlgorithm(s.to_owned()))
            }
            _ => Err(DigestParseError::InvalidFormat("malformed algorithm")),
        }
    }
}

/// Why a digest string was rejected.
///
/// The two variants map to different OCI error codes, which is why they are kept apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestParseError {
    /// Well-formed, but the algorithm is neither sha256 nor sha512 (OCI `UNSUPPORTED`).
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// Not a digest at all, or a wrong-length / non-lowercase-hex value for a known
    /// algorithm (OCI `DIGEST_INVALID`). The payload says what was wrong, never echoing
    /// the (untrusted) input.
    #[error("invalid digest: {0}")]
    InvalidFormat(&'static str),
}

/// A validated digest: a supported algorithm plus its lowercase hex value.
///
/// Fields are private so every `Digest` in the program is known to be well-formed and can
/// be used as (part of) a storage key without re-validation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    hex: String,
}

impl Digest {
    /// Builds a digest from an algorithm and its hex value, validating the hex.
    pub fn new(
        algorithm: DigestAlgorithm,
        hex: impl Into<String>,
    ) -> Result<Self, DigestParseError> {
        let hex = hex.into();
        check_hex(algorithm, &hex)?;
        Ok(Self { algorithm, hex })
    }

    /// Shorthand for `Digest::new(DigestAlgorithm::Sha256, hex)`.
    pub fn sha256(hex: impl Into<String>) -> Result<Self, DigestParseError> {
        Self::new(DigestAlgorithm::Sha256, hex)
    }

    /// Shorthand for `Digest::new(DigestAlgorithm::Sha512, hex)`.
    pub fn sha512(hex: impl Into<String>) -> Result<Self, DigestParseError> {
        Self::new(DigestAlgorithm::Sha512, hex)
    }

    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The lowercase hex value, without the `algorithm:` prefix.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    pub fn into_hex(self) -> String {
        self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl FromStr for Digest {
    type Err = DigestParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (algorithm, encoded) = s
            .split_once(':')
            .ok_or(DigestParseError::InvalidFormat("missing ':' separator"))?;
        if !is_algorithm_syntax(algorithm) {
            return Err(DigestParseError::InvalidFormat("malformed algorithm"));
        }
        // Checked before the algorithm is matched so garbage after an unknown algorithm is
        // still reported as invalid rather than unsupported, as the OCI spec orders them.
        if encoded.is_empty()
            || !encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
        {
            return Err(DigestParseError::InvalidFormat("malformed encoded value"));
        }
        let algorithm: DigestAlgorithm = algorithm.parse()?;
        Self::new(algorithm, encoded)
    }
}

/// Validates a bare sha256 hex string, the store's canonical blob key.
pub fn validate_sha256_hex(hex: &str) -> Result<(), DigestParseError> {
    check_hex(DigestAlgorithm::Sha256, hex)
}

fn check_hex(algorithm: DigestAlgorithm, hex: &str) -> Result<(), DigestParseError> {
    if hex.len() != algorithm.hex_len() {
        return Err(DigestParseError::InvalidFormat(
            "wrong length for algorithm",
        ));
    }
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(DigestParseError::InvalidFormat("not lowercase hex"));
    }
    Ok(())
}

fn is_algorithm_syntax(s: &str) -> bool {
    let is_component_byte = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !s.is_empty()
        && s.split(['+', '.', '_', '-'])
            .all(|component| !component.is_empty() && component.bytes().all(is_component_byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn invalid(s: &str) -> bool {
        matches!(s.parse::<Digest>(), Err(DigestParseError::InvalidFormat(_)))
    }

    fn unsupported(s: &str) -> bool {
        matches!(
            s.parse::<Digest>(),
            Err(DigestParseError::UnsupportedAlgorithm(_))
        )
    }

    #[test]
    fn parses_sha256_and_round_trips() {
        let s = format!("sha256:{EMPTY_SHA256}");
        let d: Digest = s.parse().unwrap();
        assert_eq!(d.algorithm(), DigestAlgorithm::Sha256);
        assert_eq!(d.hex(), EMPTY_SHA256);
        assert_eq!(d.to_string(), s);
    }

    #[test]
    fn parses_sha512() {
        let hex = "ab".repeat(64);
        let d: Digest = format!("sha512:{hex}").parse().unwrap();
        assert_eq!(d.algorithm(), DigestAlgorithm::Sha512);
        assert_eq!(d.hex(), hex);
        assert_eq!(d.to_string(), format!("sha512:{hex}"));
    }

    #[test]
    fn rejects_uppercase_hex_as_invalid() {
        assert!(invalid(&format!("sha256:{}", EMPTY_SHA256.to_uppercase())));
        assert!(invalid(&format!("sha256:{}A", &EMPTY_SHA256[..63])));
    }

    #[test]
    fn rejects_wrong_length_as_invalid() {
        assert!(invalid(&format!("sha256:{}", &EMPTY_SHA256[..63])));
        assert!(invalid(&format!("sha256:{EMPTY_SHA256}0")));
        // A sha256-length value labelled sha512 is a wrong-length sha512.
        assert!(invalid(&format!("sha512:{EMPTY_SHA256}")));
    }

    #[test]
    fn rejects_non_hex_as_invalid() {
        assert!(invalid(&format!("sha256:{}g", &EMPTY_SHA256[..63])));
        assert!(invalid(&format!("sha256:{}=", &EMPTY_SHA256[..63])));
    }

    #[test]
    fn unknown_but_well_formed_algorithm_is_unsupported() {
        assert!(unsupported(&format!("sha384:{EMPTY_SHA256}")));
        assert!(unsupported("blake3:abcdef"));
        assert!(unsupported(
            "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"
        ));
        assert_eq!(
            "md5:abc".parse::<Digest>(),
            Err(DigestParseError::UnsupportedAlgorithm("md5".into()))
        );
    }

    #[test]
    fn malformed_strings_are_invalid() {
        for s in [
            "",
            ":",
            "sha256",
            "sha256:",
            EMPTY_SHA256,
            "SHA256:abc",
            "Sha256:abc",
            ":abc",
            "sha256-:abc",
            "sha..256:abc",
            "md5:abc/def",
            "md5:ab:cd",
            " sha256:abc",
        ] {
            assert!(invalid(s), "{s:?} should be InvalidFormat");
        }
        assert!(invalid(&format!("sha256:{EMPTY_SHA256} ")));
        assert!(invalid(&format!("sha256:{EMPTY_SHA256}\n")));
    }

    #[test]
    fn constructors_validate() {
        assert!(Digest::sha256(EMPTY_SHA256).is_ok());
        assert!(Digest::sha256("abc").is_err());
        assert!(Digest::sha512(EMPTY_SHA256).is_err());
        assert!(validate_sha256_hex(EMPTY_SHA256).is_ok());
        assert!(validate_sha256_hex("../../etc/passwd").is_err());
    }

    #[test]
    fn algorithm_from_str() {
        assert_eq!("sha256".parse(), Ok(DigestAlgorithm::Sha256));
        assert_eq!("sha512".parse(), Ok(DigestAlgorithm::Sha512));
        assert!(matches!(
            "sha1".parse::<DigestAlgorithm>(),
            Err(DigestParseError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            "SHA1".parse::<DigestAlgorithm>(),
            Err(DigestParseError::InvalidFormat(_))
        ));
    }
}
