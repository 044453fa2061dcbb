//! Package settings over HTTP for a name holding `/` (container images), which arrives URL-encoded.

use actix_web::{App, test, web};
use entrepot_service::PackageKey;
use entrepot_service::authz::{PackageType, Principal};
use entrepot_testkit::{Engine, TestEnv, World};

#[actix_web::test]
async fn an_encoded_slash_names_a_nested_image() {
    let (env, _) = TestEnv::new(Engine::Sqlite).await.expect("sqlite");
    let world = World::build(&env.services).await;
    let olga = world.principal("olga").await;
    let key = PackageKey::new("acme", PackageType::Container, "tools/app");
    entrepot_testkit::publish_file(
        &env.services,
        &olga,
        &key,
        "sha256:0",
        "manifest",
        b"{}",
        None,
    )
    .await
    .unwrap();
    assert!(
        env.services
            .package(&Principal::Anonymous, &key)
            .await
            .is_err(),
        "private at first"
    );

    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(env.services.clone()))
            .configure(entrepot_api::configure),
    )
    .await;
    let response = test::call_service(
        &app,
        test::TestRequest::put()
            .uri("/api/v3/orgs/acme/packages/container/tools%2Fapp/visibility")
            .insert_header(("Authorization", format!("Bearer {}", world.token("olga"))))
            .set_json(serde_json::json!({ "visibility": "public" }))
            .to_request(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(body["name"], "tools/app");
    assert_eq!(body["visibility"], "public");
    env.services
        .package(&Principal::Anonymous, &key)
        .await
        .unwrap();
}
