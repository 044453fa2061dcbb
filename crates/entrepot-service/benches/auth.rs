//! Benchmarks of what every registry request pays before its real work: authentication and read authorization.
//!
//! Run with `cargo bench -p entrepot-service --bench auth`. These measure and print; they assert nothing about
//! timing. The few `assert!`s check that the setup measures the path it claims to (a cold cache really is cold).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use entrepot_identity::credential::Credential;
use entrepot_identity::secret::Secret;
use entrepot_identity::token;
use entrepot_service::authz::{PackageType, Principal, Role, Scopes};
use entrepot_service::{GranteeRef, NewUser, PackageKey, Services};
use entrepot_store::{Store, tokens};
use entrepot_testkit::{Engine, TestEnv, World};
use tokio::runtime::Runtime;

const PASSWORD: &str = "correct horse battery staple";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn bearer(secret: &str) -> Credential {
    Credential::Token(Secret::new(secret))
}

/// The same token with one character of its random part changed: the shape of a typo or a token from another
/// installation, refused by the checksum, the last and costliest of the format checks.
fn typo_of(secret: &str) -> String {
    let mut bytes = secret.as_bytes().to_vec();
    bytes[10] = if bytes[10] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).expect("a token is ASCII")
}

fn authenticate(c: &mut Criterion) {
    let rt = runtime();
    let (env, _) = rt
        .block_on(TestEnv::new(Engine::Sqlite))
        .expect("SQLite is always available");
    let world = rt.block_on(World::build(&env.services));
    // A zero TTL expires every entry as it is written (moka compares `written + ttl <= now`), so each call takes
    // the miss path: sha256, token row, account row, last-used write, cache insert.
    let (cold_env, _) = rt
        .block_on(TestEnv::with_config(Engine::Sqlite, |config| {
            config.token_cache_ttl = Duration::ZERO
        }))
        .expect("SQLite is always available");
    let cold_world = rt.block_on(World::build(&cold_env.services));
    rt.block_on(prove_cold(&cold_env, &cold_world));
    rt.block_on(create_password_user(&env.services));

    let valid = bearer(world.token("mia"));
    let malformed = bearer(&typo_of(world.token("mia")));
    let cold = bearer(cold_world.token("mia"));
    let basic = Credential::Basic {
        username: "paula".into(),
        password: Secret::new(PASSWORD),
    };
    rt.block_on(async {
        assert!(matches!(
            env.services.authenticate(Some(&valid)).await.unwrap(),
            Principal::User(_)
        ));
        assert!(matches!(
            env.services.authenticate(Some(&malformed)).await.unwrap(),
            Principal::InvalidCredentials
        ));
        assert!(matches!(
            cold_env.services.authenticate(Some(&cold)).await.unwrap(),
            Principal::User(_)
        ));
        assert!(matches!(
            env.services.authenticate_api(Some(&basic)).await.unwrap(),
            Principal::User(_)
        ));
    });

    let mut group = c.benchmark_group("authenticate");
    group.bench_function("token_cached", |b| {
        b.to_async(&rt)
            .iter(|| env.services.authenticate(Some(black_box(&valid))))
    });
    group.bench_function("token_cold_cache", |b| {
        b.to_async(&rt)
            .iter(|| cold_env.services.authenticate(Some(black_box(&cold))))
    });
    group.bench_function("token_malformed", |b| {
        b.to_async(&rt)
            .iter(|| env.services.authenticate(Some(black_box(&malformed))))
    });
    group.bench_function("token_parse_and_hash", |b| {
        let secret = world.token("mia");
        b.iter(|| {
            token::parse(black_box(secret))
                .expect("a valid token")
                .hash()
        })
    });
    group.finish();

    // argon2 takes tens of milliseconds by design; fewer samples keep the run short without changing the figure.
    let mut slow = c.benchmark_group("authenticate_api");
    slow.sample_size(10)
        .measurement_time(Duration::from_secs(5));
    slow.bench_function("basic_password_argon2", |b| {
        b.to_async(&rt)
            .iter(|| env.services.authenticate_api(Some(black_box(&basic))))
    });
    slow.finish();
}

/// Revokes a token behind the service's back (no cache invalidation): only a service that asks the database on
/// every call notices, so this fails if the zero TTL left the cache warm.
async fn prove_cold(env: &TestEnv, world: &World) {
    let secret = world.token_with("max", Scopes::all()).await;
    let credential = bearer(&secret);
    assert!(matches!(
        env.services.authenticate(Some(&credential)).await.unwrap(),
        Principal::User(_)
    ));
    let store = Store::open(&env.database_url)
        .await
        .expect("a second connection to the same database");
    let hash = token::parse(&secret).expect("a valid token").hash();
    let row = tokens::by_hash(store.db(), hash.sha256_hex())
        .await
        .unwrap()
        .expect("the token row");
    tokens::revoke(store.db(), row.id).await.unwrap();
    let after = env.services.authenticate(Some(&credential)).await.unwrap();
    assert!(
        matches!(after, Principal::InvalidCredentials),
        "the cold-cache services answered from the cache"
    );
    store.close().await.ok();
}

async fn create_password_user(services: &Services) {
    services
        .create_user(
            &Services::operator(),
            NewUser {
                login: "paula".into(),
                password: Some(PASSWORD.into()),
                email: None,
                name: None,
                site_admin: false,
            },
        )
        .await
        .expect("create a user with a password");
}

fn authorize_read(c: &mut Criterion) {
    let rt = runtime();
    let (env, _) = rt
        .block_on(TestEnv::new(Engine::Sqlite))
        .expect("SQLite is always available");
    let world = rt.block_on(World::build(&env.services));
    let key = PackageKey::new("acme", PackageType::Npm, "lib");
    let max = rt.block_on(async {
        let mia = world.principal("mia").await;
        entrepot_testkit::publish_file(
            &env.services,
            &mia,
            &key,
            "1.0.0",
            "lib-1.0.0.tgz",
            &[7u8; 4096],
            None,
        )
        .await
        .expect("publish");
        // max is an org member without a role on the package: only the explicit grant lets him read it, so the
        // facts loaded include the grants, not just ownership.
        env.services
            .grant(&mia, &key, &GranteeRef::User("max".into()), Role::Read)
            .await
            .expect("grant");
        let max = world.principal("max").await;
        let view = env
            .services
            .package(&max, &key)
            .await
            .expect("max may read the private package");
        assert_eq!(view.visibility, "private");
        max
    });

    let mut group = c.benchmark_group("authorize");
    group.bench_function("package_read_private_granted", |b| {
        b.to_async(&rt)
            .iter(|| env.services.package(black_box(&max), black_box(&key)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = authenticate, authorize_read
}
criterion_main!(benches);
