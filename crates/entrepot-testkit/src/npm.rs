//! npm tarballs and publish bodies shaped like npm 11's, for tests and benchmarks.

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest as _, Sha512};

/// A gzip-compressed tar of `package/package.json` (from `manifest`) plus `package/index.js` and any `extra` files.
pub fn tarball_with(manifest: &Value, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let manifest = serde_json::to_vec_pretty(manifest).expect("manifest");
    let index: &[u8] = b"module.exports = 42;\n";
    let mut files: Vec<(String, &[u8])> = vec![
        ("package/package.json".into(), &manifest),
        ("package/index.js".into(), index),
    ];
    for (path, bytes) in extra {
        files.push((format!("package/{path}"), bytes));
    }
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(499_162_500);
        header.set_cksum();
        builder
            .append_data(&mut header, path, bytes)
            .expect("tar entry");
    }
    let tar = builder.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("gzip")
}

/// The package.json of a test package.
pub fn manifest(name: &str, version: &str) -> Value {
    json!({
        "name": name,
        "version": version,
        "description": format!("{name} for tests"),
        "main": "index.js",
        "license": "MIT",
    })
}

/// A tarball of a minimal package.
pub fn tarball(name: &str, version: &str) -> Vec<u8> {
    tarball_with(&manifest(name, version), &[])
}

/// `sha512-<base64>` of bytes.
pub fn integrity(bytes: &[u8]) -> String {
    format!("sha512-{}", STANDARD.encode(Sha512::digest(bytes)))
}

/// The publish body npm 11 sends for `manifest` packed as `tarball`, tagged `tag`.
pub fn publish_body_with(manifest: &Value, tarball: &[u8], tag: &str) -> Value {
    let name = manifest["name"].as_str().expect("name");
    let version = manifest["version"].as_str().expect("version");
    let mut object = manifest.clone();
    let fields = object.as_object_mut().expect("manifest object");
    fields.insert("readme".into(), json!("ERROR: No README data found!"));
    fields.insert("_id".into(), json!(format!("{name}@{version}")));
    fields.insert("_nodeVersion".into(), json!("20.20.2"));
    fields.insert("_npmVersion".into(), json!("11.19.1"));
    fields.insert(
        "dist".into(),
        json!({
            "integrity": integrity(tarball),
            "shasum": hex::encode(Sha1::digest(tarball)),
            "tarball": format!("http://127.0.0.1:18674/{name}/-/{name}-{version}.tgz"),
        }),
    );
    json!({
        "_id": name,
        "name": name,
        "description": manifest.get("description").cloned().unwrap_or(Value::Null),
        "dist-tags": { tag: version },
        "versions": { version: object },
        "access": null,
        "_attachments": {
            format!("{name}-{version}.tgz"): {
                "content_type": "application/octet-stream",
                "data": STANDARD.encode(tarball),
                "length": tarball.len(),
            }
        },
    })
}

/// The publish body of a minimal package, tagged `latest`.
pub fn publish_body(name: &str, version: &str) -> Value {
    let manifest = manifest(name, version);
    publish_body_with(&manifest, &tarball_with(&manifest, &[]), "latest")
}
