//! The token lifecycle over HTTP: a secret is shown once, never again (not in listings, not in error bodies),
//! and a revoked token is answered with 401 and a challenge.

use actix_web::{App, test, web};
use base64::Engine;
use entrepot_service::{NewUser, Services};
use entrepot_testkit::{Engine as DbEngine, TestEnv};

#[actix_web::test]
async fn a_token_is_shown_once_and_refused_once_revoked() {
    let (env, _) = TestEnv::new(DbEngine::Sqlite).await.expect("sqlite");
    env.services
        .create_user(
            &Services::operator(),
            NewUser {
                login: "alice".into(),
                password: Some("a long password".into()),
                email: None,
                name: None,
                site_admin: false,
            },
        )
        .await
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(env.services.clone()))
            .configure(entrepot_api::configure),
    )
    .await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:a long password")
    );

    let created: serde_json::Value = test::call_and_read_body_json(
        &app,
        test::TestRequest::post()
            .uri("/api/v3/user/tokens")
            .insert_header(("Authorization", basic.as_str()))
            .set_json(serde_json::json!({ "name": "laptop", "scopes": ["read:packages", "write:packages"] }))
            .to_request(),
    )
    .await;
    let token = created["token"]
        .as_str()
        .expect("the secret, once")
        .to_owned();
    assert!(token.starts_with("etp_"));
    assert_eq!(
        created["scopes"],
        serde_json::json!(["read:packages", "write:packages"])
    );
    let id = created["id"].as_i64().unwrap();

    let bearer = format!("Bearer {token}");
    let me = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/v3/user")
            .insert_header(("Authorization", bearer.as_str()))
            .to_request(),
    )
    .await;
    assert_eq!(me.status(), 200);

    // Listings never carry the secret.
    let listed = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/v3/user/tokens")
            .insert_header(("Authorization", basic.as_str()))
            .to_request(),
    )
    .await;
    assert_eq!(listed.status(), 200);
    let body = String::from_utf8(test::read_body(listed).await.to_vec()).unwrap();
    assert!(
        body.contains("laptop") && !body.contains(&token[4..]),
        "{body}"
    );

    // A narrow token may not mint tokens (administration needs every scope).
    let denied = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/v3/user/tokens")
            .insert_header(("Authorization", bearer.as_str()))
            .set_json(serde_json::json!({ "name": "more", "scopes": ["read:packages"] }))
            .to_request(),
    )
    .await;
    assert_eq!(denied.status(), 403);

    let revoked = test::call_service(
        &app,
        test::TestRequest::delete()
            .uri(&format!("/api/v3/user/tokens/{id}"))
            .insert_header(("Authorization", basic.as_str()))
            .to_request(),
    )
    .await;
    assert_eq!(revoked.status(), 204);
    let refused = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/v3/user")
            .insert_header(("Authorization", bearer.as_str()))
            .to_request(),
    )
    .await;
    assert_eq!(refused.status(), 401);
    assert!(
        refused
            .headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().unwrap().starts_with("Basic realm="))
    );
    let body = String::from_utf8(test::read_body(refused).await.to_vec()).unwrap();
    assert!(
        !body.contains(&token[4..]),
        "the error body echoes the token: {body}"
    );

    // A wrong password is no better.
    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:not the password")
    );
    let refused = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/v3/user")
            .insert_header(("Authorization", wrong.as_str()))
            .to_request(),
    )
    .await;
    assert_eq!(refused.status(), 401);
}
