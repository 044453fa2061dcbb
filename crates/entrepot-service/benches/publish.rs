//! Benchmark of server-side publish latency: a small npm-like version (one 4 KiB tarball) staged and published.
//!
//! Run with `cargo bench -p entrepot-service --bench publish`. SQLite always; PostgreSQL when the testkit reaches
//! it (`ENTREPOT_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/postgres`), skipped otherwise. It
//! measures and prints; it asserts nothing about timing.

use std::cell::Cell;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use entrepot_blob::{PutOptions, bytes_stream};
use entrepot_service::authz::{PackageType, Principal};
use entrepot_service::{ExistingVersion, NewFile, PackageKey, PublishRequest, Services};
use entrepot_testkit::{Engine, TestEnv, World, drop_postgres_database};

const TARBALL_SIZE: usize = 4096;

/// Stages a tarball whose bytes differ for every `n` (a new version never reuses a stored blob) and publishes it
/// as version `1.0.n`, the way the npm front-end does after parsing `npm publish`'s body.
async fn publish_version(services: &Services, principal: &Principal, key: &PackageKey, n: u64) {
    let mut tarball = vec![0u8; TARBALL_SIZE];
    for (chunk, byte) in tarball.chunks_mut(8).zip(0u64..) {
        chunk.copy_from_slice(&(n ^ byte.rotate_left(32)).to_le_bytes());
    }
    let version = format!("1.0.{n}");
    let blob = services
        .stage_blob(bytes_stream(tarball), PutOptions::new())
        .await
        .expect("stage the tarball");
    let request = PublishRequest {
        key: key.clone(),
        version: version.clone(),
        metadata: serde_json::json!({
            "name": "@acme/bench",
            "version": version,
            "dist": { "tarball": format!("bench-{version}.tgz") },
        }),
        files: vec![NewFile {
            name: format!("bench-{version}.tgz"),
            blob,
            content_type: Some("application/octet-stream".into()),
            mutable: false,
        }],
        repository_url: None,
        visibility: None,
        existing_version: ExistingVersion::Conflict,
    };
    services.publish(principal, request).await.expect("publish");
}

fn publish(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("publish");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let Some((env, pg_name)) = rt.block_on(TestEnv::new(engine)) else {
            eprintln!(
                "SKIPPED publish on {engine:?}: the database is unreachable (see ENTREPOT_TEST_POSTGRES)"
            );
            continue;
        };
        let world = rt.block_on(World::build(&env.services));
        let mia = rt.block_on(world.principal("mia"));
        let key = PackageKey::new("acme", PackageType::Npm, "bench");
        // The first publish creates the package; what is timed is the common case, a new version of it.
        rt.block_on(publish_version(&env.services, &mia, &key, 0));
        // Criterion calls the routine once per sample, so the version counter lives outside it.
        let counter = Cell::new(0u64);
        let name = match engine {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        };
        group.bench_function(BenchmarkId::new("npm_4kib_new_version", name), |b| {
            b.to_async(&rt).iter(|| {
                counter.set(counter.get() + 1);
                publish_version(&env.services, &mia, &key, counter.get())
            })
        });
        drop(env);
        if let Some(name) = pg_name {
            rt.block_on(drop_postgres_database(&name));
        }
    }
    group.finish();
}

criterion_group!(benches, publish);
criterion_main!(benches);
