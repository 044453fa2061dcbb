//! Token format: generation, offline validation, and the hash that is stored.
//!
//! ```text
//! etp_ 0123456789abcdefghijABCDEFGHIJ 1a2B3c
//! ^^^^ ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ ^^^^^^
//! kind 30 base62 chars from the OS RNG base62 CRC32 of the 34 chars before it
//! ```
//!
//! Forty characters in all. The randomness is ~178 bits, which is why a plain sha256 is the
//! right at-rest hash: there is nothing to brute-force, and verifying costs microseconds.

use std::fmt;

use rand::Rng;
use rand::distributions::Alphanumeric;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// Length of a whole token.
pub const TOKEN_LEN: usize = PREFIX_LEN + RANDOM_LEN + CHECKSUM_LEN;
const PREFIX_LEN: usize = 4;
const RANDOM_LEN: usize = 30;
const CHECKSUM_LEN: usize = 6;

/// Base62 digits in value order; the checksum is written with these.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What a token stands for. The prefix says it, so a token is recognisable on sight (and by
/// secret scanners) and a lookup can go straight to the right table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A user's personal access token, with scopes, optional expiry, revocable.
    Personal,
    /// A short-lived token minted for one repository's workflow run (`packages: read|write`).
    Workflow,
}

impl TokenKind {
    pub const ALL: [TokenKind; 2] = [TokenKind::Personal, TokenKind::Workflow];

    /// The four-character prefix, underscore included.
    pub const fn prefix(self) -> &'static str {
        match self {
            TokenKind::Personal => "etp_",
            TokenKind::Workflow => "etw_",
        }
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.prefix() == prefix)
    }
}

/// A freshly generated token. `secret` is shown to its owner once and then dropped; `hash` is
/// what the database keeps.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub kind: TokenKind,
    pub secret: Secret,
    pub hash: TokenHash,
}

/// Generates a new token of `kind` from the operating system's random number generator.
pub fn generate(kind: TokenKind) -> NewToken {
    let mut token = String::with_capacity(TOKEN_LEN);
    token.push_str(kind.prefix());
    // `Alphanumeric` samples [A-Za-z0-9] uniformly (it rejects out-of-range bytes), which is
    // exactly the base62 alphabet.
    token.extend(
        OsRng
            .sample_iter(&Alphanumeric)
            .take(RANDOM_LEN)
            .map(char::from),
    );
    let checksum = checksum(token.as_bytes());
    token.push_str(&checksum);
    let hash = TokenHash::of(&token);
    NewToken {
        kind,
        secret: Secret::new(token),
        hash,
    }
}

/// Why a string is not a well-formed token. The messages never include the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    #[error("a token is {TOKEN_LEN} characters long")]
    WrongLength,
    #[error("unknown token prefix")]
    UnknownPrefix,
    #[error("a token contains only letters and digits after its prefix")]
    InvalidCharacter,
    #[error("token checksum does not match")]
    ChecksumMismatch,
}

/// A string that has the shape of one of our tokens. Whether it is a *valid* token (exists, not
/// expired, not revoked) is for the store to say, by looking up [`ParsedToken::hash`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToken {
    pub kind: TokenKind,
    secret: Secret,
}

impl ParsedToken {
    /// The key to look the token up by.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.secret.expose())
    }

    pub fn secret(&self) -> &Secret {
        &self.secret
    }
}

/// Checks prefix, length, alphabet and checksum; no database is involved, so garbage and typos
/// are refused for the price of a CRC32.
pub fn parse(candidate: &str) -> Result<ParsedToken, TokenFormatError> {
    // Byte length first: it bounds the work for arbitrary input, and a non-ASCII string of the
    // right byte length fails the alphabet check below.
    if candidate.len() != TOKEN_LEN {
        return Err(TokenFormatError::WrongLength);
    }
    let bytes = candidate.as_bytes();
    let (prefix, rest) = bytes.split_at(PREFIX_LEN);
    let kind = std::str::from_utf8(prefix)
        .ok()
        .and_then(TokenKind::from_prefix)
        .ok_or(TokenFormatError::UnknownPrefix)?;
    if !rest.iter().all(u8::is_ascii_alphanumeric) {
        return Err(TokenFormatError::InvalidCharacter);
    }
    let (body, check) = bytes.split_at(TOKEN_LEN - CHECKSUM_LEN);
    if checksum(body).as_bytes() != check {
        return Err(TokenFormatError::ChecksumMismatch);
    }
    Ok(ParsedToken {
        kind,
        secret: Secret::new(candidate),
    })
}

/// Whether `candidate` has a token's shape. Cheap; used to pick the token out of a Basic pair.
pub fn looks_like_token(candidate: &str) -> bool {
    parse(candidate).is_ok()
}

/// What the database stores for a token: the sha256 of the whole token, hex-encoded (the unique
/// lookup key), and a short display hint for listings.
///
/// Neither part is secret: the hash cannot be reversed, and the hint is the public prefix plus
/// the last four characters, which belong to the checksum.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash {
    sha256_hex: String,
    hint: String,
}

impl TokenHash {
    fn of(token: &str) -> Self {
        let sha256_hex = hex::encode(Sha256::digest(token.as_bytes()));
        // Only called on generated or parsed tokens, which are ASCII and 40 characters long,
        // so these slices are in bounds and on character boundaries.
        let hint = format!(
            "{}…{}",
            &token[..PREFIX_LEN],
            &token[token.len() - HINT_TAIL..]
        );
        Self { sha256_hex, hint }
    }

    /// The lowercase hex sha256 of the token: 64 characters, unique-indexed in the database.
    pub fn sha256_hex(&self) -> &str {
        &self.sha256_hex
    }

    /// For listings, e.g. `etp_…x9Qz`.
    pub fn hint(&self) -> &str {
        &self.hint
    }
}

const HINT_TAIL: usize = 4;

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sha256_hex)
    }
}

/// The 6-character, zero-padded base62 rendering of the CRC32 of `body`.
/// 62^6 ≈ 5.7e10 > 2^32, so six digits always suffice.
fn checksum(body: &[u8]) -> String {
    let mut value = crc32fast::hash(body);
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_tokens_have_the_documented_shape() {
        for kind in TokenKind::ALL {
            let token = generate(kind);
            let text = token.secret.expose();
            assert_eq!(text.len(), TOKEN_LEN);
            assert!(text.starts_with(kind.prefix()));
            assert!(
                text[PREFIX_LEN..]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric())
            );
            let parsed = parse(text).expect("a generated token parses");
            assert_eq!(parsed.kind, kind);
            assert_eq!(parsed.hash(), token.hash);
        }
    }

    #[test]
    fn generated_tokens_differ() {
        let a = generate(TokenKind::Personal);
        let b = generate(TokenKind::Personal);
        assert_ne!(a.secret, b.secret);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn hash_is_sha256_hex_of_the_whole_token_and_hint_is_prefix_and_tail() {
        let token = generate(TokenKind::Workflow);
        let text = token.secret.expose();
        let expected = hex::encode(Sha256::digest(text.as_bytes()));
        assert_eq!(token.hash.sha256_hex(), expected);
        assert_eq!(token.hash.sha256_hex().len(), 64);
        assert_eq!(token.hash.hint(), format!("etw_…{}", &text[36..]));
        assert!(!token.hash.hint().contains(&text[4..36]));
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let token = generate(TokenKind::Personal);
        let text = token.secret.expose().to_owned();
        let parsed = parse(&text).unwrap();
        for rendered in [format!("{token:?}"), format!("{parsed:?}")] {
            assert!(!rendered.contains(&text[4..]), "{rendered}");
        }
    }

    #[test]
    fn checksum_is_zero_padded_base62() {
        assert_eq!(checksum(b""), "000000"); // crc32("") = 0
        // crc32("a") = 0xe8b7be43 = 3904355907, which is "4GEHKN" in base62 with 0-9A-Za-z.
        assert_eq!(checksum(b"a"), "4GEHKN");
    }

    /// A token built by hand with the documented algorithm, so the format is pinned down.
    fn forge(prefix: &str, random: &str) -> String {
        let body = format!("{prefix}{random}");
        let sum = checksum(body.as_bytes());
        format!("{body}{sum}")
    }

    #[test]
    fn parse_table() {
        let random = "abcdefghijABCDEFGHIJ0123456789";
        let good = forge("etp_", random);
        let mut bad_checksum = good.clone();
        let last = bad_checksum.pop().unwrap();
        bad_checksum.push(if last == 'a' { 'b' } else { 'a' });
        let cases: Vec<(&str, String, Result<TokenKind, TokenFormatError>)> = vec![
            ("personal", good.clone(), Ok(TokenKind::Personal)),
            ("workflow", forge("etw_", random), Ok(TokenKind::Workflow)),
            ("empty", String::new(), Err(TokenFormatError::WrongLength)),
            (
                "one short",
                good[..39].to_owned(),
                Err(TokenFormatError::WrongLength),
            ),
            (
                "one long",
                format!("{good}a"),
                Err(TokenFormatError::WrongLength),
            ),
            (
                "github prefix",
                forge("ghp_", random),
                Err(TokenFormatError::UnknownPrefix),
            ),
            (
                "upper-case prefix",
                forge("ETP_", random),
                Err(TokenFormatError::UnknownPrefix),
            ),
            (
                "dash in body",
                forge("etp_", "abcdefghij-BCDEFGHIJ0123456789"),
                Err(TokenFormatError::InvalidCharacter),
            ),
            (
                "non-ASCII of the right byte length",
                forge("etp_", "abcdefghijABCDEFGHIJ01234567é"),
                Err(TokenFormatError::InvalidCharacter),
            ),
            (
                "checksum changed",
                bad_checksum,
                Err(TokenFormatError::ChecksumMismatch),
            ),
            (
                "body changed",
                format!("etp_b{}", &good[5..]),
                Err(TokenFormatError::ChecksumMismatch),
            ),
            (
                "prefix swapped keeps the checksum of the other kind",
                format!("etw_{}", &good[4..]),
                Err(TokenFormatError::ChecksumMismatch),
            ),
        ];
        for (name, input, expected) in cases {
            let actual = parse(&input).map(|parsed| parsed.kind);
            assert_eq!(actual, expected, "case {name:?}");
        }
    }

    #[test]
    fn errors_never_echo_the_input() {
        let token = generate(TokenKind::Personal);
        let mut text = token.secret.expose().to_owned();
        text.pop();
        text.push('!');
        let error = parse(&text).unwrap_err();
        assert!(!error.to_string().contains(&text[4..20]));
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in ".{0,64}") {
            let _ = parse(&input);
        }

        #[test]
        fn any_single_character_change_is_caught(position in 0usize..TOKEN_LEN, replacement in "[A-Za-z0-9_]") {
            let token = generate(TokenKind::Personal);
            let text = token.secret.expose();
            let mut changed = text.as_bytes().to_vec();
            changed[position] = replacement.as_bytes()[0];
            let changed = String::from_utf8(changed).unwrap();
            prop_assume!(changed != text);
            prop_assert!(parse(&changed).is_err());
        }
    }
}
