//! Upload `Content-Range` and blob `Range` headers.
//!
//! Chunked uploads send `Content-Range: <start>-<end>` (inclusive, no unit), as the distribution
//! spec writes it; some clients put HTTP's `bytes ` / `bytes=` in front or a `/<total>` behind,
//! which we accept because the numbers mean the same. Blob GETs use HTTP's
//! `Range: bytes=<first>-<last>` with one range; several ranges are refused rather than answered
//! with a multipart body no registry client asks for.

/// Why a range header was refused; every variant answers `RANGE_INVALID` (416).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("malformed range")]
    Malformed,
    #[error("range end is before its start")]
    Inverted,
    #[error("only a single range is supported")]
    MultipleRanges,
    #[error("range not satisfiable for this blob")]
    Unsatisfiable,
}

/// An upload chunk's position: bytes `start..=end` of the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: u64,
    pub end: u64,
}

impl ContentRange {
    /// Number of bytes the chunk claims to carry (saturating: `0-18446744073709551615` would be
    /// one more byte than a `u64` counts, and no such chunk can arrive anyway).
    pub fn len(&self) -> u64 {
        (self.end - self.start).saturating_add(1)
    }

    /// Never true: a parsed range holds at least one byte. Present for clippy's `len` rule.
    pub fn is_empty(&self) -> bool {
        false
    }
}

fn number(s: &str) -> Result<u64, RangeError> {
    // `u64::from_str` accepts a leading `+`; HTTP does not.
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RangeError::Malformed);
    }
    s.parse().map_err(|_| RangeError::Malformed)
}

/// Parses an upload `Content-Range` value.
pub fn parse_content_range(value: &str) -> Result<ContentRange, RangeError> {
    let value = value.trim();
    let value = value
        .strip_prefix("bytes=")
        .or_else(|| value.strip_prefix("bytes "))
        .unwrap_or(value)
        .trim_start();
    let value = match value.split_once('/') {
        Some((range, total)) if total == "*" || number(total).is_ok() => range,
        Some(_) => return Err(RangeError::Malformed),
        None => value,
    };
    let (start, end) = value.split_once('-').ok_or(RangeError::Malformed)?;
    let (start, end) = (number(start)?, number(end)?);
    if end < start {
        return Err(RangeError::Inverted);
    }
    Ok(ContentRange { start, end })
}

/// A single byte range of a blob GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=a-b`, inclusive.
    FromTo(u64, u64),
    /// `bytes=a-`: from `a` to the end.
    From(u64),
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The inclusive `(first, last)` byte positions within a blob of `size` bytes, as RFC 9110
    /// resolves them: an end past the blob is clamped, a start past it is unsatisfiable.
    pub fn resolve(self, size: u64) -> Result<(u64, u64), RangeError> {
        if size == 0 {
            return Err(RangeError::Unsatisfiable);
        }
        match self {
            Self::FromTo(a, b) if a < size => Ok((a, b.min(size - 1))),
            Self::From(a) if a < size => Ok((a, size - 1)),
            Self::Suffix(n) if n > 0 => Ok((size - n.min(size), size - 1)),
            _ => Err(RangeError::Unsatisfiable),
        }
    }
}

/// Parses a blob GET `Range` value.
pub fn parse_range(value: &str) -> Result<ByteRange, RangeError> {
    let spec = value
        .trim()
        .strip_prefix("bytes=")
        .ok_or(RangeError::Malformed)?
        .trim();
    if spec.contains(',') {
        return Err(RangeError::MultipleRanges);
    }
    let (a, b) = spec.split_once('-').ok_or(RangeError::Malformed)?;
    match (a.trim(), b.trim()) {
        ("", n) => Ok(ByteRange::Suffix(number(n)?)),
        (a, "") => Ok(ByteRange::From(number(a)?)),
        (a, b) => {
            let (a, b) = (number(a)?, number(b)?);
            if b < a {
                return Err(RangeError::Inverted);
            }
            Ok(ByteRange::FromTo(a, b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        let ok = [
            ("0-230", 0, 230),
            ("0-0", 0, 0),
            ("231-520", 231, 520),
            ("bytes=0-99", 0, 99),
            ("bytes 0-99", 0, 99),
            ("bytes 0-99/100", 0, 99),
            ("0-99/*", 0, 99),
            (" 5-9 ", 5, 9),
            ("0-18446744073709551615", 0, u64::MAX),
        ];
        for (input, start, end) in ok {
            assert_eq!(
                parse_content_range(input),
                Ok(ContentRange { start, end }),
                "{input:?}"
            );
        }
        assert_eq!(parse_content_range("10-19").unwrap().len(), 10);
        assert_eq!(parse_content_range("0-0").unwrap().len(), 1);
        assert_eq!(
            parse_content_range(&format!("0-{}", u64::MAX))
                .unwrap()
                .len(),
            u64::MAX
        );
        let bad = [
            ("", RangeError::Malformed),
            ("5", RangeError::Malformed),
            ("-5", RangeError::Malformed),
            ("5-", RangeError::Malformed),
            ("a-b", RangeError::Malformed),
            ("+1-2", RangeError::Malformed),
            ("1-2-3", RangeError::Malformed),
            ("0-99/x", RangeError::Malformed),
            ("0-18446744073709551616", RangeError::Malformed),
            ("bytes=", RangeError::Malformed),
            ("9-5", RangeError::Inverted),
        ];
        for (input, expected) in bad {
            assert_eq!(parse_content_range(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn byte_ranges() {
        let ok = [
            ("bytes=0-99", ByteRange::FromTo(0, 99)),
            ("bytes=5-5", ByteRange::FromTo(5, 5)),
            ("bytes=100-", ByteRange::From(100)),
            ("bytes=-50", ByteRange::Suffix(50)),
            (" bytes= 1 - 2 ", ByteRange::FromTo(1, 2)),
        ];
        for (input, expected) in ok {
            assert_eq!(parse_range(input), Ok(expected), "{input:?}");
        }
        let bad = [
            ("0-99", RangeError::Malformed),
            ("items=0-1", RangeError::Malformed),
            ("bytes=", RangeError::Malformed),
            ("bytes=-", RangeError::Malformed),
            ("bytes=a-1", RangeError::Malformed),
            ("bytes=1", RangeError::Malformed),
            ("bytes=0-1,5-6", RangeError::MultipleRanges),
            ("bytes=9-1", RangeError::Inverted),
        ];
        for (input, expected) in bad {
            assert_eq!(parse_range(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn resolving() {
        let cases = [
            (ByteRange::FromTo(0, 9), 100, Ok((0, 9))),
            (ByteRange::FromTo(90, 200), 100, Ok((90, 99))),
            (
                ByteRange::FromTo(100, 200),
                100,
                Err(RangeError::Unsatisfiable),
            ),
            (ByteRange::From(0), 100, Ok((0, 99))),
            (ByteRange::From(99), 100, Ok((99, 99))),
            (ByteRange::From(100), 100, Err(RangeError::Unsatisfiable)),
            (ByteRange::Suffix(10), 100, Ok((90, 99))),
            (ByteRange::Suffix(500), 100, Ok((0, 99))),
            (ByteRange::Suffix(0), 100, Err(RangeError::Unsatisfiable)),
            (ByteRange::From(0), 0, Err(RangeError::Unsatisfiable)),
        ];
        for (range, size, expected) in cases {
            assert_eq!(range.resolve(size), expected, "{range:?} of {size}");
        }
    }
}
