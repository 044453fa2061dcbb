//! Timestamped SNAPSHOT file versions: `1.1.0-SNAPSHOT` is deployed as `1.1.0-20261121.050659-3`.
//!
//! Maven and Gradle pick the timestamp and the build number themselves (one more than the version-level metadata
//! says), then upload files named with it; the version-level `maven-metadata.xml` points at the newest build.

use std::fmt;

/// The `-SNAPSHOT` suffix of a snapshot version.
pub const SNAPSHOT_SUFFIX: &str = "-SNAPSHOT";

/// `YYYYMMDD.HHMMSS` and the build number of a timestamped snapshot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotStamp {
    /// `20261121.050659`
    pub timestamp: String,
    pub build: u32,
}

impl SnapshotStamp {
    /// Parses `20261121.050659-3` (what replaces `SNAPSHOT` in a timestamped version).
    pub fn parse(text: &str) -> Option<Self> {
        let (timestamp, build) = text.split_once('-')?;
        if !is_timestamp(timestamp)
            || build.is_empty()
            || !build.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let build: u32 = build.parse().ok()?;
        if build == 0 {
            return None;
        }
        Some(Self {
            timestamp: timestamp.to_owned(),
            build,
        })
    }

    /// `20261121050659`: the `<updated>`/`<lastUpdated>` form of the timestamp.
    pub fn updated(&self) -> String {
        self.timestamp.replace('.', "")
    }
}

impl fmt::Display for SnapshotStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.timestamp, self.build)
    }
}

/// `YYYYMMDD.HHMMSS` with plausible month, day, hour, minute and second.
fn is_timestamp(text: &str) -> bool {
    let Some((date, time)) = text.split_once('.') else {
        return false;
    };
    if date.len() != 8 || time.len() != 6 {
        return false;
    }
    if !date.bytes().chain(time.bytes()).all(|b| b.is_ascii_digit()) {
        return false;
    }
    let num = |s: &str| s.parse::<u32>().unwrap_or(99);
    (1..=12).contains(&num(&date[4..6]))
        && (1..=31).contains(&num(&date[6..8]))
        && num(&time[0..2]) < 24
        && num(&time[2..4]) < 60
        && num(&time[4..6]) < 61
}

/// The base of a snapshot version: `1.1.0` for `1.1.0-SNAPSHOT`; `None` for a release.
pub fn base_version(version: &str) -> Option<&str> {
    version.strip_suffix(SNAPSHOT_SUFFIX)
}

/// The timestamped version of `version` (a `-SNAPSHOT`) for a stamp: `1.1.0-20261121.050659-3`.
pub fn timestamped(version: &str, stamp: &SnapshotStamp) -> Option<String> {
    base_version(version).map(|base| format!("{base}-{stamp}"))
}

/// If `file_version` (the version part of a file name) is a timestamped form of the snapshot `version`, its stamp.
pub fn stamp_of(version: &str, file_version: &str) -> Option<SnapshotStamp> {
    let base = base_version(version)?;
    let rest = file_version.strip_prefix(base)?.strip_prefix('-')?;
    SnapshotStamp::parse(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stamps() {
        let stamp = SnapshotStamp::parse("20261121.050659-3").unwrap();
        assert_eq!(stamp.timestamp, "20261121.050659");
        assert_eq!(stamp.build, 3);
        assert_eq!(stamp.updated(), "20261121050659");
        assert_eq!(stamp.to_string(), "20261121.050659-3");
        for bad in [
            "20261121.050659",
            "20261121.050659-",
            "20261121.050659-0",
            "20261121-1",
            "2026112.050659-1",
            "20261321.050659-1",
            "20261121.250659-1",
            "20261121.050659-x",
            "SNAPSHOT",
        ] {
            assert_eq!(SnapshotStamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamped_versions() {
        let stamp = SnapshotStamp::parse("20261121.050705-2").unwrap();
        assert_eq!(
            timestamped("1.1.0-SNAPSHOT", &stamp).as_deref(),
            Some("1.1.0-20261121.050705-2")
        );
        assert_eq!(timestamped("1.1.0", &stamp), None);
        assert_eq!(
            stamp_of("1.1.0-SNAPSHOT", "1.1.0-20261121.050705-2"),
            Some(stamp)
        );
        assert_eq!(stamp_of("1.1.0-SNAPSHOT", "1.1.0-SNAPSHOT"), None);
        assert_eq!(stamp_of("1.1.0-SNAPSHOT", "1.2.0-20261121.050705-2"), None);
        assert_eq!(stamp_of("1.1.0", "1.1.0-20261121.050705-2"), None);
    }

    #[test]
    fn stamps_order_by_time_then_build() {
        let a = SnapshotStamp::parse("20261121.050659-1").unwrap();
        let b = SnapshotStamp::parse("20261121.050705-2").unwrap();
        assert!(a < b);
    }
}
