//! The checksum side files of a Maven repository: `.md5 .sha1 .sha256 .sha512` next to every file.

use md5::Digest as _;

/// A checksum algorithm Maven repositories carry as a side file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumKind {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl ChecksumKind {
    pub const ALL: [ChecksumKind; 4] = [Self::Md5, Self::Sha1, Self::Sha256, Self::Sha512];

    /// The side file's extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the lowercase hex digest.
    pub const fn hex_len(self) -> usize {
        match self {
            Self::Md5 => 32,
            Self::Sha1 => 40,
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }

    /// Splits `hello-1.0.jar.sha1` into `hello-1.0.jar` and `Sha1`.
    pub fn split_file_name(name: &str) -> Option<(&str, ChecksumKind)> {
        Self::ALL.into_iter().find_map(|kind| {
            name.strip_suffix(kind.extension())
                .and_then(|rest| rest.strip_suffix('.'))
                .filter(|base| !base.is_empty())
                .map(|base| (base, kind))
        })
    }

    /// The lowercase hex digest of `bytes` (for what the server renders itself, such as metadata).
    pub fn digest_hex(self, bytes: &[u8]) -> String {
        match self {
            Self::Md5 => hex::encode(md5::Md5::digest(bytes)),
            Self::Sha1 => hex::encode(sha1::Sha1::digest(bytes)),
            Self::Sha256 => hex::encode(sha2::Sha256::digest(bytes)),
            Self::Sha512 => hex::encode(sha2::Sha512::digest(bytes)),
        }
    }

    /// The digest a client uploaded as a side file: the first word (some tools append `  file-name`), lowercased,
    /// of the right length and hex.
    pub fn parse_side_file(self, body: &[u8]) -> Option<String> {
        let text = std::str::from_utf8(body).ok()?;
        let word = text.split_whitespace().next()?;
        if word.len() != self.hex_len() || !word.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(word.to_ascii_lowercase())
    }
}

impl std::fmt::Display for ChecksumKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_file_names() {
        assert_eq!(
            ChecksumKind::split_file_name("hello-1.0.jar.sha1"),
            Some(("hello-1.0.jar", ChecksumKind::Sha1))
        );
        assert_eq!(
            ChecksumKind::split_file_name("maven-metadata.xml.sha512"),
            Some(("maven-metadata.xml", ChecksumKind::Sha512))
        );
        assert_eq!(ChecksumKind::split_file_name("hello-1.0.jar"), None);
        assert_eq!(ChecksumKind::split_file_name(".md5"), None);
        assert_eq!(ChecksumKind::split_file_name("x.sha"), None);
    }

    #[test]
    fn digests_of_known_input() {
        assert_eq!(
            ChecksumKind::Md5.digest_hex(b"abc"),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            ChecksumKind::Sha1.digest_hex(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            ChecksumKind::Sha256.digest_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(ChecksumKind::Sha512.digest_hex(b"abc").len(), 128);
    }

    #[test]
    fn side_file_bodies() {
        let sha1 = "a9993e364706816aba3e25717850c26c9cd0d89d";
        assert_eq!(
            ChecksumKind::Sha1
                .parse_side_file(sha1.as_bytes())
                .as_deref(),
            Some(sha1)
        );
        let with_name = format!("{}  hello.jar\n", sha1.to_uppercase());
        assert_eq!(
            ChecksumKind::Sha1
                .parse_side_file(with_name.as_bytes())
                .as_deref(),
            Some(sha1)
        );
        assert_eq!(ChecksumKind::Sha1.parse_side_file(b"nope"), None);
        assert_eq!(ChecksumKind::Md5.parse_side_file(sha1.as_bytes()), None);
        assert_eq!(ChecksumKind::Sha1.parse_side_file(&[0xff, 0xfe]), None);
        assert_eq!(ChecksumKind::Sha1.parse_side_file(b""), None);
    }
}
