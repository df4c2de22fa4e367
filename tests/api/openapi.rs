//! The OpenAPI document: committed copy, lint, and the route × method × auth matrix.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::Value;

use crate::support::{TestApp, spec};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[actix_web::test]
async fn served_spec_equals_the_committed_file() {
    let app = TestApp::new().await;
    let served = app.get("/openapi.json").await;
    served.assert_status(200);
    assert_eq!(served.header("content-type").as_deref(), Some("application/json"));
    let served = served.text();
    assert_eq!(served, rush_api::app::openapi::spec_json());
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, &served).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == served,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo nextest run openapi` and commit it"
    );
}

fn operations() -> Vec<(String, String, Value)> {
    let mut operations = Vec::new();
    for (path, item) in spec()["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            operations.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    operations
}

#[test]
fn every_operation_is_documented_for_integrators() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["servers"][0]["url"], "/");
    assert_eq!(spec["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let mut operation_ids = Vec::new();
    for (path, method, operation) in operations() {
        let name = format!("{method} {path}");
        let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(!id.is_empty(), "{name}: operationId");
        assert!(!operation["summary"].as_str().unwrap_or_default().is_empty(), "{name}: summary");
        assert!(!operation["description"].as_str().unwrap_or_default().is_empty(), "{name}: description");
        assert_eq!(operation["tags"].as_array().map(Vec::len), Some(1), "{name}: one tag");
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            assert!(
                !parameter["description"].as_str().unwrap_or_default().is_empty(),
                "{name}: parameter {} needs a description",
                parameter["name"]
            );
        }
        let security = &operation["security"];
        let public = security == &serde_json::json!([]);
        let is_write = method != "get";
        // Public: every read but the staff's, and the two writes the public makes.
        let staff = path.starts_with("/api/v1/event-requests") && !path.contains("/status/");
        let public_write = ["submit_event_request", "withdraw_event_request"].contains(&id.as_str());
        assert_eq!(public, if is_write { public_write } else { !staff }, "{name}: who may call it");
        if public {
            assert!(operation["responses"]["401"].is_null(), "{name}: a public operation never answers 401");
        } else {
            let scopes = security[0]["bearer"].as_array().cloned().unwrap_or_default();
            let expected = match id.as_str() {
                "create_event_from_request" => serde_json::json!(["requests", "content"]),
                _ if staff => serde_json::json!(["requests"]),
                _ => serde_json::json!(["content"]),
            };
            assert_eq!(serde_json::Value::Array(scopes), expected, "{name}: the scopes it needs");
            assert!(operation["responses"]["401"].is_object(), "{name}: documents 401");
            assert!(operation["responses"]["403"].is_object(), "{name}: documents 403");
            let description = operation["description"].as_str().unwrap_or_default();
            assert!(description.contains("insufficient_scope"), "{name}: the description names its scopes");
        }
        if path.starts_with("/api/") {
            let verb = match method.as_str() {
                "get" if path.contains('{') => "get",
                "get" => "list",
                "post" if public_write => id.split('_').next().unwrap_or_default(),
                "post" => "create",
                "patch" => "update",
                "delete" => "delete",
                other => other,
            };
            assert!(id.starts_with(&format!("{verb}_")), "{name}: operationId {id} is <verb>_<resource>");
        }
        for (status, response) in operation["responses"].as_object().into_iter().flatten() {
            let response = crate::support::resolve(spec, response);
            assert!(response["headers"]["X-Request-Id"].is_object(), "{name} {status}: X-Request-Id");
            if status.starts_with('4') || status.starts_with('5') {
                let problem = &response["content"]["application/problem+json"];
                assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem", "{name} {status}");
                let examples = problem["examples"].as_object().map(|e| e.len()).unwrap_or(0);
                assert!(examples >= 1, "{name} {status}: an example per problem code");
            }
        }
        assert!(!operation_ids.contains(&id), "{id} is not unique");
        operation_ids.push(id);
    }
    for (name, schema) in spec["components"]["schemas"].as_object().into_iter().flatten() {
        assert!(
            schema.get("description").is_some() || schema.get("oneOf").is_some() || schema.get("enum").is_some(),
            "schema {name} needs a description"
        );
    }
}

#[actix_web::test]
async fn every_documented_operation_is_routed_and_every_other_method_is_405() {
    let app = TestApp::new().await;
    // One record of each resource, each with id 1.
    app.create_program(serde_json::json!({})).await;
    app.create_initiative(serde_json::json!({})).await;
    app.create_event(serde_json::json!({})).await;
    app.create_metric(serde_json::json!({})).await;
    let methods = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
    // An unknown status link is a 404 of its own (the route exists; the request does not).
    let secret = "0".repeat(64);
    for (path, item) in spec()["paths"].as_object().into_iter().flatten() {
        let concrete = path.replace("{id}", "1").replace("{code}", "not_found").replace("{secret}", &secret);
        for method in &methods {
            let operation = item.get(method.as_str().to_ascii_lowercase());
            let response = app.send(TestRequest::default().method(method.clone()).uri(&concrete)).await;
            if let Some(operation) = operation {
                let unrouted = response.status == 404 && response.text().contains("There is nothing at");
                assert!(!unrouted, "{method} {path} is not routed");
                assert_ne!(response.status, 405, "{method} {path} is not routed");
                if operation["security"] != serde_json::json!([]) {
                    response.assert_problem(401, "unauthorized");
                } else {
                    assert_ne!(response.status, 401, "{method} {path} is public");
                }
            } else {
                response.assert_problem(405, "method_not_allowed");
            }
        }
    }
}

#[test]
fn a_merge_patch_schema_requires_no_member() {
    let schemas = spec()["components"]["schemas"].as_object().cloned().unwrap_or_default();
    let patches: Vec<&String> = schemas.keys().filter(|name| name.ends_with("Patch")).collect();
    assert!(patches.len() >= 5, "{patches:?}");
    for name in patches {
        assert!(schemas[name].get("required").is_none(), "{name}: a merge patch may leave out any field");
    }
}
