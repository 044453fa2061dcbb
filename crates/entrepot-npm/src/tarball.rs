//! Reading an npm tarball (gzip + tar) in memory: its package.json and the facts the packument reports about it.
//!
//! Clients unpack tarballs with the first path component stripped, so `package/` is only a convention: npm itself
//! accepts any single top-level directory (GitHub's own tarballs use `<repo>-<sha>/`). The registry follows clients.

use std::io::Read;

use flate2::read::GzDecoder;
use thiserror::Error;

/// Upper bound on the package.json read from a tarball; npm's own manifests are a few kilobytes.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TarballError {
    #[error("tarball is not a valid gzip-compressed tar archive: {0}")]
    Corrupt(String),
    #[error("tarball unpacks to more than {0} bytes")]
    TooLargeUnpacked(u64),
    #[error("tarball has no package/package.json")]
    NoManifest,
    #[error("package.json in the tarball is not a JSON object: {0}")]
    BadManifest(String),
}

/// What the registry needs from a tarball.
#[derive(Debug, Clone, PartialEq)]
pub struct TarballInfo {
    /// The parsed `<top>/package.json`.
    pub manifest: serde_json::Value,
    /// Whether `<top>/npm-shrinkwrap.json` exists: npm honours a dependency's shrinkwrap only when the packument
    /// says so (`_hasShrinkwrap`).
    pub has_shrinkwrap: bool,
    pub file_count: u64,
    pub unpacked_size: u64,
}

/// Reads a tarball, decompressing at most `max_unpacked` bytes so a small gzip bomb cannot exhaust memory or time.
pub fn inspect(bytes: &[u8], max_unpacked: u64) -> Result<TarballInfo, TarballError> {
    inspect_reader(bytes, max_unpacked)
}

/// [`inspect`] of a tarball read as it arrives (a publish streaming to storage).
pub fn inspect_reader(reader: impl Read, max_unpacked: u64) -> Result<TarballInfo, TarballError> {
    let mut archive =
        tar::Archive::new(GzDecoder::new(reader).take(max_unpacked.saturating_add(1)));
    let scanned = scan(&mut archive);
    // The tar reader stops at the end-of-archive marker; read on so trailing garbage cannot hide a cut-off archive.
    let mut rest = archive.into_inner();
    let drained = std::io::copy(&mut rest, &mut std::io::sink());
    // Checked first: an archive cut off by the limit otherwise surfaces as a confusing "unexpected EOF".
    if rest.limit() == 0 {
        return Err(TarballError::TooLargeUnpacked(max_unpacked));
    }
    let scan = scanned?;
    drained.map_err(corrupt)?;
    // Prefer npm's `package/`; otherwise accept another directory only when it is the single top level.
    let chosen = match scan.manifests.iter().find(|(top, _)| top == "package") {
        Some(found) => found,
        None if scan.tops.len() == 1 => scan.manifests.first().ok_or(TarballError::NoManifest)?,
        None => return Err(TarballError::NoManifest),
    };
    let manifest: serde_json::Value = serde_json::from_slice(&chosen.1)
        .map_err(|error| TarballError::BadManifest(error.to_string()))?;
    if !manifest.is_object() {
        return Err(TarballError::BadManifest("not an object".into()));
    }
    Ok(TarballInfo {
        has_shrinkwrap: scan.shrinkwraps.contains(&chosen.0),
        manifest,
        file_count: scan.file_count,
        unpacked_size: scan.unpacked_size,
    })
}

#[derive(Default)]
struct Scan {
    /// (top-level directory, package.json bytes) for every `<top>/package.json`.
    manifests: Vec<(String, Vec<u8>)>,
    shrinkwraps: Vec<String>,
    tops: Vec<String>,
    file_count: u64,
    unpacked_size: u64,
}

fn corrupt(error: std::io::Error) -> TarballError {
    TarballError::Corrupt(error.to_string())
}

fn scan<R: Read>(archive: &mut tar::Archive<R>) -> Result<Scan, TarballError> {
    let mut scan = Scan::default();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let path = entry
            .path()
            .map_err(corrupt)?
            .to_string_lossy()
            .into_owned();
        let mut components = path.trim_start_matches("./").splitn(2, '/');
        let top = components.next().unwrap_or_default().to_owned();
        let rest = components.next().unwrap_or_default().to_owned();
        if !top.is_empty() && !scan.tops.contains(&top) {
            scan.tops.push(top.clone());
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        scan.file_count += 1;
        scan.unpacked_size = scan.unpacked_size.saturating_add(entry.size());
        match rest.as_str() {
            "package.json" => {
                let mut data = Vec::new();
                (&mut entry)
                    .take(MAX_MANIFEST_BYTES + 1)
                    .read_to_end(&mut data)
                    .map_err(corrupt)?;
                if data.len() as u64 > MAX_MANIFEST_BYTES {
                    return Err(TarballError::BadManifest(
                        "package.json is larger than 1 MiB".into(),
                    ));
                }
                scan.manifests.push((top, data));
            }
            "npm-shrinkwrap.json" => scan.shrinkwraps.push(top),
            _ => {}
        }
    }
    Ok(scan)
}

#[cfg(test)]
pub(crate) mod build {
    //! Builds real tarballs for tests.

    use std::io::Write;

    use flate2::{Compression, write::GzEncoder};

    pub fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
        for (path, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    pub fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    pub fn package(name: &str, version: &str) -> Vec<u8> {
        let manifest = format!(r#"{{"name":"{name}","version":"{version}"}}"#);
        tgz(&[
            ("package/package.json", manifest.as_bytes()),
            ("package/index.js", b"module.exports = 1;\n"),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    type Files<'a> = &'a [(&'a str, &'a [u8])];
    type Check = fn(&TarballError) -> bool;

    const PJ: &[u8] = br#"{"name":"@acme/lib","version":"1.0.0"}"#;

    #[test]
    fn finds_the_manifest() {
        // (files, has_shrinkwrap, file_count)
        let cases: &[(Files, bool, u64)] = &[
            (&[("package/package.json", PJ)], false, 1),
            (
                &[
                    ("package/package.json", PJ),
                    ("package/npm-shrinkwrap.json", b"{}"),
                ],
                true,
                2,
            ),
            (&[("./package/package.json", PJ)], false, 1),
            (
                &[
                    ("acme-lib-abc123/package.json", PJ),
                    ("acme-lib-abc123/index.js", b"x"),
                ],
                false,
                2,
            ),
            (
                &[
                    ("other/package.json", br#"{"name":"x"}"#),
                    ("package/package.json", PJ),
                ],
                false,
                2,
            ),
            (
                &[
                    ("package/lib/package.json", br#"{"name":"inner"}"#),
                    ("package/package.json", PJ),
                ],
                false,
                2,
            ),
        ];
        for (files, shrinkwrap, count) in cases {
            let info = inspect(&tgz(files), 1 << 20).unwrap_or_else(|e| panic!("{files:?}: {e}"));
            assert_eq!(info.manifest["name"], "@acme/lib", "{files:?}");
            assert_eq!(
                (info.has_shrinkwrap, info.file_count),
                (*shrinkwrap, *count),
                "{files:?}"
            );
        }
    }

    #[test]
    fn refuses_bad_tarballs() {
        let big = vec![b' '; 4096];
        let cases: Vec<(Vec<u8>, Check)> = vec![
            (b"not gzip".to_vec(), |e| {
                matches!(e, TarballError::Corrupt(_))
            }),
            (
                gzip(b"gzip but not tar, and long enough to be read as a header? no"),
                |e| matches!(e, TarballError::Corrupt(_) | TarballError::NoManifest),
            ),
            (tgz(&[("package/index.js", b"x")]), |e| {
                *e == TarballError::NoManifest
            }),
            (tgz(&[("package.json", PJ)]), |e| {
                *e == TarballError::NoManifest
            }),
            (tgz(&[("a/package.json", PJ), ("b/index.js", b"x")]), |e| {
                *e == TarballError::NoManifest
            }),
            (tgz(&[("package/package.json", b"{not json")]), |e| {
                matches!(e, TarballError::BadManifest(_))
            }),
            (tgz(&[("package/package.json", b"[1]")]), |e| {
                matches!(e, TarballError::BadManifest(_))
            }),
            (
                tgz(&[("package/package.json", PJ), ("package/big", &big)]),
                |e| *e == TarballError::TooLargeUnpacked(2048),
            ),
        ];
        for (i, (bytes, check)) in cases.iter().enumerate() {
            let max = if i == cases.len() - 1 { 2048 } else { 1 << 20 };
            let error = inspect(bytes, max).unwrap_err();
            assert!(check(&error), "case {i}: {error:?}");
        }
    }

    #[test]
    fn truncated_gzip_is_corrupt() {
        let bytes = package("@acme/lib", "1.0.0");
        let error = inspect(&bytes[..bytes.len() / 2], 1 << 20).unwrap_err();
        assert!(matches!(error, TarballError::Corrupt(_)), "{error:?}");
    }
}
