//! Metrics ("By the Numbers"): exact numbers, their rules, the references they hold, the bundled
//! figures and their sources; and programs' NRMP codes.

use serde_json::{Value, json};

use crate::support::{TestApp, count_rows, valid_metric};

/// The numbers of a metric as the API answers them, as JSON text (so `825` and `825.0` differ).
fn number_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value")
}

#[actix_web::test]
async fn values_round_trip_exactly_as_json_numbers() {
    let app = TestApp::new().await;
    // What is sent (as raw JSON text) and what every read answers.
    let cases = [
        ("825", "825"),
        ("0", "0"),
        ("-16", "-16"),
        ("0.1", "0.1"),
        ("-2.75", "-2.75"),
        ("123456789012345", "123456789012345"),
        ("1.23456789012345", "1.23456789012345"),
        ("-98765.4321098765", "-98765.4321098765"),
        ("0.000123456789012345", "0.000123456789012345"),
        ("1e3", "1000"),
        ("2.50", "2.5"),
    ];
    for (n, (sent, answered)) in cases.into_iter().enumerate() {
        let body = format!(
            r#"{{"label": "Figure {n}", "value": {sent}, "target_value": {sent}, "target_date": "2030-12-31", "unit": "count", "source_name": "Test"}}"#
        );
        let body: Value = serde_json::from_str(&body).expect("the test's JSON");
        let created = app.post("/api/v1/metrics", &body).await;
        created.assert_status(201);
        let path = format!("/api/v1/metrics/{}", created.json()["id"]);
        for record in [created.json(), app.get(&path).await.json()] {
            assert_eq!(number_text(&record["value"]), answered, "value {sent}");
            assert_eq!(number_text(&record["target_value"]), answered, "target_value {sent}");
        }
        // The same numbers through a merge patch.
        let patched = app.patch(&path, &json!({"value": body["value"].clone(), "label": format!("Patched {n}")})).await;
        patched.assert_status(200);
        assert_eq!(number_text(&patched.json()["value"]), answered, "patched value {sent}");
    }
    // The raw text of a response keeps the integer an integer.
    let listed = app.get("/api/v1/metrics?limit=1").await.text();
    assert!(listed.contains(r#""value":825,"#), "{listed}");
}

#[actix_web::test]
async fn a_value_must_be_a_number_and_nothing_is_stored_otherwise() {
    let app = TestApp::new().await;
    for bad in [json!("825"), json!(null), json!(true), json!([1]), json!({"n": 1})] {
        let body = crate::support::merged(valid_metric(), json!({}));
        let mut body = body;
        body["value"] = bad.clone();
        app.post("/api/v1/metrics", &body).await.assert_invalid(&["value"]);
        let mut body = valid_metric();
        body["target_value"] = bad.clone();
        if !bad.is_null() {
            app.post("/api/v1/metrics", &body).await.assert_invalid(&["target_value"]);
        }
    }
    app.post("/api/v1/metrics", &json!({})).await.assert_invalid(&["label", "value", "unit", "source_name"]);
    let bad_unit = crate::support::merged(valid_metric(), json!({"unit": "dollars", "display_order": 10001}));
    app.post("/api/v1/metrics", &bad_unit).await.assert_invalid(&["unit", "display_order"]);
    assert_eq!(count_rows(&app, "metrics"), 0);
}

#[actix_web::test]
async fn a_target_date_needs_a_target_value_on_create_and_on_patch() {
    let app = TestApp::new().await;
    let alone = crate::support::merged(valid_metric(), json!({"target_date": "2030-12-31"}));
    let problem = app.post("/api/v1/metrics", &alone).await.assert_invalid(&["target_date"]);
    assert_eq!(problem["errors"][0]["pointer"], "/target_date");
    assert_eq!(count_rows(&app, "metrics"), 0);

    let metric =
        app.create_metric(json!({"value": 16, "unit": "years", "target_value": 8, "target_date": "2030-12-31"})).await;
    let path = format!("/api/v1/metrics/{}", metric["id"]);
    // Clearing the goal's value but not its date would leave a date without a goal.
    app.patch(&path, &json!({"target_value": null})).await.assert_invalid(&["target_date"]);
    assert_eq!(app.get(&path).await.json(), metric, "unchanged");
    let cleared = app.patch(&path, &json!({"target_value": null, "target_date": null})).await;
    cleared.assert_status(200);
    assert_eq!(cleared.json()["target_value"], Value::Null);
    assert_eq!(cleared.json()["target_date"], Value::Null);
}

#[actix_web::test]
async fn initiative_id_must_name_an_initiative() {
    let app = TestApp::new().await;
    let body = crate::support::merged(valid_metric(), json!({"initiative_id": 7}));
    let problem = app.post("/api/v1/metrics", &body).await.assert_invalid(&["initiative_id"]);
    assert!(problem["errors"][0]["message"].as_str().is_some_and(|m| m.contains("no initiative with id 7")));
    assert_eq!(count_rows(&app, "metrics"), 0);
    let initiative = app.create_initiative(json!({})).await;
    let metric = app.create_metric(json!({"initiative_id": initiative["id"]})).await;
    assert_eq!(metric["initiative_id"], initiative["id"]);
    let path = format!("/api/v1/metrics/{}", metric["id"]);
    app.patch(&path, &json!({"initiative_id": 99})).await.assert_invalid(&["initiative_id"]);
    assert_eq!(app.get(&path).await.json(), metric);
}

#[actix_web::test]
async fn deleting_an_initiative_that_metrics_reference_is_409_counting_events_and_metrics() {
    let app = TestApp::new().await;
    let initiative = app.create_initiative(json!({})).await;
    let path = format!("/api/v1/initiatives/{}", initiative["id"]);
    let first = app.create_metric(json!({"initiative_id": initiative["id"]})).await;
    app.create_metric(json!({"initiative_id": initiative["id"], "label": "Second"})).await;
    let problem = app.delete(&path).await.assert_problem(409, "still_referenced");
    assert_eq!(problem["referencing_metrics"], 2, "{problem}");
    assert_eq!(problem["referencing_events"], 0, "{problem}");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("2 metrics")), "{problem}");

    app.create_event(json!({"initiative_id": initiative["id"]})).await;
    let problem = app.delete(&path).await.assert_problem(409, "still_referenced");
    assert_eq!((problem["referencing_events"].clone(), problem["referencing_metrics"].clone()), (json!(1), json!(2)));
    app.get(&path).await.assert_status(200);

    // A program's refusal counts events only: metrics never reference programs.
    let program = app.create_program(json!({})).await;
    app.create_event(json!({"program_id": program["id"]})).await;
    let problem =
        app.delete(&format!("/api/v1/programs/{}", program["id"])).await.assert_problem(409, "still_referenced");
    assert_eq!(problem["referencing_events"], 1);
    assert!(problem.get("referencing_metrics").is_none(), "{problem}");

    app.delete(&format!("/api/v1/metrics/{}", first["id"])).await.assert_status(204);
    let problem = app.delete(&path).await.assert_problem(409, "still_referenced");
    assert_eq!(problem["referencing_metrics"], 1);
}

#[actix_web::test]
async fn metrics_are_in_the_change_feed_and_deletions() {
    let app = TestApp::new().await;
    let metric = app.create_metric(json!({})).await;
    let since = metric["updated_at"].as_str().expect("updated_at").to_owned();
    let changed = app.get(&format!("/api/v1/metrics?updated_since={since}")).await.json();
    assert_eq!(changed["meta"]["total"], 1);
    app.delete(&format!("/api/v1/metrics/{}", metric["id"])).await.assert_status(204);
    let deletions = app.get("/api/v1/deletions?resource=metrics").await.json();
    assert_eq!(deletions["data"][0]["resource"], "metrics");
    assert_eq!(deletions["data"][0]["id"], metric["id"]);
    app.get(&format!("/api/v1/metrics/{}", metric["id"])).await.assert_problem(404, "not_found");
}

#[actix_web::test]
async fn an_explicit_slug_that_is_taken_is_409_and_a_derived_one_is_suffixed() {
    let app = TestApp::new().await;
    let first = app.create_metric(json!({"label": "Life expectancy gap"})).await;
    assert_eq!(first["slug"], "life-expectancy-gap");
    let second = app.create_metric(json!({"label": "Life expectancy gap"})).await;
    assert_eq!(second["slug"], "life-expectancy-gap-2");
    let clash = crate::support::merged(valid_metric(), json!({"slug": "life-expectancy-gap"}));
    app.post("/api/v1/metrics", &clash).await.assert_problem(409, "slug_taken");
    assert_eq!(count_rows(&app, "metrics"), 2);
}

#[actix_web::test]
async fn nrmp_codes_are_optional_unique_patterned_and_filterable() {
    let app = TestApp::new().await;
    let coded = app.create_program(json!({"nrmp_code": "1234140C0"})).await;
    assert_eq!(coded["nrmp_code"], "1234140C0");
    let uncoded = app.create_program(json!({"name": "Neurology Residency"})).await;
    assert_eq!(uncoded["nrmp_code"], Value::Null);

    let clash =
        crate::support::merged(crate::support::valid_program(), json!({"name": "Other", "nrmp_code": "1234140C0"}));
    let problem = app.post("/api/v1/programs", &clash).await.assert_problem(409, "nrmp_code_taken");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("1234140C0")));
    assert_eq!(count_rows(&app, "programs"), 2);
    let path = format!("/api/v1/programs/{}", uncoded["id"]);
    app.patch(&path, &json!({"nrmp_code": "1234140C0"})).await.assert_problem(409, "nrmp_code_taken");
    assert_eq!(app.get(&path).await.json(), uncoded, "unchanged");
    // Its own code again is no clash.
    app.patch(&format!("/api/v1/programs/{}", coded["id"]), &json!({"nrmp_code": "1234140C0"}))
        .await
        .assert_status(200);

    for bad in ["1234140c0", "123414C0", "12341400C0", "1234140CC", " 1234140C0"] {
        let body = crate::support::merged(crate::support::valid_program(), json!({"nrmp_code": bad}));
        app.post("/api/v1/programs", &body).await.assert_invalid(&["nrmp_code"]);
    }
    assert_eq!(count_rows(&app, "programs"), 2);

    let found = app.get("/api/v1/programs?nrmp_code=1234140C0").await.json();
    assert_eq!(found["meta"]["total"], 1);
    assert_eq!(found["data"][0]["id"], coded["id"]);
    assert_eq!(app.get("/api/v1/programs?nrmp_code=7654321A1").await.json()["meta"]["total"], 0);
    app.get("/api/v1/programs?nrmp_code=nope").await.assert_invalid(&["nrmp_code"]);

    // Clearing frees the code for another program.
    app.patch(&format!("/api/v1/programs/{}", coded["id"]), &json!({"nrmp_code": null})).await.assert_status(200);
    app.patch(&path, &json!({"nrmp_code": "1234140C0"})).await.assert_status(200);
}

/// The public pages the dataset's figures are quoted from, kept beside the dataset
/// (`src/domain/dataset/sources/`, named in docs/dataset.md with their titles and URLs).
fn seed_pages() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain/dataset/sources");
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("the source pages are expected at {}: {e}", dir.display()));
    let pages: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "txt"))
        .map(|entry| std::fs::read_to_string(entry.path()).expect("a readable seed page"))
        .collect();
    assert!(!pages.is_empty(), "no seed pages in {}", dir.display());
    pages
}

#[actix_web::test]
async fn every_bundled_figure_quotes_its_source_verbatim_and_reads_back_exactly() {
    let pages = seed_pages();
    let dataset: Value = serde_json::from_str(rush_api::domain::dataset::DATASET).expect("the dataset is JSON");
    let figures = dataset["metrics"].as_array().cloned().unwrap_or_default();
    assert!(figures.len() >= 5, "the pages state more figures than {}", figures.len());
    for figure in &figures {
        let quote = figure["source_quote"].as_str().unwrap_or_else(|| panic!("{} has no source_quote", figure["slug"]));
        assert!(pages.iter().any(|page| page.contains(quote)), "not verbatim in the seed pages: {quote}");
        let value = figure["value"].to_string();
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
        let spelled = digits.parse::<usize>().ok().and_then(|n| words.get(n)).copied().unwrap_or("");
        let ordinal = if digits == "2" { "second" } else { "" };
        let with_commas = digits
            .as_bytes()
            .rchunks(3)
            .rev()
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect::<Vec<_>>()
            .join(",");
        let lower = quote.to_lowercase();
        assert!(
            quote.contains(&digits)
                || quote.contains(&with_commas)
                || (!spelled.is_empty() && lower.contains(spelled))
                || (!ordinal.is_empty() && lower.contains(ordinal)),
            "{}: the quote does not state {value}: {quote}",
            figure["slug"]
        );
        assert!(figure["source_name"].as_str().is_some_and(|name| !name.is_empty()));
    }
    // The figure the community health page names without a number is not invented.
    assert!(!figures.iter().any(|f| f["label"].as_str().is_some_and(|l| l.contains("West Side residents"))));

    let app = TestApp::seeded().await;
    let stored = app.all("metrics").await;
    assert_eq!(stored.len(), figures.len());
    for figure in figures {
        let record = stored.iter().find(|r| r["slug"] == figure["slug"]).expect("each figure is stored");
        for field in ["label", "value", "unit", "as_of", "target_value", "target_date", "source_name", "source_quote"] {
            assert_eq!(number_text(&record[field]), number_text(&figure[field]), "{} {field}", figure["slug"]);
        }
        let initiative = match figure["initiative"].as_str() {
            Some(slug) => {
                let found = app.get(&format!("/api/v1/initiatives/{}", record["initiative_id"])).await.json();
                assert_eq!(found["slug"], slug);
                continue;
            }
            None => Value::Null,
        };
        assert_eq!(record["initiative_id"], initiative);
    }
    // The pages list no NRMP codes: the bundled programs have none.
    assert!(app.all("programs").await.iter().all(|p| p["nrmp_code"].is_null()));
}
