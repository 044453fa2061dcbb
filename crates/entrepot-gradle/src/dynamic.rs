//! Dynamic version selectors, resolved against the versions `maven-metadata.xml` lists.
//!
//! Gradle resolves `1.+` by reading the artifact-level metadata and picking the highest version that matches; the
//! server lists versions in Maven's order, so what this module picks is what a client picks from that file.

use entrepot_maven::version::{MavenVersion, is_snapshot};

/// A parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `1.0.0`: that version only.
    Exact(String),
    /// `1.+` (prefix `1.`), or `+` (any version).
    Prefix(String),
    /// `latest.release`: the highest version that is not a SNAPSHOT.
    LatestRelease,
    /// `latest.integration`: the highest version.
    LatestIntegration,
    /// A Maven range such as `[1.0,2.0)`, `(,1.5]` or `[1.2]`.
    Range {
        lower: Option<(String, bool)>,
        upper: Option<(String, bool)>,
    },
}

/// Why a selector cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version selector {0:?}")]
pub struct SelectorError(pub String);

impl Selector {
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let text = text.trim();
        let invalid = || SelectorError(text.to_owned());
        if text.is_empty() {
            return Err(invalid());
        }
        match text {
            "latest.release" => return Ok(Self::LatestRelease),
            "latest.integration" => return Ok(Self::LatestIntegration),
            "+" => return Ok(Self::Prefix(String::new())),
            _ => {}
        }
        if let Some(prefix) = text.strip_suffix('+') {
            if prefix.contains('+') {
                return Err(invalid());
            }
            return Ok(Self::Prefix(prefix.to_owned()));
        }
        let first = text.as_bytes()[0];
        if first == b'[' || first == b'(' || first == b']' {
            let last = *text.as_bytes().last().ok_or_else(invalid)?;
            if !matches!(last, b']' | b')' | b'[') || text.len() < 3 {
                return Err(invalid());
            }
            // Gradle also accepts `]a,b[` for exclusive bounds.
            let lower_inclusive = first == b'[';
            let upper_inclusive = last == b']';
            let inner = &text[1..text.len() - 1];
            let Some((low, high)) = inner.split_once(',') else {
                // `[1.2]`: exactly that version.
                if lower_inclusive && upper_inclusive && !inner.is_empty() {
                    return Ok(Self::Exact(inner.trim().to_owned()));
                }
                return Err(invalid());
            };
            if high.contains(',') {
                return Err(invalid());
            }
            let bound = |v: &str, inclusive: bool| {
                let v = v.trim();
                (!v.is_empty()).then(|| (v.to_owned(), inclusive))
            };
            return Ok(Self::Range {
                lower: bound(low, lower_inclusive),
                upper: bound(high, upper_inclusive),
            });
        }
        Ok(Self::Exact(text.to_owned()))
    }

    /// Whether `version` satisfies the selector.
    pub fn accepts(&self, version: &str) -> bool {
        match self {
            Self::Exact(exact) => MavenVersion::parse(exact) == MavenVersion::parse(version),
            Self::Prefix(prefix) => version.starts_with(prefix.as_str()),
            Self::LatestRelease => !is_snapshot(version),
            Self::LatestIntegration => true,
            Self::Range { lower, upper } => {
                let v = MavenVersion::parse(version);
                let above = lower.as_ref().is_none_or(|(low, inclusive)| {
                    let low = MavenVersion::parse(low);
                    if *inclusive { v >= low } else { v > low }
                });
                let below = upper.as_ref().is_none_or(|(high, inclusive)| {
                    let high = MavenVersion::parse(high);
                    if *inclusive { v <= high } else { v < high }
                });
                above && below
            }
        }
    }
}

/// The highest of `versions` (in Maven's order) that `selector` accepts.
pub fn select<'a>(versions: &'a [String], selector: &Selector) -> Option<&'a str> {
    versions
        .iter()
        .filter(|v| selector.accepts(v))
        .max_by_key(|v| MavenVersion::parse(v))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions() -> Vec<String> {
        [
            "1.0.0",
            "1.2.0",
            "1.10.0",
            "1.9.1",
            "2.0.0-SNAPSHOT",
            "2.0.0-rc1",
            "0.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn pick(selector: &str) -> Option<String> {
        select(&versions(), &Selector::parse(selector).unwrap()).map(str::to_owned)
    }

    #[test]
    fn prefixes_pick_the_highest_by_maven_order() {
        assert_eq!(pick("1.+").as_deref(), Some("1.10.0"));
        assert_eq!(pick("1.9.+").as_deref(), Some("1.9.1"));
        assert_eq!(pick("+").as_deref(), Some("2.0.0-SNAPSHOT"));
        assert_eq!(pick("3.+"), None);
    }

    #[test]
    fn latest_keywords() {
        assert_eq!(pick("latest.release").as_deref(), Some("2.0.0-rc1"));
        assert_eq!(
            pick("latest.integration").as_deref(),
            Some("2.0.0-SNAPSHOT")
        );
    }

    #[test]
    fn ranges() {
        // rc < snapshot < release in Maven order.
        assert_eq!(pick("[1.0,2.0)").as_deref(), Some("2.0.0-SNAPSHOT"));
        assert_eq!(pick("[1.0,1.10.0)").as_deref(), Some("1.9.1"));
        assert_eq!(pick("(,1.0.0]").as_deref(), Some("1.0.0"));
        assert_eq!(pick("(,1.0.0)").as_deref(), Some("0.9"));
        assert_eq!(pick("]1.0,1.2.0]").as_deref(), Some("1.2.0"));
        assert_eq!(pick("[1.2]").as_deref(), Some("1.2.0"));
        assert_eq!(pick("1.2").as_deref(), Some("1.2.0"));
    }

    #[test]
    fn bad_selectors() {
        for bad in ["", "[", "[1,2,3]", "(1.0)", "1.+.+", "[]"] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
    }
}
