//! Dist-tags: which tag names are acceptable, and how `latest` moves when versions come and go.
//!
//! npm resolves `npm install pkg` through `latest`, so the registry keeps it pointing at a live version at all times:
//! a package with versions always has a `latest`.

use std::collections::BTreeMap;

use semver::Version;
use thiserror::Error;

/// Dist-tags of a package: tag → version.
pub type DistTags = BTreeMap<String, String>;

pub const LATEST: &str = "latest";

/// Why a tag name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TagError {
    #[error("tag name is empty")]
    Empty,
    #[error(
        "tag name {0:?} must not be a valid SemVer range: choose a name such as `next` or `beta`"
    )]
    IsRange(String),
    #[error("tag name {0:?} may contain only letters, digits, `-`, `.` and `_`")]
    InvalidChar(String),
    #[error("tag name {0:?} is longer than 100 characters")]
    TooLong(String),
    #[error("a dist-tag must point at a version, sent as a JSON string such as \"1.0.0\"")]
    BadTarget,
}

/// Checks a tag name. npm refuses tags that parse as a SemVer range (`v1`, `1.x`, `2`) because `npm install pkg@v1`
/// would then be ambiguous; the character set is narrower than npm's so tags need no escaping in URLs.
pub fn validate_tag(tag: &str) -> Result<(), TagError> {
    if tag.is_empty() {
        return Err(TagError::Empty);
    }
    if tag.len() > 100 {
        return Err(TagError::TooLong(tag.to_owned()));
    }
    if !tag
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err(TagError::InvalidChar(tag.to_owned()));
    }
    if is_range(tag) {
        return Err(TagError::IsRange(tag.to_owned()));
    }
    Ok(())
}

/// Whether a tag made of `[A-Za-z0-9._-]` reads as a node-semver range. Within that alphabet a range can only be an
/// X-range or a (partial) version: `v`? then one to three parts of digits or `x`/`X`/`*`, then an optional prerelease
/// or build suffix. Erring towards "range" only refuses a tag, which is the safe side.
fn is_range(tag: &str) -> bool {
    let body = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    let core = body.split(['-', '+']).next().unwrap_or_default();
    if core.is_empty() {
        return false;
    }
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() <= 3
        && parts.iter().all(|part| {
            matches!(*part, "x" | "X")
                || (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Parses the body of `PUT /-/package/PKG/dist-tags/TAG`: npm sends the version as a JSON string (`"1.0.1"`).
/// Whether that version exists is for the server to check.
pub fn parse_tag_target(body: &[u8]) -> Result<String, TagError> {
    let target: String = serde_json::from_slice(body).map_err(|_| TagError::BadTarget)?;
    let target = target.trim();
    match Version::parse(target) {
        Ok(version) if version.to_string() == target => Ok(target.to_owned()),
        _ => Err(TagError::BadTarget),
    }
}

fn parse_all(versions: &[String]) -> Vec<Version> {
    versions
        .iter()
        .filter_map(|v| Version::parse(v).ok())
        .collect()
}

/// The version `latest` falls back to: the highest release, else the highest prerelease.
pub fn fallback_latest(versions: &[String]) -> Option<String> {
    let parsed = parse_all(versions);
    let release = parsed.iter().filter(|v| v.pre.is_empty()).max();
    release
        .or_else(|| parsed.iter().max())
        .map(ToString::to_string)
}

/// The dist-tags after publishing `new`. `requested` are the tags the publish body named (npm sends `latest`
/// unless `--tag` says otherwise). Tags other than `latest` always follow the request. `latest` is set on the first
/// publish whatever was requested, and moves to a higher release when the publish did not name another tag; a
/// prerelease never displaces an existing `latest`, and `latest` never goes backwards.
pub fn after_publish(current: &DistTags, new: &str, requested: &DistTags) -> DistTags {
    let mut tags = current.clone();
    for tag in requested.keys().filter(|tag| *tag != LATEST) {
        tags.insert(tag.clone(), new.to_owned());
    }
    let wants_latest = requested.is_empty() || requested.contains_key(LATEST);
    let new_version = Version::parse(new).ok();
    let moves = match tags.get(LATEST).and_then(|v| Version::parse(v).ok()) {
        None => true,
        Some(latest) => {
            wants_latest
                && new_version.as_ref().is_some_and(|new| {
                    new > &latest && (new.pre.is_empty() || !latest.pre.is_empty())
                })
        }
    };
    if moves {
        tags.insert(LATEST.to_owned(), new.to_owned());
    }
    tags
}

/// The dist-tags once only `remaining` versions are left: tags on removed versions go, and `latest` falls back.
pub fn after_removal(current: &DistTags, remaining: &[String]) -> DistTags {
    let mut tags: DistTags = current
        .iter()
        .filter(|(_, v)| remaining.contains(v))
        .map(|(t, v)| (t.clone(), v.clone()))
        .collect();
    if !tags.contains_key(LATEST)
        && let Some(latest) = fallback_latest(remaining)
    {
        tags.insert(LATEST.to_owned(), latest);
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    type Pairs<'a> = &'a [(&'a str, &'a str)];

    fn tags(pairs: Pairs) -> DistTags {
        pairs
            .iter()
            .map(|(t, v)| (t.to_string(), v.to_string()))
            .collect()
    }

    fn strings(versions: &[&str]) -> Vec<String> {
        versions.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn tag_names() {
        let ok = [
            "latest",
            "next",
            "beta",
            "legacy",
            "stable-1",
            "v1beta",
            "release_candidate",
            "x1",
            "1a",
            "canary.3",
        ];
        for tag in ok {
            assert_eq!(validate_tag(tag), Ok(()), "{tag}");
        }
        let ranges = [
            "v1",
            "1",
            "1.x",
            "1.2",
            "1.2.3",
            "V2",
            "x",
            "X",
            "1.2.x",
            "v1.2.3-beta.1",
            "1.0.0-rc.1",
            "1.x.x",
        ];
        for tag in ranges {
            assert_eq!(
                validate_tag(tag),
                Err(TagError::IsRange(tag.into())),
                "{tag}"
            );
        }
        let bad = [
            ("", TagError::Empty),
            ("a b", TagError::InvalidChar("a b".into())),
            ("^1", TagError::InvalidChar("^1".into())),
            ("1.0.0+b", TagError::InvalidChar("1.0.0+b".into())),
            ("a/b", TagError::InvalidChar("a/b".into())),
            ("é", TagError::InvalidChar("é".into())),
        ];
        for (tag, want) in bad {
            assert_eq!(validate_tag(tag), Err(want), "{tag}");
        }
        assert!(matches!(
            validate_tag(&"a".repeat(101)),
            Err(TagError::TooLong(_))
        ));
    }

    #[test]
    fn publish_moves_latest_sanely() {
        let latest = &[("latest", "1.0.0")][..];
        // (current, new, requested, expected)
        let cases: &[(Pairs, &str, Pairs, Pairs)] = &[
            (&[], "1.0.0", &[("latest", "1.0.0")], &[("latest", "1.0.0")]),
            (&[], "1.0.0", &[], &[("latest", "1.0.0")]),
            (
                &[],
                "1.0.0-beta.1",
                &[("beta", "1.0.0-beta.1")],
                &[("beta", "1.0.0-beta.1"), ("latest", "1.0.0-beta.1")],
            ),
            (
                latest,
                "1.1.0",
                &[("latest", "1.1.0")],
                &[("latest", "1.1.0")],
            ),
            (latest, "1.1.0", &[], &[("latest", "1.1.0")]),
            (
                latest,
                "0.9.0",
                &[("latest", "0.9.0")],
                &[("latest", "1.0.0")],
            ),
            (
                latest,
                "2.0.0-rc.1",
                &[("latest", "2.0.0-rc.1")],
                &[("latest", "1.0.0")],
            ),
            (
                latest,
                "2.0.0",
                &[("next", "2.0.0")],
                &[("latest", "1.0.0"), ("next", "2.0.0")],
            ),
            (
                &[("latest", "1.0.0-alpha")],
                "1.0.0-beta",
                &[],
                &[("latest", "1.0.0-beta")],
            ),
            (
                &[("latest", "1.0.0-alpha")],
                "1.0.0",
                &[],
                &[("latest", "1.0.0")],
            ),
            (
                &[("latest", "1.0.0"), ("next", "1.1.0-rc.1")],
                "1.1.0-rc.2",
                &[("next", "1.1.0-rc.2")],
                &[("latest", "1.0.0"), ("next", "1.1.0-rc.2")],
            ),
        ];
        for (current, new, requested, want) in cases {
            assert_eq!(
                after_publish(&tags(current), new, &tags(requested)),
                tags(want),
                "{current:?} + {new} {requested:?}"
            );
        }
    }

    #[test]
    fn removal_falls_back() {
        let cases: &[(Pairs, &[&str], Pairs)] = &[
            (
                &[("latest", "1.1.0")],
                &["1.0.0", "1.0.1"],
                &[("latest", "1.0.1")],
            ),
            (
                &[("latest", "1.1.0")],
                &["1.0.0", "2.0.0-rc.1"],
                &[("latest", "1.0.0")],
            ),
            (
                &[("latest", "1.1.0")],
                &["2.0.0-rc.1", "2.0.0-rc.2"],
                &[("latest", "2.0.0-rc.2")],
            ),
            (&[("latest", "1.1.0")], &[], &[]),
            (
                &[("latest", "1.0.0"), ("legacy", "0.1.0")],
                &["1.0.0"],
                &[("latest", "1.0.0")],
            ),
            (
                &[("latest", "1.0.0"), ("legacy", "0.1.0")],
                &["1.0.0", "0.1.0"],
                &[("latest", "1.0.0"), ("legacy", "0.1.0")],
            ),
            (
                &[("beta", "2.0.0-b")],
                &["1.0.0", "2.0.0-b"],
                &[("beta", "2.0.0-b"), ("latest", "1.0.0")],
            ),
        ];
        for (current, remaining, want) in cases {
            assert_eq!(
                after_removal(&tags(current), &strings(remaining)),
                tags(want),
                "{current:?} {remaining:?}"
            );
        }
    }

    #[test]
    fn tag_targets() {
        let cases: &[(&[u8], Result<&str, TagError>)] = &[
            (br#""1.0.1""#, Ok("1.0.1")),
            (br#"" 2.0.0-rc.1 ""#, Ok("2.0.0-rc.1")),
            (b"1.0.1", Err(TagError::BadTarget)),
            (br#""v1.0.1""#, Err(TagError::BadTarget)),
            (br#""latest""#, Err(TagError::BadTarget)),
            (br#"{"version":"1.0.0"}"#, Err(TagError::BadTarget)),
            (b"", Err(TagError::BadTarget)),
        ];
        for (body, want) in cases {
            let got = parse_tag_target(body);
            assert_eq!(got.as_deref().map_err(Clone::clone), *want, "{body:?}");
        }
    }

    #[test]
    fn fallback_ignores_garbage() {
        assert_eq!(
            fallback_latest(&strings(&["not-a-version", "1.0.0"])),
            Some("1.0.0".into())
        );
        assert_eq!(fallback_latest(&strings(&["nope"])), None);
        assert_eq!(
            fallback_latest(&strings(&["1.10.0", "1.9.0"])),
            Some("1.10.0".into())
        );
    }
}
