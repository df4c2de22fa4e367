//! The spec's own constraints, probed at their edges: for every request-body property with
//! `maxLength`, `minLength`, `minimum`, `maximum`, `pattern` or `enum`, the boundary value is
//! accepted and one past it is refused with a 422 naming that property. The values are derived
//! from the spec, so a constraint the spec states and the server does not enforce (or the other
//! way round) fails here.

use serde_json::{Value, json};

use crate::support::{TestApp, merged, spec, valid_event, valid_initiative, valid_metric, valid_program};

/// A property's schema with `$ref` (enums) followed.
fn resolved(schema: &Value) -> &Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
        Some(path) => path.split('/').fold(spec(), |node, key| &node[key]),
        None => schema,
    }
}

/// A string of exactly `length` characters that satisfies the property's format and pattern.
fn string_of(length: usize, format: Option<&str>) -> String {
    match format {
        Some("email") => {
            // local part of up to 64, then dotted labels of up to 63, ending in ".org".
            let local = "a".repeat(length.saturating_sub(6).min(64));
            let mut domain_length = length - local.len() - 1 - 4;
            let mut labels = Vec::new();
            while domain_length > 0 {
                let label = domain_length.min(63);
                labels.push("b".repeat(label));
                domain_length -= label;
                if domain_length > 0 {
                    domain_length -= 1; // the dot before the next label
                    if domain_length == 0 {
                        // A trailing dot would be an empty label: move one character over.
                        let last = labels.pop().unwrap_or_default();
                        labels.push(last[1..].to_owned());
                        labels.push("c".to_owned());
                    }
                }
            }
            format!("{local}@{}.org", labels.join("."))
        }
        Some("uri") => format!("https://example.org/{}", "a".repeat(length - 20)),
        _ => "a".repeat(length),
    }
}

struct Case {
    property: String,
    value: Value,
    valid: bool,
}

fn cases(schema: &Value) -> Vec<Case> {
    let mut cases = Vec::new();
    for (property, declared) in schema["properties"].as_object().into_iter().flatten() {
        let declared = resolved(declared);
        let format = declared["format"].as_str();
        let mut add = |value: Value, valid: bool| cases.push(Case { property: property.clone(), value, valid });
        if let Some(max) = declared["maxLength"].as_u64() {
            add(json!(string_of(max as usize, format)), true);
            add(json!(string_of(max as usize + 1, format)), false);
        }
        if let Some(min) = declared["minLength"].as_u64().filter(|min| *min > 0) {
            add(json!(string_of(min as usize, format)), true);
            add(json!(string_of(min as usize - 1, format)), false);
        }
        if let Some(pattern) = declared["pattern"].as_str() {
            if pattern == r"^[0-9]{7}[A-Z][0-9]$" {
                // An NRMP code: its example, and one with the letter in lower case.
                add(json!("1234140C0"), true);
                add(json!("1234140c0"), false);
            } else {
                add(json!("a1-b2"), true);
                // Outside the slug's shape, or, for text, a control character (ESC) in it.
                let refused = if pattern == r"^[a-z0-9]+(-[a-z0-9]+)*$" { "A1--b2" } else { "a1\u{1B}b2" };
                add(json!(refused), false);
            }
        }
        if let Some(min) = declared["minimum"].as_i64() {
            add(json!(min), true);
            add(json!(min - 1), false);
        }
        if let Some(max) = declared["maximum"].as_i64() {
            add(json!(max), true);
            add(json!(max + 1), false);
        }
        if let Some(values) = declared["enum"].as_array() {
            for value in values {
                add(value.clone(), true);
            }
            add(json!("not_one_of_them"), false);
        }
    }
    cases
}

/// Each case's value checked against the property's own schema first: the spec must agree with
/// what the case expects, or the case is wrong.
fn schema_agrees(schema: &Value, case: &Case) -> bool {
    let property = resolved(&schema["properties"][&case.property]).clone();
    jsonschema::validator_for(&property).map(|validator| validator.is_valid(&case.value)).unwrap_or(false)
}

#[actix_web::test]
async fn every_constrained_body_property_is_enforced_exactly_at_its_boundaries() {
    let app = TestApp::new().await;
    // References at their lower boundary (1) must name existing records.
    app.create_program(json!({})).await;
    app.create_initiative(json!({})).await;
    let resources: [(&str, &str, Value); 4] = [
        ("/api/v1/programs", "NewProgram", valid_program()),
        ("/api/v1/initiatives", "NewInitiative", valid_initiative()),
        ("/api/v1/events", "NewEvent", valid_event()),
        ("/api/v1/metrics", "NewMetric", valid_metric()),
    ];
    let mut checked = 0;
    for (path, schema_name, base) in resources {
        let schema = &spec()["components"]["schemas"][schema_name];
        for (n, case) in cases(schema).into_iter().enumerate() {
            assert_eq!(schema_agrees(schema, &case), case.valid, "{schema_name}.{} = {}", case.property, case.value);
            let mut value = case.value.clone();
            if case.property == "slug"
                && case.valid
                && let Some(text) = value.as_str()
            {
                // Explicit slugs must be unique: the same length and shape, ending in the case number.
                let suffix = n.to_string();
                value = if text.len() > suffix.len() {
                    json!(format!("{}{suffix}", &text[..text.len() - suffix.len()]))
                } else {
                    // Not `a`: the shortest valid name, "a", derives the slug `a`.
                    let symbols = b"0123456789bcdefghijklmnopqrstuvwxyz";
                    json!(char::from(symbols[n % symbols.len()]).to_string())
                };
            }
            let mut body = merged(base.clone(), json!({ &case.property: value }));
            // Unique names, so that an accepted slug-bearing record never clashes with another.
            if case.property != "name" && body.get("name").is_some() {
                body["name"] = json!(format!("Boundary {n} {}", case.property));
            }
            if case.property == "is_virtual" && case.value == json!(true) {
                body["virtual_url"] = json!("https://example.org/live");
            }
            let response = app.post(path, &body).await;
            if case.valid {
                assert_eq!(response.status, 201, "{path} {} = {}: {}", case.property, case.value, response.text());
            } else {
                response.assert_invalid(&[case.property.as_str()]);
            }
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} cases: is the spec still read?");
}
