//! Telling apart the three writes npm sends as a `PUT` of the whole packument.
//!
//! `npm publish` sends one new version with its tarball; `npm deprecate` sends the document it read back with
//! `deprecated` changed on some versions and no attachments; `npm unpublish pkg@1.0.0` sends the document without
//! that version (to `/pkg/-rev/R`, but the path says nothing the body does not). Only a comparison with the stored
//! versions tells the last two apart, so the server passes them in.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::name::PackageName;
use crate::publish::{self, Decoded, Limits, Publish, PublishError, StreamedTarball};
use crate::split::SplitBody;

/// What a `PUT` of the packument asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum PutAction {
    Publish(Box<Publish>),
    /// Deprecation changes: version → new message, `None` to un-deprecate. Empty when nothing changed.
    Deprecate {
        changes: BTreeMap<String, Option<String>>,
    },
    /// Unpublish of some versions: `kept` are the versions still in the body, `removed` the stored ones that
    /// are not. Dist-tags follow from [`crate::tags::after_removal`].
    RemoveVersions {
        kept: Vec<String>,
        removed: Vec<String>,
    },
}

/// Classifies a `PUT` body. `stored` maps each live stored version to its deprecation message.
pub fn classify_put(
    url_name: &PackageName,
    body: &[u8],
    stored: &BTreeMap<String, Option<String>>,
    limits: Limits,
) -> Result<PutAction, PublishError> {
    classify(url_name, body, None, stored, limits)
}

/// [`classify_put`] for a body split as it streamed in ([`crate::split`]).
///
/// `streamed`: what was learned from the first attachment's bytes when they were handed out as they were decoded
/// ([`crate::split::Splitter::streaming`]) instead of being kept in the split body.
pub fn classify_split(
    url_name: &PackageName,
    split: SplitBody,
    streamed: Option<StreamedTarball>,
    stored: &BTreeMap<String, Option<String>>,
    limits: Limits,
) -> Result<PutAction, PublishError> {
    let predecoded = split.attachments.into_iter().next().map(|first| {
        first.map(|bytes| match streamed {
            Some(streamed) => Decoded::Streamed(streamed),
            None => Decoded::Bytes(bytes),
        })
    });
    classify(url_name, &split.skeleton, Some(predecoded), stored, limits)
}

/// `predecoded`: `None` when the body still holds its attachment data; `Some(first attachment)` when it was
/// split off.
fn classify(
    url_name: &PackageName,
    body: &[u8],
    predecoded: Option<publish::Predecoded>,
    stored: &BTreeMap<String, Option<String>>,
    limits: Limits,
) -> Result<PutAction, PublishError> {
    let doc = publish::parse_body(body)?;
    publish::check_body_name(url_name, &doc)?;
    let has_attachments = doc
        .get("_attachments")
        .and_then(Value::as_object)
        .is_some_and(|map| !map.is_empty());
    let versions = match doc.get("versions") {
        Some(Value::Object(versions)) => versions,
        Some(_) => return Err(PublishError::Malformed("versions is not an object".into())),
        None => return Err(PublishError::Malformed("versions is missing".into())),
    };
    let new: Vec<&String> = versions
        .keys()
        .filter(|v| !stored.contains_key(*v))
        .collect();
    if has_attachments || !new.is_empty() {
        // A publish body from npm holds only the new version; a body that also repeats stored ones is a client
        // mixing operations, refused like any other count mismatch.
        // Split, but no data string was found: the document's own (missing or non-string) `data` is then refused
        // by the usual checks.
        let predecoded = predecoded.flatten();
        return publish::publish_from_doc(url_name, &doc, limits, predecoded)
            .map(|publish| PutAction::Publish(Box::new(publish)));
    }
    if versions.is_empty() {
        return Err(PublishError::Malformed(
            "a PUT cannot remove every version: unpublish the whole package with `npm unpublish --force`".into(),
        ));
    }
    let removed: Vec<String> = stored
        .keys()
        .filter(|v| !versions.contains_key(*v))
        .cloned()
        .collect();
    if !removed.is_empty() {
        let kept = stored
            .keys()
            .filter(|v| versions.contains_key(*v))
            .cloned()
            .collect();
        return Ok(PutAction::RemoveVersions { kept, removed });
    }
    let mut changes = BTreeMap::new();
    for (version, object) in versions {
        // npm un-deprecates by sending an empty message.
        let wanted = object
            .get("deprecated")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        if stored
            .get(version)
            .is_some_and(|current| *current != wanted)
        {
            changes.insert(version.clone(), wanted);
        }
    }
    Ok(PutAction::Deprecate { changes })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::publish::fixtures;

    const LIMITS: Limits = Limits {
        max_tarball_bytes: 1 << 20,
        max_unpacked_bytes: 1 << 22,
    };

    type Versions<'a> = &'a [(&'a str, Option<&'a str>)];
    type Check = fn(&PublishError) -> bool;

    fn stored(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(v, d)| (v.to_string(), d.map(str::to_owned)))
            .collect()
    }

    /// The document `npm deprecate` and `npm unpublish` send back: versions with their `deprecated` fields.
    fn doc(versions: &[(&str, Option<&str>)]) -> Value {
        let versions: serde_json::Map<String, Value> = versions
            .iter()
            .map(|(v, d)| {
                let mut object =
                    json!({"name": "@acme/lib", "version": v, "dist": {"shasum": "00"}});
                if let Some(d) = d {
                    object["deprecated"] = json!(d);
                }
                (v.to_string(), object)
            })
            .collect();
        json!({"_id": "@acme/lib", "name": "@acme/lib", "_rev": "3-abc", "versions": versions,
               "dist-tags": {"latest": "1.0.0"}, "time": {}, "users": {}, "_attachments": {}})
    }

    fn classify(body: &Value, current: &[(&str, Option<&str>)]) -> Result<PutAction, PublishError> {
        let name = PackageName::parse("@acme/lib").unwrap();
        classify_put(&name, body.to_string().as_bytes(), &stored(current), LIMITS)
    }

    fn changes(pairs: &[(&str, Option<&str>)]) -> PutAction {
        PutAction::Deprecate {
            changes: stored(pairs),
        }
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn deprecate_and_remove() {
        let two = &[("1.0.0", None), ("1.1.0", None)][..];
        let cases: &[(&str, Value, Versions, PutAction)] = &[
            (
                "deprecate one",
                doc(&[("1.0.0", Some("use 1.1.0")), ("1.1.0", None)]),
                two,
                changes(&[("1.0.0", Some("use 1.1.0"))]),
            ),
            (
                "deprecate all",
                doc(&[("1.0.0", Some("dead")), ("1.1.0", Some("dead"))]),
                two,
                changes(&[("1.0.0", Some("dead")), ("1.1.0", Some("dead"))]),
            ),
            (
                "undeprecate with empty message",
                doc(&[("1.0.0", Some("")), ("1.1.0", None)]),
                &[("1.0.0", Some("old")), ("1.1.0", None)],
                changes(&[("1.0.0", None)]),
            ),
            (
                "undeprecate by dropping the field",
                doc(&[("1.0.0", None), ("1.1.0", None)]),
                &[("1.0.0", Some("old")), ("1.1.0", None)],
                changes(&[("1.0.0", None)]),
            ),
            (
                "change message",
                doc(&[("1.0.0", Some("new")), ("1.1.0", None)]),
                &[("1.0.0", Some("old")), ("1.1.0", None)],
                changes(&[("1.0.0", Some("new"))]),
            ),
            (
                "no change",
                doc(&[("1.0.0", None), ("1.1.0", None)]),
                two,
                changes(&[]),
            ),
            (
                "unpublish one version",
                doc(&[("1.0.0", None)]),
                two,
                PutAction::RemoveVersions {
                    kept: strings(&["1.0.0"]),
                    removed: strings(&["1.1.0"]),
                },
            ),
            (
                "unpublish keeps deprecation as is",
                doc(&[("1.1.0", Some("x"))]),
                two,
                PutAction::RemoveVersions {
                    kept: strings(&["1.1.0"]),
                    removed: strings(&["1.0.0"]),
                },
            ),
        ];
        for (label, body, current, want) in cases {
            assert_eq!(&classify(body, current).unwrap(), want, "{label}");
        }
    }

    #[test]
    fn publish_is_recognised() {
        let body = fixtures::body("@acme/lib", "1.2.0");
        match classify(&body, &[("1.0.0", None)]).unwrap() {
            PutAction::Publish(publish) => assert_eq!(publish.version, "1.2.0"),
            other => panic!("{other:?}"),
        }
        // First publish: nothing stored.
        assert!(matches!(
            classify(&body, &[]).unwrap(),
            PutAction::Publish(_)
        ));
        // A re-publish of a stored version carries a tarball, so it is a publish (the server answers 409), never
        // mistaken for a deprecation.
        let again = fixtures::body("@acme/lib", "1.0.0");
        assert!(matches!(
            classify(&again, &[("1.0.0", None)]).unwrap(),
            PutAction::Publish(_)
        ));
    }

    #[test]
    fn refused() {
        let stored_one = &[("1.0.0", None)][..];
        let cases: Vec<(&str, Value, Versions, Check)> = vec![
            (
                "unknown version without tarball",
                doc(&[("1.0.0", None), ("2.0.0", None)]),
                stored_one,
                |e| *e == PublishError::VersionCount(2),
            ),
            (
                "new version alone without tarball",
                doc(&[("2.0.0", None)]),
                stored_one,
                |e| *e == PublishError::AttachmentCount(0),
            ),
            ("remove every version", doc(&[]), stored_one, |e| {
                matches!(e, PublishError::Malformed(_))
            }),
            (
                "other package",
                json!({"name": "@acme/other", "versions": {}}),
                stored_one,
                |e| matches!(e, PublishError::NameMismatch { .. }),
            ),
            (
                "no versions",
                json!({"name": "@acme/lib"}),
                stored_one,
                |e| matches!(e, PublishError::Malformed(_)),
            ),
            (
                "versions not object",
                json!({"name": "@acme/lib", "versions": []}),
                stored_one,
                |e| matches!(e, PublishError::Malformed(_)),
            ),
        ];
        for (label, body, current, check) in cases {
            let error = classify(&body, current).unwrap_err();
            assert!(check(&error), "{label}: {error:?}");
        }
        assert!(matches!(
            classify_put(
                &PackageName::parse("@acme/lib").unwrap(),
                b"nope",
                &BTreeMap::new(),
                LIMITS
            ),
            Err(PublishError::NotJson(_))
        ));
    }
}
