//! Every container route × every kind of principal → the expected answer, on SQLite and PostgreSQL.
//!
//! The world is the permission spec's (§6) plus a private image `acme/app` created by olga, with grants: mia
//! write, max read, and Actions access `write` for `acme/web`. Every principal presents its token directly
//! (Bearer PAT); the token flow's narrowing is tested in protocol.rs. Destructive cells each get their own
//! target (a tag, a blob, an upload session per principal), so no cell sees another's side effects. The table is
//! written by hand from docs/permissions.md, not computed from the code under test.

mod common;

use common::{app, push_blob, push_image, send, sha256};
use entrepot_container::ContainerConfig;
use entrepot_container::routes::{ROUTES, RouteKind};
use entrepot_service::authz::{PackageType, Role, Scope, Scopes, WorkflowLevel};
use entrepot_service::{GranteeRef, PackageKey, Services};
use entrepot_testkit::{World, on_both};

/// Columns of the expectation strings, in order.
const PRINCIPALS: [&str; 9] = [
    "anonymous",
    "invalid",
    "outsider",
    "mia",
    "max",
    "olga",
    "narrow",
    "workflow",
    "ursula",
];

struct Case {
    method: &'static str,
    kind: RouteKind,
    /// `{p}` is replaced by the principal's name, `{layer}` by a layer digest of the image, `{session}` by an
    /// upload session started for this cell, `{digest}` by the manifest digest of `v1`.
    path: &'static str,
    body: Body,
    /// One letter per principal: A = 2xx, U = 401, F = 403, N = 404.
    expect: &'static str,
}

#[derive(Clone, Copy)]
enum Body {
    None,
    /// A manifest over the image's existing blobs.
    Manifest,
    /// The bytes `x`.
    Chunk,
}

const PULL: &str = "UUNAAAAAN";
const PUSH: &str = "UUNAFAFAN";
const DELETE: &str = "UUNFFAFFN";

const CASES: &[Case] = &[
    Case {
        method: "GET",
        kind: RouteKind::Base,
        path: "/v2/",
        body: Body::None,
        expect: "UUAAAAAAA",
    },
    Case {
        method: "HEAD",
        kind: RouteKind::Base,
        path: "/v2/",
        body: Body::None,
        expect: "UUAAAAAAA",
    },
    Case {
        method: "GET",
        kind: RouteKind::Catalog,
        path: "/v2/_catalog",
        body: Body::None,
        expect: "AAAAAAAAA",
    },
    Case {
        method: "GET",
        kind: RouteKind::Blob,
        path: "/v2/acme/app/blobs/{layer}",
        body: Body::None,
        expect: PULL,
    },
    Case {
        method: "HEAD",
        kind: RouteKind::Blob,
        path: "/v2/acme/app/blobs/{layer}",
        body: Body::None,
        expect: PULL,
    },
    Case {
        method: "DELETE",
        kind: RouteKind::Blob,
        path: "/v2/acme/app/blobs/{blob}",
        body: Body::None,
        expect: DELETE,
    },
    Case {
        method: "GET",
        kind: RouteKind::Manifest,
        path: "/v2/acme/app/manifests/v1",
        body: Body::None,
        expect: PULL,
    },
    Case {
        method: "HEAD",
        kind: RouteKind::Manifest,
        path: "/v2/acme/app/manifests/{digest}",
        body: Body::None,
        expect: PULL,
    },
    Case {
        method: "PUT",
        kind: RouteKind::Manifest,
        path: "/v2/acme/app/manifests/new-{p}",
        body: Body::Manifest,
        expect: PUSH,
    },
    Case {
        method: "DELETE",
        kind: RouteKind::Manifest,
        path: "/v2/acme/app/manifests/del-{p}",
        body: Body::None,
        expect: DELETE,
    },
    Case {
        method: "POST",
        kind: RouteKind::UploadStart,
        path: "/v2/acme/app/blobs/uploads/",
        body: Body::None,
        expect: PUSH,
    },
    Case {
        method: "PATCH",
        kind: RouteKind::Upload,
        path: "/v2/acme/app/blobs/uploads/{session}",
        body: Body::Chunk,
        expect: PUSH,
    },
    Case {
        method: "PUT",
        kind: RouteKind::Upload,
        path: "/v2/acme/app/blobs/uploads/{session}?digest={x}",
        body: Body::Chunk,
        expect: PUSH,
    },
    Case {
        method: "GET",
        kind: RouteKind::Upload,
        path: "/v2/acme/app/blobs/uploads/{session}",
        body: Body::None,
        expect: PUSH,
    },
    Case {
        method: "DELETE",
        kind: RouteKind::Upload,
        path: "/v2/acme/app/blobs/uploads/{session}",
        body: Body::None,
        expect: PUSH,
    },
    Case {
        method: "GET",
        kind: RouteKind::Tags,
        path: "/v2/acme/app/tags/list",
        body: Body::None,
        expect: PULL,
    },
    Case {
        method: "GET",
        kind: RouteKind::Referrers,
        path: "/v2/acme/app/referrers/{digest}",
        body: Body::None,
        expect: PULL,
    },
];

#[test]
fn the_table_covers_every_declared_route() {
    for decl in ROUTES {
        assert!(
            CASES
                .iter()
                .any(|c| c.method == decl.method && c.kind == decl.kind),
            "no case for {} {:?}",
            decl.method,
            decl.kind
        );
    }
}

fn letter(status: u16) -> char {
    match status {
        200..=299 => 'A',
        401 => 'U',
        403 => 'F',
        404 => 'N',
        _ => '?',
    }
}

#[actix_web::test]
async fn every_route_times_every_principal() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let app = app(&env, ContainerConfig::default()).await;
        let olga_token = world.token("olga").to_owned();
        let olga = world.principal("olga").await;
        let key = PackageKey::new("acme", PackageType::Container, "app");
        let (manifest, digest) = push_image(
            &app,
            &olga_token,
            "acme/app",
            "v1",
            &serde_json::json!({"os": "linux"}),
            serde_json::json!({}),
        )
        .await;
        let parsed: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        let layer = parsed["layers"][0]["digest"].as_str().unwrap().to_owned();
        env.services
            .grant(&olga, &key, &GranteeRef::User("mia".into()), Role::Write)
            .await
            .unwrap();
        env.services
            .grant(&olga, &key, &GranteeRef::User("max".into()), Role::Read)
            .await
            .unwrap();
        env.services
            .set_actions_access(&olga, &key, "web", Role::Write)
            .await
            .unwrap();
        let narrow = world
            .token_with("mia", Scopes::only(Scope::ReadPackages))
            .await;
        let workflow = env
            .services
            .mint_workflow_token(&olga, "acme", "web", WorkflowLevel::Write, None)
            .await
            .unwrap()
            .token
            .expose()
            .to_owned();
        let token_of = |principal: &str| -> Option<String> {
            match principal {
                "anonymous" => None,
                "invalid" => Some("etp_0000000000000000000000000000000000000000".to_owned()),
                "narrow" => Some(narrow.clone()),
                "workflow" => Some(workflow.clone()),
                login => Some(world.token(login).to_owned()),
            }
        };

        let mut failures = Vec::new();
        for case in CASES {
            let mut got = String::new();
            for principal in PRINCIPALS {
                let mut path = case
                    .path
                    .replace("{p}", principal)
                    .replace("{layer}", &layer)
                    .replace("{digest}", &digest)
                    .replace("{x}", &sha256(b"x"));
                if path.contains("{blob}") {
                    let blob = push_blob(
                        &app,
                        &olga_token,
                        "acme/app",
                        format!("blob for {principal}").as_bytes(),
                    )
                    .await;
                    path = path.replace("{blob}", &blob);
                }
                if path.contains("del-") {
                    let a = send(
                        &app,
                        "PUT",
                        &format!("/v2/acme/app/manifests/del-{principal}"),
                        Some(&olga_token),
                        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
                        Some(&manifest),
                    )
                    .await;
                    assert_eq!(a.status, 201);
                }
                if path.contains("{session}") {
                    let a = send(
                        &app,
                        "POST",
                        "/v2/acme/app/blobs/uploads/",
                        Some(&olga_token),
                        &[],
                        None,
                    )
                    .await;
                    let session = a
                        .header("location")
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .to_owned();
                    path = path.replace("{session}", &session);
                }
                let body: Option<&[u8]> = match case.body {
                    Body::None => None,
                    Body::Manifest => Some(&manifest),
                    Body::Chunk => Some(b"x"),
                };
                let headers: &[(&str, &str)] = match case.body {
                    Body::Manifest => {
                        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")]
                    }
                    _ => &[],
                };
                let token = token_of(principal);
                let answer = send(&app, case.method, &path, token.as_deref(), headers, body).await;
                got.push(letter(answer.status.as_u16()));
            }
            if got != case.expect {
                failures.push(format!(
                    "{} {}: expected {} got {} ({})",
                    case.method,
                    case.path,
                    case.expect,
                    got,
                    PRINCIPALS.join(",")
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{:?}: \n{}",
            env.engine,
            failures.join("\n")
        );
        // The operator is a site admin: deleting works for it through the service too.
        env.services
            .delete_package(&Services::operator(), &key)
            .await
            .unwrap();
    })
    .await;
}
