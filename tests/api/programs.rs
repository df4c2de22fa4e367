//! Programs: fields, rules, slugs, merge patch and delete.

use serde_json::{Value, json};

use crate::support::{TestApp, count_rows, merged, valid_program};

#[actix_web::test]
async fn create_returns_201_with_location_etag_defaults_and_nulls() {
    let app = TestApp::new().await;
    let response = app.post("/api/v1/programs", &valid_program()).await;
    response.assert_status(201);
    let program = response.json();
    let id = program["id"].as_i64().expect("an id");
    assert_eq!(response.header("location"), Some(format!("/api/v1/programs/{id}")));
    let etag = response.header("etag").expect("an ETag");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "strong ETag: {etag}");
    assert_eq!(program["slug"], "internal-medicine-residency");
    assert_eq!(program["accepting_applications"], true);
    for optional in [
        "department",
        "description",
        "positions_per_year",
        "accreditor",
        "accreditation_id",
        "director_name",
        "contact_email",
        "website_url",
        "application_deadline",
    ] {
        assert_eq!(program[optional], Value::Null, "{optional} is present as null");
    }
    let created = program["created_at"].as_str().unwrap_or_default();
    assert_eq!(created.len(), "2026-05-17T15:04:05.123456Z".len(), "microseconds and Z: {created}");
    assert!(created.ends_with('Z'));
    assert_eq!(program["created_at"], program["updated_at"]);

    let read = app.get(&format!("/api/v1/programs/{id}")).await;
    read.assert_status(200);
    assert_eq!(read.json(), program);
    assert_eq!(read.header("etag"), Some(etag));
}

#[actix_web::test]
async fn every_invalid_field_is_named_at_once_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let body = json!({
        "name": "",
        "program_type": "internship",
        "specialty": "x".repeat(121),
        "campus": "rush_downtown",
        "duration_years": 11,
        "positions_per_year": -1,
        "contact_email": "not-an-email",
        "website_url": "ftp://rush.edu",
        "application_deadline": "2027-02-30",
        "accepting_applications": "yes",
        "id": 5,
        "created_at": "2026-01-01T00:00:00Z",
        "colour": "green"
    });
    let response = app.post("/api/v1/programs", &body).await;
    response.assert_invalid(&[
        "name",
        "program_type",
        "specialty",
        "campus",
        "duration_years",
        "positions_per_year",
        "contact_email",
        "website_url",
        "application_deadline",
        "accepting_applications",
        "id",
        "created_at",
        "colour",
    ]);
    assert_eq!(count_rows(&app, "programs"), 0);
}

#[actix_web::test]
async fn each_broken_rule_is_a_422_naming_that_field() {
    let app = TestApp::new().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("missing name", json!({"name": null}), "name"),
        ("name too long", json!({"name": "é".repeat(201)}), "name"),
        ("name not a string", json!({"name": 7}), "name"),
        ("slug with capitals", json!({"slug": "Internal"}), "slug"),
        ("slug with double hyphen", json!({"slug": "a--b"}), "slug"),
        ("slug too long", json!({"slug": "a".repeat(81)}), "slug"),
        ("missing program_type", json!({"program_type": null}), "program_type"),
        ("empty specialty", json!({"specialty": ""}), "specialty"),
        ("department too long", json!({"department": "d".repeat(121)}), "department"),
        ("missing campus", json!({"campus": null}), "campus"),
        ("description too long", json!({"description": "d".repeat(10_001)}), "description"),
        ("duration zero", json!({"duration_years": 0}), "duration_years"),
        ("duration fractional", json!({"duration_years": 2.5}), "duration_years"),
        ("duration as text", json!({"duration_years": "3"}), "duration_years"),
        ("positions over 500", json!({"positions_per_year": 501}), "positions_per_year"),
        ("director too long", json!({"director_name": "d".repeat(201)}), "director_name"),
        ("email without domain", json!({"contact_email": "gme@"}), "contact_email"),
        ("relative url", json!({"website_url": "/gme"}), "website_url"),
        ("deadline not a date", json!({"application_deadline": "next year"}), "application_deadline"),
        ("ACGME id not 10 digits", json!({"accreditor": "ACGME", "accreditation_id": "12345"}), "accreditation_id"),
    ];
    for (case, overrides, field) in cases {
        let response = app.post("/api/v1/programs", &merged(valid_program(), overrides)).await;
        assert_eq!(response.status, 422, "{case}: {}", response.text());
        response.assert_invalid(&[field]);
    }
    assert_eq!(count_rows(&app, "programs"), 0);
}

#[actix_web::test]
async fn boundary_values_are_accepted_and_stored_as_sent() {
    let app = TestApp::new().await;
    let program = app
        .create_program(json!({
            "name": format!("  {}  ", "é".repeat(196)),
            "duration_years": 10,
            "positions_per_year": 0,
            "accreditor": "ACGME",
            "accreditation_id": "1401600001",
            "contact_email": "gme.office@rush.edu",
            "website_url": "https://www.rush.edu/education/gme?x=1",
            "application_deadline": "2027-09-15",
            "accepting_applications": false
        }))
        .await;
    assert_eq!(program["name"].as_str().map(|n| n.chars().count()), Some(200));
    assert!(program["name"].as_str().unwrap_or_default().starts_with("  "), "not trimmed");
    assert_eq!(program["positions_per_year"], 0);
    assert_eq!(program["accreditation_id"], "1401600001");
    assert_eq!(program["accepting_applications"], false);
    assert_eq!(program["application_deadline"], "2027-09-15");
    assert_eq!(program["slug"], "program", "a name without ASCII letters falls back");
}

#[actix_web::test]
async fn derived_slugs_get_numbered_suffixes_and_explicit_clashes_are_409() {
    let app = TestApp::new().await;
    let first = app.create_program(json!({})).await;
    let second = app.create_program(json!({})).await;
    let third = app.create_program(json!({"name": "Internal   Medicine -- Residency!"})).await;
    assert_eq!(first["slug"], "internal-medicine-residency");
    assert_eq!(second["slug"], "internal-medicine-residency-2");
    assert_eq!(third["slug"], "internal-medicine-residency-3");

    let clash =
        app.post("/api/v1/programs", &merged(valid_program(), json!({"slug": "internal-medicine-residency-2"}))).await;
    clash.assert_problem(409, "slug_taken");
    assert_eq!(count_rows(&app, "programs"), 3);

    let long_name = "Very Long Program Name ".repeat(8);
    let mut long_slugs = Vec::new();
    for _ in 0..4 {
        long_slugs
            .push(app.create_program(json!({"name": long_name})).await["slug"].as_str().unwrap_or_default().to_owned());
    }
    assert!(long_slugs.iter().all(|slug| slug.len() <= 80), "{long_slugs:?}");
    assert!(
        long_slugs[1].ends_with("-2") && long_slugs[2].ends_with("-3") && long_slugs[3].ends_with("-4"),
        "{long_slugs:?}"
    );

    let non_ascii = app.create_program(json!({"name": "Médecine Familiale"})).await;
    assert_eq!(non_ascii["slug"], "m-decine-familiale");
    let no_ascii = app.create_program(json!({"name": "小儿科"})).await;
    assert_eq!(no_ascii["slug"], "program");
}

#[actix_web::test]
async fn merge_patch_sets_clears_and_keeps_fields() {
    let app = TestApp::new().await;
    let program =
        app.create_program(json!({"department": "Department of Internal Medicine", "positions_per_year": 12})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);

    let response =
        app.patch(&path, &json!({"department": null, "duration_years": 4, "director_name": "A. Director"})).await;
    response.assert_status(200);
    let patched = response.json();
    assert_eq!(patched["department"], Value::Null);
    assert_eq!(patched["duration_years"], 4);
    assert_eq!(patched["director_name"], "A. Director");
    assert_eq!(patched["positions_per_year"], 12, "absent fields stay");
    assert_eq!(patched["slug"], program["slug"], "renaming does not move the slug");
    assert_eq!(patched["created_at"], program["created_at"]);
    assert!(patched["updated_at"].as_str() > program["updated_at"].as_str());
    assert_ne!(response.header("etag"), None);
    assert_eq!(app.get(&path).await.json(), patched);
}

#[actix_web::test]
async fn patch_accepts_plain_json_and_advertises_accept_patch() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    let request = actix_web::test::TestRequest::patch()
        .uri(&path)
        .insert_header(("Content-Type", "application/json; charset=utf-8"))
        .set_payload(r#"{"specialty": "Cardiology"}"#);
    let response = app.send(app.authorized(request)).await;
    response.assert_status(200);
    assert_eq!(response.json()["specialty"], "Cardiology");
    let accept_patch = response.header("accept-patch").unwrap_or_default();
    assert!(accept_patch.contains("application/merge-patch+json"), "{accept_patch}");
}

#[actix_web::test]
async fn patch_that_changes_nothing_keeps_updated_at_and_etag() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({"specialty": "Neurology"})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    let before = app.get(&path).await;
    let response = app.patch(&path, &json!({"specialty": "Neurology", "name": program["name"]})).await;
    response.assert_status(200);
    assert_eq!(response.json()["updated_at"], program["updated_at"]);
    assert_eq!(response.header("etag"), before.header("etag"));
    let empty = app.patch(&path, &json!({})).await;
    assert_eq!(empty.json(), program);
}

#[actix_web::test]
async fn invalid_patches_are_422_and_change_nothing() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({"accreditor": "ACGME"})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("required field nulled", json!({"name": null, "campus": null}), vec!["name", "campus"]),
        ("read-only fields", json!({"id": 9, "updated_at": "2027-01-01T00:00:00Z"}), vec!["id", "updated_at"]),
        ("unknown field", json!({"nickname": "IM"}), vec!["nickname"]),
        ("ACGME number on the merged record", json!({"accreditation_id": "ABC"}), vec!["accreditation_id"]),
        (
            "field and record rules together",
            json!({"name": "", "accreditation_id": "12"}),
            vec!["name", "accreditation_id"],
        ),
        ("slug cannot be cleared", json!({"slug": null}), vec!["slug"]),
    ];
    for (case, body, fields) in cases {
        let response = app.patch(&path, &body).await;
        assert_eq!(response.status, 422, "{case}: {}", response.text());
        response.assert_invalid(&fields);
    }
    let not_an_object = app.patch(&path, &json!(["name"])).await;
    not_an_object.assert_invalid(&["body"]);
    assert_eq!(app.get(&path).await.json(), program);
}

#[actix_web::test]
async fn patching_to_a_taken_slug_is_409_and_changes_nothing() {
    let app = TestApp::new().await;
    let taken = app.create_program(json!({"name": "Neurology Residency"})).await;
    let program = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    app.patch(&path, &json!({"slug": taken["slug"]})).await.assert_problem(409, "slug_taken");
    assert_eq!(app.get(&path).await.json(), program);
    let own = app.patch(&path, &json!({"slug": "im-residency"})).await;
    own.assert_status(200);
    assert_eq!(own.json()["slug"], "im-residency");
}

#[actix_web::test]
async fn delete_removes_the_program_and_its_id_is_never_reused() {
    let app = TestApp::new().await;
    let first = app.create_program(json!({})).await;
    let second = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", second["id"]);
    let response = app.delete(&path).await;
    response.assert_status(204);
    assert!(response.body.is_empty());
    app.get(&path).await.assert_problem(404, "not_found");
    app.delete(&path).await.assert_problem(404, "not_found");
    let third = app.create_program(json!({})).await;
    assert!(third["id"].as_i64() > second["id"].as_i64(), "ids are not reused");
    assert_eq!(third["slug"], "internal-medicine-residency-2", "a deleted slug is free again");
    assert_eq!(count_rows(&app, "programs"), 2);
    assert!(first["id"].as_i64() < second["id"].as_i64());
}

#[actix_web::test]
async fn deleting_a_program_that_events_reference_is_409_with_the_count() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    for _ in 0..2 {
        app.create_event(json!({"program_id": program["id"]})).await;
    }
    let path = format!("/api/v1/programs/{}", program["id"]);
    let problem = app.delete(&path).await.assert_problem(409, "still_referenced");
    assert_eq!(problem["referencing_events"], 2);
    assert!(problem["detail"].as_str().unwrap_or_default().contains('2'), "{problem}");
    assert_eq!(count_rows(&app, "programs"), 1);
}

#[actix_web::test]
async fn ids_that_name_no_program_are_404() {
    let app = TestApp::new().await;
    for id in ["999", "0", "-1", "abc", "1.5", "99999999999999999999"] {
        app.get(&format!("/api/v1/programs/{id}")).await.assert_problem(404, "not_found");
    }
}
