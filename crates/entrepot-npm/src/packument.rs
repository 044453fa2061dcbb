//! Rendering packuments, full and abbreviated ("corgi"), from the stored version objects.
//!
//! The registry stores each version's object as published and renders documents per request, because tarball URLs
//! depend on the external base URL and deprecation changes after publish. The same state always yields the same bytes,
//! and so the same ETag: serde_json's map sorts keys, and were `preserve_order` ever enabled the insertion order
//! used here is itself fixed (versions in SemVer order, whatever order the store returned them in).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::name::PackageName;
use crate::tags::DistTags;

/// The media type of the abbreviated document.
pub const ABBREVIATED_MEDIA_TYPE: &str = "application/vnd.npm.install-v1+json";

/// Fields of a version object the abbreviated document keeps: what npm, pnpm and yarn need to resolve and install.
/// `libc` is beyond npm's documented list; npm 10+ and pnpm filter platform-specific optional dependencies by it.
pub const ABBREVIATED_VERSION_FIELDS: &[&str] = &[
    "name",
    "version",
    "dist",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bin",
    "directories",
    "engines",
    "os",
    "cpu",
    "libc",
    "hasInstallScript",
    "_hasShrinkwrap",
];

/// Fields copied from the `latest` version to the top of the full document, as the public registry does.
const TOP_LEVEL_FROM_LATEST: &[&str] = &[
    "description",
    "readme",
    "keywords",
    "license",
    "homepage",
    "repository",
    "bugs",
    "author",
];

/// Per-version fields the full document leaves out: the readme is served once, at the top.
const OMITTED_FROM_FULL_VERSIONS: &[&str] = &["readme", "readmeFilename"];

/// One live version as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVersion {
    pub version: String,
    /// The cleaned version object from publish.
    pub object: Value,
    /// RFC 3339 publish time.
    pub published: String,
    pub deprecated: Option<String>,
}

/// Everything a packument is rendered from.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageDoc {
    pub name: PackageName,
    pub versions: Vec<StoredVersion>,
    pub dist_tags: DistTags,
    /// RFC 3339 time of the last change to the package.
    pub modified: String,
    /// The npm registry's external URL without a trailing slash, e.g. `https://pk.example/npm`.
    pub tarball_base_url: String,
}

/// The absolute tarball URL: `<base>/@scope/name/-/name-version.tgz` (unescaped, as npm requests tarballs).
pub fn tarball_url(base: &str, name: &PackageName, version: &str) -> String {
    format!(
        "{}/{}/-/{}",
        base.trim_end_matches('/'),
        name.full(),
        name.tarball_filename(version)
    )
}

/// Whether an `Accept` header prefers the abbreviated document. npm, yarn and pnpm send
/// `application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*`; a client that lists it at q=0 or not
/// at all gets the full document.
pub fn wants_abbreviated(accept: &str) -> bool {
    let quality = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';').map(str::trim);
                let media = parts.next()?;
                if !media.eq_ignore_ascii_case(wanted) {
                    return None;
                }
                let q = parts
                    .find_map(|p| p.strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some(q)
            })
            .fold(None, |best: Option<f32>, q| {
                Some(best.map_or(q, |b| b.max(q)))
            })
    };
    let corgi = quality(ABBREVIATED_MEDIA_TYPE).unwrap_or(0.0);
    corgi > 0.0 && corgi >= quality("application/json").unwrap_or(0.0)
}

/// A strong ETag for a rendered document: npm revalidates cached packuments with `If-None-Match`.
pub fn etag(document: &Value) -> String {
    let digest = Sha256::digest(document.to_string().as_bytes());
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether a version object declares an install-time script, as npm computes `hasInstallScript`.
pub fn has_install_script(object: &Value) -> bool {
    let Some(scripts) = object.get("scripts").and_then(Value::as_object) else {
        return false;
    };
    ["preinstall", "install", "postinstall"]
        .iter()
        .any(|script| {
            scripts
                .get(*script)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty())
        })
}

fn sorted(versions: &[StoredVersion]) -> Vec<&StoredVersion> {
    let mut sorted: Vec<&StoredVersion> = versions.iter().collect();
    sorted.sort_by(|a, b| {
        match (
            semver::Version::parse(&a.version),
            semver::Version::parse(&b.version),
        ) {
            (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.version.cmp(&b.version)),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => a.version.cmp(&b.version),
        }
    });
    sorted
}

/// The version object as served: the registry's identity, tarball URL and deprecation over the stored object.
fn served_version(doc: &PackageDoc, stored: &StoredVersion) -> Map<String, Value> {
    let mut object = stored.object.as_object().cloned().unwrap_or_default();
    object.insert("name".into(), Value::String(doc.name.full()));
    object.insert("version".into(), Value::String(stored.version.clone()));
    object.insert(
        "_id".into(),
        Value::String(format!("{}@{}", doc.name, stored.version)),
    );
    let dist = object
        .entry("dist")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(dist) = dist {
        dist.insert(
            "tarball".into(),
            Value::String(tarball_url(
                &doc.tarball_base_url,
                &doc.name,
                &stored.version,
            )),
        );
    }
    match &stored.deprecated {
        Some(message) => object.insert("deprecated".into(), Value::String(message.clone())),
        None => object.remove("deprecated"),
    };
    let install_script = has_install_script(&Value::Object(object.clone()));
    object.insert("hasInstallScript".into(), Value::Bool(install_script));
    object
}

fn latest<'a>(doc: &'a PackageDoc, versions: &[&'a StoredVersion]) -> Option<&'a StoredVersion> {
    let tagged = doc.dist_tags.get(crate::tags::LATEST);
    tagged
        .and_then(|v| versions.iter().copied().find(|s| &s.version == v))
        .or_else(|| versions.last().copied())
}

/// `time`: each version's publish time, `created` and `modified`.
fn time(doc: &PackageDoc, versions: &[&StoredVersion]) -> Value {
    let mut time = BTreeMap::new();
    for stored in versions {
        time.insert(stored.version.clone(), stored.published.clone());
    }
    let created = versions
        .iter()
        .map(|s| s.published.as_str())
        .min()
        .unwrap_or(&doc.modified);
    time.insert("created".into(), created.to_owned());
    time.insert("modified".into(), doc.modified.clone());
    json!(time)
}

/// The full document (`application/json`).
pub fn full(doc: &PackageDoc) -> Value {
    let versions = sorted(&doc.versions);
    let mut out = Map::new();
    out.insert("_id".into(), Value::String(doc.name.full()));
    out.insert("name".into(), Value::String(doc.name.full()));
    out.insert("dist-tags".into(), json!(doc.dist_tags));
    let mut rendered = Map::new();
    for stored in &versions {
        let mut object = served_version(doc, stored);
        for field in OMITTED_FROM_FULL_VERSIONS {
            object.remove(*field);
        }
        rendered.insert(stored.version.clone(), Value::Object(object));
    }
    out.insert("versions".into(), Value::Object(rendered));
    out.insert("time".into(), time(doc, &versions));
    if let Some(latest) = latest(doc, &versions) {
        for field in TOP_LEVEL_FROM_LATEST {
            if let Some(value) = latest.object.get(*field) {
                out.insert((*field).into(), value.clone());
            }
        }
    }
    // npm view and web UIs expect the field even when no version has a readme.
    out.entry("readme")
        .or_insert_with(|| Value::String(String::new()));
    Value::Object(out)
}

/// The abbreviated document (`application/vnd.npm.install-v1+json`): exactly `name`, `modified`, `dist-tags`,
/// `time` (pnpm's time-based resolution reads it; Verdaccio sends it too) and `versions` with
/// [`ABBREVIATED_VERSION_FIELDS`].
pub fn abbreviated(doc: &PackageDoc) -> Value {
    let versions = sorted(&doc.versions);
    let mut rendered = Map::new();
    for stored in &versions {
        let served = served_version(doc, stored);
        let kept: Map<String, Value> = served
            .into_iter()
            .filter(|(field, _)| ABBREVIATED_VERSION_FIELDS.contains(&field.as_str()))
            .collect();
        rendered.insert(stored.version.clone(), Value::Object(kept));
    }
    json!({
        "name": doc.name.full(),
        "modified": doc.modified,
        "dist-tags": doc.dist_tags,
        "time": time(doc, &versions),
        "versions": rendered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://pk.example/npm";

    /// Version objects as npm 11 published them (from the captured traffic, scoped to Entrepôt), extended with
    /// the fields an install needs so the test sees which ones survive.
    fn object(version: &str) -> Value {
        json!({
            "name": "@acme/lib",
            "version": version,
            "description": "demo package for registry tests",
            "main": "index.js",
            "keywords": ["demo"],
            "license": "MIT",
            "readme": "# lib",
            "_id": format!("@acme/lib@{version}"),
            "_nodeVersion": "20.20.2",
            "_npmVersion": "11.19.1",
            "_hasShrinkwrap": false,
            "contributors": [],
            "scripts": {"test": "true", "postinstall": "node setup.js"},
            "dependencies": {"left-pad": "^1.0.0"},
            "devDependencies": {"jest": "^29"},
            "optionalDependencies": {"fsevents": "^2"},
            "peerDependencies": {"react": ">=18"},
            "peerDependenciesMeta": {"react": {"optional": true}},
            "bin": {"lib": "cli.js"},
            "directories": {"lib": "lib"},
            "engines": {"node": ">=18"},
            "os": ["linux"],
            "cpu": ["x64"],
            "libc": ["glibc"],
            "repository": {"type": "git", "url": "git+https://pk.example/acme/lib.git"},
            "dist": {
                "integrity": "sha512-fckmj2SyFzqQPAx5VRgqupq4EsvDJ/T6tVjy4YuHrJAj6XSSS5u9sapaPE1HOpTkNssHKx5v1iusmt/7u6v8gg==",
                "shasum": "a1881fc25db7e8daf8af0e988cc43c9b681df484",
                "fileCount": 2,
                "unpackedSize": 120,
            },
        })
    }

    fn doc() -> PackageDoc {
        let stored = |version: &str, published: &str, deprecated: Option<&str>| StoredVersion {
            version: version.into(),
            object: object(version),
            published: published.into(),
            deprecated: deprecated.map(str::to_owned),
        };
        PackageDoc {
            name: PackageName::parse("@acme/lib").unwrap(),
            // Out of order on purpose: rendering sorts by SemVer, not by string or insertion.
            versions: vec![
                stored("1.10.0", "2026-11-21T05:02:18.141Z", None),
                stored("1.2.0", "2026-11-21T05:02:08.608Z", Some("use 1.10.0")),
                stored("2.0.0-rc.1", "2026-11-21T05:03:00.000Z", None),
            ],
            dist_tags: [
                ("latest".to_string(), "1.10.0".to_string()),
                ("next".into(), "2.0.0-rc.1".into()),
            ]
            .into(),
            modified: "2026-11-21T05:03:00.000Z".into(),
            tarball_base_url: format!("{BASE}/"),
        }
    }

    #[test]
    fn abbreviated_keeps_exactly_what_installers_need() {
        let doc = abbreviated(&doc());
        let top: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(top, ["dist-tags", "modified", "name", "time", "versions"]);
        let versions = doc["versions"].as_object().unwrap();
        let mut keys: Vec<&str> = versions.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["1.10.0", "1.2.0", "2.0.0-rc.1"]);
        let v = &versions["1.10.0"];
        let mut fields: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        let mut want: Vec<&str> = ABBREVIATED_VERSION_FIELDS
            .iter()
            .copied()
            .filter(|f| *f != "deprecated")
            .collect();
        want.sort_unstable();
        assert_eq!(fields, want);
        assert_eq!(v["hasInstallScript"], true);
        assert_eq!(
            v["dist"]["tarball"],
            format!("{BASE}/@acme/lib/-/lib-1.10.0.tgz")
        );
        assert_eq!(
            v["dist"]["integrity"],
            object("1.10.0")["dist"]["integrity"]
        );
        assert_eq!(versions["1.2.0"]["deprecated"], "use 1.10.0");
        assert_eq!(doc["dist-tags"]["latest"], "1.10.0");
        assert_eq!(doc["modified"], "2026-11-21T05:03:00.000Z");
    }

    /// The captured verdaccio corgi document for `demo-demo` (trimmed): every field it gives a version must be
    /// in ours, so npm, pnpm and yarn see at least what they saw there.
    #[test]
    fn abbreviated_covers_the_captured_sample() {
        let sample = json!({
            "name": "demo-demo",
            "version": "2.0.0",
            "description": "demo package for registry tests",
            "dist": {
                "integrity": "sha512-fckmj2SyFzqQPAx5VRgqupq4EsvDJ/T6tVjy4YuHrJAj6XSSS5u9sapaPE1HOpTkNssHKx5v1iusmt/7u6v8gg==",
                "shasum": "a1881fc25db7e8daf8af0e988cc43c9b681df484",
                "tarball": "http://127.0.0.1:4873/demo-demo/-/demo-demo-2.0.0.tgz"
            },
            "hasInstallScript": false
        });
        let ours = abbreviated(&doc());
        let ours = ours["versions"]["1.10.0"].as_object().unwrap();
        // `description` is display-only: npm's own registry leaves it out of the abbreviated document.
        for field in sample
            .as_object()
            .unwrap()
            .keys()
            .filter(|f| *f != "description")
        {
            assert!(ours.contains_key(field), "missing {field}");
        }
        for field in [
            "dependencies",
            "optionalDependencies",
            "peerDependencies",
            "bin",
            "engines",
            "os",
            "cpu",
        ] {
            assert!(ours.contains_key(field), "missing {field}");
        }
        for field in [
            "readme",
            "devDependencies",
            "scripts",
            "_npmVersion",
            "repository",
            "_id",
            "main",
        ] {
            assert!(!ours.contains_key(field), "leaks {field}");
        }
    }

    #[test]
    fn full_document() {
        let doc = full(&doc());
        let top: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let want = [
            "_id",
            "description",
            "dist-tags",
            "keywords",
            "license",
            "name",
            "readme",
            "repository",
            "time",
            "versions",
        ];
        assert_eq!(top, want);
        assert_eq!(doc["_id"], "@acme/lib");
        assert_eq!(doc["readme"], "# lib");
        assert_eq!(
            doc["time"],
            json!({
                "created": "2026-11-21T05:02:08.608Z",
                "modified": "2026-11-21T05:03:00.000Z",
                "1.10.0": "2026-11-21T05:02:18.141Z",
                "1.2.0": "2026-11-21T05:02:08.608Z",
                "2.0.0-rc.1": "2026-11-21T05:03:00.000Z",
            })
        );
        let v = &doc["versions"]["1.2.0"];
        assert_eq!(v["deprecated"], "use 1.10.0");
        assert_eq!(v["devDependencies"]["jest"], "^29");
        assert_eq!(v["_id"], "@acme/lib@1.2.0");
        assert_eq!(
            v["dist"]["tarball"],
            format!("{BASE}/@acme/lib/-/lib-1.2.0.tgz")
        );
        assert!(v.get("readme").is_none());
        assert!(doc["versions"]["1.10.0"].get("deprecated").is_none());
    }

    #[test]
    fn rendering_is_deterministic() {
        let mut reordered = doc();
        reordered.versions.reverse();
        assert_eq!(
            serde_json::to_string(&full(&doc())).unwrap(),
            serde_json::to_string(&full(&reordered)).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&abbreviated(&doc())).unwrap(),
            serde_json::to_string(&abbreviated(&reordered)).unwrap()
        );
    }

    #[test]
    fn etags() {
        let full_tag = etag(&full(&doc()));
        assert_eq!(full_tag.len(), 34);
        assert!(full_tag.starts_with('"') && full_tag.ends_with('"'));
        assert_eq!(full_tag, etag(&full(&doc())));
        assert_ne!(full_tag, etag(&abbreviated(&doc())));
        let mut deprecated = doc();
        deprecated.versions[0].deprecated = Some("x".into());
        assert_ne!(full_tag, etag(&full(&deprecated)));
    }

    #[test]
    fn stored_deprecation_wins_over_the_object() {
        let mut doc = doc();
        doc.versions[0].object["deprecated"] = json!("stale");
        doc.versions[0].deprecated = None;
        assert!(
            abbreviated(&doc)["versions"]["1.10.0"]
                .get("deprecated")
                .is_none()
        );
    }

    #[test]
    fn empty_package() {
        let mut doc = doc();
        doc.versions.clear();
        doc.dist_tags.clear();
        let full = full(&doc);
        assert_eq!(full["time"]["created"], doc.modified.as_str());
        assert_eq!(full["versions"], json!({}));
        assert_eq!(full["readme"], "");
        assert_eq!(abbreviated(&doc)["versions"], json!({}));
    }

    #[test]
    fn install_scripts() {
        let cases = [
            (json!({"scripts": {"preinstall": "x"}}), true),
            (json!({"scripts": {"install": "node-gyp rebuild"}}), true),
            (json!({"scripts": {"postinstall": "x"}}), true),
            (json!({"scripts": {"postinstall": " "}}), false),
            (json!({"scripts": {"prepare": "x", "test": "y"}}), false),
            (json!({"scripts": "x"}), false),
            (json!({}), false),
        ];
        for (object, want) in cases {
            assert_eq!(has_install_script(&object), want, "{object}");
        }
    }

    #[test]
    fn accept_headers() {
        let cases = [
            (
                "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*",
                true,
            ),
            ("application/vnd.npm.install-v1+json", true),
            ("application/json", false),
            ("*/*", false),
            ("", false),
            (
                "application/json, application/vnd.npm.install-v1+json; q=0.5",
                false,
            ),
            ("application/vnd.npm.install-v1+json;q=0", false),
            ("Application/Vnd.Npm.Install-V1+Json", true),
        ];
        for (accept, want) in cases {
            assert_eq!(wants_abbreviated(accept), want, "{accept}");
        }
    }

    #[test]
    fn tarball_urls() {
        let name = PackageName::parse("@acme/lib").unwrap();
        for base in ["https://pk.example/npm", "https://pk.example/npm/"] {
            assert_eq!(
                tarball_url(base, &name, "1.0.0"),
                "https://pk.example/npm/@acme/lib/-/lib-1.0.0.tgz"
            );
        }
    }
}
