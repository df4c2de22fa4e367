//! Several `rush-api serve` processes on one PostgreSQL database, over real HTTP: what API.md
//! promises across instances. These run whenever PostgreSQL is available (`postgres::shared`),
//! whatever backend the rest of the suite uses. Every loop is bounded in count and time.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::run;
use crate::reliability::{Client, body_for, race, race_delete_against_referencing_create, spawn_writers};
use crate::server::Server;

/// A new database on the shared cluster and a token for it, or `None` without PostgreSQL.
fn database(dir: &tempfile::TempDir) -> Option<(String, String)> {
    let postgres = crate::postgres::shared()?;
    let url = postgres.url(&postgres.database());
    let output = run(dir, &["token", "create", "--name", "instances"], &[("DATABASE_URL", &url)]);
    assert!(output.status.success(), "{output:?}");
    let token = String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_owned();
    Some((url, token))
}

const UNLIMITED: &[(&str, &str)] = &[("RATE_LIMIT_PER_MINUTE", "0"), ("RATE_LIMIT_TOKEN_PER_MINUTE", "0")];

fn start(url: &str, dir: &tempfile::TempDir, count: usize, args: &[&str]) -> Vec<Server> {
    (0..count).map(|_| Server::start_with(url, dir.path(), args, UNLIMITED)).collect()
}

fn get(client: &mut Client, path: &str) -> crate::reliability::Reply {
    client.send("GET", path, None, &[]).expect("GET")
}

#[test]
fn a_write_through_one_instance_is_seen_at_once_through_another() {
    let dir = tempfile::tempdir().expect("dir");
    let Some((url, token)) = database(&dir) else { return };
    let servers = start(&url, &dir, 2, &["serve"]);
    let (mut a, mut b) = (Client::new(servers[0].address, &token), Client::new(servers[1].address, &token));
    for collection in crate::support::collections() {
        // Warm whatever B might keep: the list, its total and the record's ETag.
        let list = format!("/api/v1/{collection}?limit=5");
        let total_before = get(&mut b, &list).json()["meta"]["total"].as_i64().unwrap_or(-1);
        let created = a.send("POST", &format!("/api/v1/{collection}"), Some(&body_for(collection, "Seen")), &[]);
        let created = created.expect("create");
        assert_eq!(created.status, 201, "{collection}: {}", created.body);
        let path = format!("/api/v1/{collection}/{}", created.json()["id"]);
        let on_b = get(&mut b, &path);
        assert_eq!(on_b.status, 200, "{collection}: created through A, read through B");
        assert_eq!(on_b.json(), created.json());
        assert_eq!(on_b.headers.get("etag"), created.headers.get("etag"), "{collection}: one ETag on both");
        assert_eq!(
            get(&mut b, &list).json()["meta"]["total"].as_i64(),
            Some(total_before + 1),
            "{collection}: B's total"
        );
        let etag = on_b.headers.get("etag").cloned().unwrap_or_default();
        let not_modified = b.send("GET", &path, None, &[("If-None-Match", &etag)]).expect("conditional GET");
        assert_eq!(not_modified.status, 304);

        // Changed through A: B neither answers 304 to the old ETag nor serves the old record.
        let label = crate::reliability::label_field(collection);
        let patched = a.send("PATCH", &path, Some(&json!({label: "Seen Again"})), &[]).expect("patch");
        assert_eq!(patched.status, 200, "{collection}: {}", patched.body);
        let after = b.send("GET", &path, None, &[("If-None-Match", &etag)]).expect("conditional GET");
        assert_eq!(after.status, 200, "{collection}: B answered 304 to an ETag A replaced");
        assert_eq!(after.json()[label], "Seen Again");
        // The change feed on B shows it.
        let since = created.json()["updated_at"].as_str().unwrap_or_default().to_owned();
        let feed = get(&mut b, &format!("/api/v1/{collection}?updated_since={since}&limit=100"));
        assert!(feed.json()["data"].as_array().is_some_and(|d| d.iter().any(|r| r[label] == "Seen Again")));
        // A stale If-Match through B is refused: B knows the current version.
        let stale = b.send("PATCH", &path, Some(&json!({label: "Lost"})), &[("If-Match", &etag)]).expect("patch");
        assert_eq!(stale.status, 412, "{collection}");

        // Deleted through A: gone through B, and in B's deletions feed.
        assert_eq!(a.send("DELETE", &path, None, &[]).expect("delete").status, 204);
        assert_eq!(get(&mut b, &path).status, 404, "{collection}: deleted through A, still on B");
        assert_eq!(get(&mut b, &list).json()["meta"]["total"].as_i64(), Some(total_before), "{collection}: B's total");
        let deletions = get(&mut b, &format!("/api/v1/deletions?resource={collection}&since={since}")).json();
        let id = created.json()["id"].clone();
        assert!(deletions["data"].as_array().is_some_and(|d| d.iter().any(|t| t["id"] == id)), "{deletions}");
    }
    servers.iter().for_each(Server::assert_no_panics);
}

/// `include`: an instance that served an embedded representation never revalidates it after
/// another instance changed the embedded record.
#[test]
fn an_embedded_record_changed_through_one_instance_is_never_stale_through_another() {
    let dir = tempfile::tempdir().expect("dir");
    let Some((url, token)) = database(&dir) else { return };
    let servers = start(&url, &dir, 2, &["serve", "--no-seed"]);
    let (mut a, mut b) = (Client::new(servers[0].address, &token), Client::new(servers[1].address, &token));
    let initiative = a.send("POST", "/api/v1/initiatives", Some(&body_for("initiatives", "Embedded")), &[]);
    let initiative = initiative.expect("create").json();
    let event = json!({"title": "Embedding", "event_type": "health_fair", "starts_at": "2027-03-14T09:00:00-05:00",
        "initiative_id": initiative["id"]});
    let event = a.send("POST", "/api/v1/events", Some(&event), &[]).expect("create").json();
    let paths = [
        format!("/api/v1/events/{}?include=initiative", event["id"]),
        format!("/api/v1/events?initiative_id={}&include=initiative", initiative["id"]),
        format!("/api/v1/initiatives/{}?include=events", initiative["id"]),
    ];
    let mut tags = Vec::new();
    for path in &paths {
        let first = get(&mut b, path);
        assert_eq!(first.status, 200, "{path}: {}", first.body);
        let etag = first.headers.get("etag").cloned().unwrap_or_default();
        assert_eq!(b.send("GET", path, None, &[("If-None-Match", &etag)]).expect("GET").status, 304, "{path}");
        let on_a = get(&mut a, path);
        assert_eq!(on_a.headers.get("etag"), Some(&etag), "{path}: one ETag on both instances");
        tags.push(etag);
    }
    let renamed = json!({"name": "Embedded, renamed"});
    let patched = a.send("PATCH", &format!("/api/v1/initiatives/{}", initiative["id"]), Some(&renamed), &[]);
    assert_eq!(patched.expect("patch").status, 200);
    let retitled = json!({"title": "Embedding, retitled"});
    let patched = a.send("PATCH", &format!("/api/v1/events/{}", event["id"]), Some(&retitled), &[]);
    assert_eq!(patched.expect("patch").status, 200);
    for (path, old) in paths.iter().zip(&tags) {
        let after = b.send("GET", path, None, &[("If-None-Match", old)]).expect("conditional GET");
        assert_eq!(after.status, 200, "{path}: B answered 304 to an ETag of stale embedded data");
        assert!(after.body.contains("renamed") || after.body.contains("retitled"), "{path}: {}", after.body);
    }
    servers.iter().for_each(Server::assert_no_panics);
}

#[test]
fn conflicting_writes_on_different_instances_have_exactly_one_winner() {
    let dir = tempfile::tempdir().expect("dir");
    let Some((url, token)) = database(&dir) else { return };
    let servers = start(&url, &dir, 3, &["serve", "--no-seed"]);
    let addresses: Vec<SocketAddr> = servers.iter().map(|s| s.address).collect();

    let statuses = race(&addresses, &token, |client| {
        let body = json!({"name": "Same Slug", "slug": "same-slug", "category": "education"});
        client.send("POST", "/api/v1/initiatives", Some(&body), &[]).map_or(0, |r| r.status)
    });
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 31, "{statuses:?}");

    let mut client = Client::new(addresses[0], &token);
    let program = client.send("POST", "/api/v1/programs", Some(&body_for("programs", "Raced")), &[]).expect("create");
    let path = format!("/api/v1/programs/{}", program.json()["id"]);
    let etag = program.headers.get("etag").cloned().unwrap_or_default();
    let statuses = race(&addresses, &token, move |client| {
        let body = json!({"name": format!("Winner {:?}", std::thread::current().id())});
        client.send("PATCH", &path, Some(&body), &[("If-Match", &etag)]).map_or(0, |r| r.status)
    });
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 31, "{statuses:?}");

    // A delete racing a referencing create, each on another instance: never a dangling reference.
    for round in 0..10 {
        race_delete_against_referencing_create(addresses[round % 3], addresses[(round + 1) % 3], &token, round);
    }
    assert_eq!(crate::support::dangling_references(&url), 0);

    // An Idempotency-Key replays on another instance.
    let key = [("Idempotency-Key", "instances-1")];
    let body = body_for("initiatives", "Once Only");
    let first = Client::new(addresses[0], &token).send("POST", "/api/v1/initiatives", Some(&body), &key).expect("post");
    let again = Client::new(addresses[1], &token).send("POST", "/api/v1/initiatives", Some(&body), &key).expect("post");
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(again.json(), first.json(), "the retry on another instance replays the first answer");
    let listed = get(&mut Client::new(addresses[2], &token), "/api/v1/initiatives?q=once%20only").json();
    assert_eq!(listed["meta"]["total"], 1);
    servers.iter().for_each(Server::assert_no_panics);
}

/// Every record of `collection` through `client`, by id.
fn everything(client: &mut Client, collection: &str) -> BTreeMap<i64, Value> {
    let mut records = BTreeMap::new();
    for page in 0..200 {
        let reply = get(client, &format!("/api/v1/{collection}?limit=100&offset={}", page * 100)).json();
        let data = reply["data"].as_array().cloned().unwrap_or_default();
        let done = data.len() < 100;
        records.extend(data.into_iter().map(|r| (r["id"].as_i64().unwrap_or(0), r)));
        if done {
            break;
        }
    }
    records
}

/// Where a mirror has got to in each feed: the largest `updated_at` and `deleted_at` it has seen.
struct Cursors {
    updated: String,
    deleted: String,
}

/// One poll of a mirror of programs through `client`, as docs/api.md describes it: each feed from
/// its own cursor, paged by moving the cursor (inclusive) to the last item of each page, which
/// unlike offsets cannot skip a record that changes while the mirror pages.
fn poll(client: &mut Client, mirror: &mut BTreeMap<i64, Value>, cursors: &mut Cursors) {
    for _ in 0..1_000 {
        let path = format!("/api/v1/programs?updated_since={}&sort=updated_at&limit=100", cursors.updated);
        let data = get(client, &path).json()["data"].as_array().cloned().unwrap_or_default();
        for record in &data {
            cursors.updated = cursors.updated.clone().max(record["updated_at"].as_str().unwrap_or_default().to_owned());
            mirror.insert(record["id"].as_i64().unwrap_or(0), record.clone());
        }
        if data.len() < 100 {
            break;
        }
    }
    for _ in 0..1_000 {
        let path = format!("/api/v1/deletions?resource=programs&since={}&limit=100", cursors.deleted);
        let data = get(client, &path).json()["data"].as_array().cloned().unwrap_or_default();
        for tombstone in &data {
            cursors.deleted =
                cursors.deleted.clone().max(tombstone["deleted_at"].as_str().unwrap_or_default().to_owned());
            mirror.remove(&tombstone["id"].as_i64().unwrap_or(0));
        }
        if data.len() < 100 {
            break;
        }
    }
}

#[test]
fn a_mirror_polling_one_instance_while_writers_hit_all_ends_equal_to_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    let Some((url, token)) = database(&dir) else { return };
    let servers = start(&url, &dir, 3, &["serve", "--no-seed"]);
    let addresses: Vec<SocketAddr> = servers.iter().map(|s| s.address).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..6usize)
        .map(|worker| {
            let (stop, token, address) = (Arc::clone(&stop), token.clone(), addresses[worker % 3]);
            std::thread::spawn(move || {
                let mut client = Client::new(address, &token);
                let mut mine: Vec<i64> = Vec::new();
                let started = Instant::now();
                for n in 0..5_000u64 {
                    if stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(30) {
                        break;
                    }
                    let body = body_for("programs", &format!("Mirror {worker}-{n}"));
                    match n % 4 {
                        // Mostly creates, then updates and deletes of what this writer made.
                        1 if !mine.is_empty() => {
                            let id = mine[(n as usize) % mine.len()];
                            let renamed = json!({"name": format!("Renamed {worker}-{n}")});
                            let _ = client.send("PATCH", &format!("/api/v1/programs/{id}"), Some(&renamed), &[]);
                        }
                        3 if !mine.is_empty() => {
                            let id = mine.swap_remove((n as usize) % mine.len());
                            let _ = client.send("DELETE", &format!("/api/v1/programs/{id}"), None, &[]);
                        }
                        _ => {
                            if let Ok(reply) = client.send("POST", "/api/v1/programs", Some(&body), &[]) {
                                mine.extend(reply.json()["id"].as_i64());
                            }
                        }
                    }
                }
            })
        })
        .collect();
    let mut mirror = BTreeMap::new();
    let start = "1970-01-01T00:00:00Z".to_owned();
    let mut cursors = Cursors { updated: start.clone(), deleted: start };
    let mut observer = Client::new(addresses[0], &token);
    let polling = Instant::now();
    let mut polls = 0;
    while polling.elapsed() < Duration::from_secs(4) && polls < 10_000 {
        poll(&mut observer, &mut mirror, &mut cursors);
        polls += 1;
    }
    stop.store(true, Ordering::Relaxed);
    writers.into_iter().for_each(|w| w.join().expect("writer"));
    poll(&mut observer, &mut mirror, &mut cursors);
    // Read through another instance than the mirror's: the database's state.
    let truth = everything(&mut Client::new(addresses[1], &token), "programs");
    assert!(truth.len() > 10, "the writers did work: {}", truth.len());
    assert_eq!(mirror.len(), truth.len(), "after {polls} polls");
    assert_eq!(mirror, truth, "the mirror missed a change");
    servers.iter().for_each(Server::assert_no_panics);
}

#[test]
fn write_timestamps_across_instances_are_all_distinct() {
    let dir = tempfile::tempdir().expect("dir");
    let Some((url, token)) = database(&dir) else { return };
    let servers = start(&url, &dir, 2, &["serve", "--no-seed"]);
    let addresses: Vec<SocketAddr> = servers.iter().map(|s| s.address).collect();
    let statuses = race(&addresses, &token, |client| {
        let body = body_for("initiatives", &format!("Stamp {:?}", std::thread::current().id()));
        client.send("POST", "/api/v1/initiatives", Some(&body), &[]).map_or(0, |r| r.status)
    });
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let records = everything(&mut Client::new(addresses[0], &token), "initiatives");
    let mut stamps: Vec<&str> = records.values().filter_map(|r| r["updated_at"].as_str()).collect();
    stamps.sort_unstable();
    stamps.dedup();
    assert_eq!(stamps.len(), 32, "two writes of two instances got one timestamp");
    // Ids were handed out in commit order too: a later id never has an earlier timestamp.
    let by_id: Vec<&str> = records.values().filter_map(|r| r["created_at"].as_str()).collect();
    assert!(by_id.windows(2).all(|w| w[0] < w[1]), "{by_id:?}");
}

#[test]
fn sigkill_of_one_instance_under_write_load_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("dir");
    let Some((url, token)) = database(&dir) else { return };
    let servers = start(&url, &dir, 2, &["serve", "--no-seed"]);
    let addresses: Vec<SocketAddr> = servers.iter().map(|s| s.address).collect();
    let stop = Arc::new(AtomicBool::new(false));
    // Half the writers on each instance; those of the killed one stop when it dies.
    let writers = spawn_writers(&addresses, &token, 8, Arc::clone(&stop));
    std::thread::sleep(Duration::from_millis(800));
    servers[0].signal("KILL");
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let acknowledged: Vec<(i64, String)> = writers.into_iter().flat_map(|w| w.join().expect("writer")).collect();
    assert!(acknowledged.len() > 20, "writes were acknowledged: {}", acknowledged.len());
    let mut survivor = Client::new(addresses[1], &token);
    for (id, label) in &acknowledged {
        let reply = get(&mut survivor, &format!("/api/v1/programs/{id}"));
        assert_eq!(reply.status, 200, "acknowledged program {id} lost");
        assert_eq!(reply.json()["name"], label.as_str());
    }
    // A new instance in the killed one's place serves them too.
    let replacement = Server::start_with(&url, dir.path(), &["serve", "--no-seed"], UNLIMITED);
    let total =
        get(&mut Client::new(replacement.address, &token), "/api/v1/programs?limit=1").json()["meta"]["total"].clone();
    // Each writer had at most one create in flight when its instance died: that one may or may
    // not have committed.
    let total = total.as_u64().unwrap_or(0) as usize;
    assert!((acknowledged.len()..=acknowledged.len() + 8).contains(&total), "{total} for {}", acknowledged.len());
    servers[1].assert_no_panics();
    replacement.assert_no_panics();
}

#[test]
fn instances_started_together_on_an_empty_database_migrate_and_load_the_dataset_once() {
    let dir = tempfile::tempdir().expect("dir");
    let Some(postgres) = crate::postgres::shared() else { return };
    let url = postgres.url(&postgres.database());
    let barrier = Arc::new(Barrier::new(3));
    let starting: Vec<_> = (0..3)
        .map(|_| {
            let (barrier, url, workdir) = (Arc::clone(&barrier), url.clone(), dir.path().to_owned());
            std::thread::spawn(move || {
                barrier.wait();
                Server::start_with(&url, &workdir, &["serve"], UNLIMITED)
            })
        })
        .collect();
    let servers: Vec<Server> = starting.into_iter().map(|s| s.join().expect("an instance came up")).collect();
    let expected = crate::support::collections().len();
    for server in &servers {
        let mut client = Client::new(server.address, "none");
        assert_eq!(get(&mut client, "/readyz").status, 200);
        let programs = get(&mut client, "/api/v1/programs?limit=1").json();
        assert_eq!(programs["meta"]["total"], 41, "the dataset loaded once, not once per instance");
        server.assert_no_panics();
    }
    let loaded = servers.iter().filter(|s| s.full_log().contains("loaded the bundled dataset")).count();
    assert_eq!(loaded, 1, "one of the {} instances loads it ({expected} collections)", servers.len());
}

#[test]
fn a_lost_database_connection_costs_at_most_one_failed_read_and_one_failed_write() {
    use diesel::prelude::*;
    let dir = tempfile::tempdir().expect("dir");
    let Some((url, token)) = database(&dir) else { return };
    let server = Server::start_with(&url, dir.path(), &["serve", "--no-seed"], UNLIMITED);
    let mut client = Client::new(server.address, &token);
    let create = |client: &mut Client, label: &str| {
        client.send("POST", "/api/v1/initiatives", Some(&body_for("initiatives", label)), &[]).map_or(0, |r| r.status)
    };
    assert_eq!(create(&mut client, "Before"), 201);
    // What a PostgreSQL restart or failover does to the service's connections.
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut crate::support::connect(&url))
    .expect("terminate the service's connections");
    // The first read to find its connection lost fails (503, retry); the others' connections are
    // tested before use and replaced.
    let reads: Vec<u16> = (0..6).map(|_| get(&mut client, "/api/v1/initiatives").status).collect();
    assert!(reads.iter().filter(|s| **s != 200).count() <= 1, "{reads:?}");
    let statuses: Vec<u16> = (0..4).map(|n| create(&mut client, &format!("After {n}"))).collect();
    let failed = statuses.iter().filter(|s| **s != 201).count();
    assert!(failed <= 1 && statuses.iter().all(|s| [201, 500, 503].contains(s)), "{statuses:?}");
    assert_eq!(get(&mut client, "/readyz").status, 200);
    let listed = get(&mut client, "/api/v1/initiatives?limit=1").json();
    assert_eq!(listed["meta"]["total"].as_u64(), Some(1 + 4 - failed as u64));
    server.assert_no_panics();
}

#[test]
fn the_hourly_submission_limit_counts_submissions_on_every_instance() {
    let dir = tempfile::tempdir().expect("dir");
    let Some((url, _token)) = database(&dir) else { return };
    let limited = [("EVENT_REQUEST_RATE_LIMIT_PER_HOUR", "2"), ("RATE_LIMIT_PER_MINUTE", "0")];
    let servers: Vec<Server> =
        (0..2).map(|_| Server::start_with(&url, dir.path(), &["serve", "--no-seed"], &limited)).collect();
    let submit = |server: &Server, n: u32| {
        let body = json!({
            "organization_name": "Austin Block Club", "contact_name": "Ana Ruiz",
            "contact_email": "ana@example.org", "event_title": format!("Health fair {n}"),
            "event_type": "health_fair", "requested_support": ["health_screenings"],
            "starts_at": "2031-05-01T10:00:00-05:00"
        });
        Client::new(server.address, "none").send("POST", "/api/v1/event-requests", Some(&body), &[]).expect("submit")
    };
    assert_eq!(submit(&servers[0], 1).status, 201);
    assert_eq!(submit(&servers[1], 2).status, 201);
    // The third, on either instance, is over the address's allowance of two an hour.
    for server in &servers {
        let refused = submit(server, 3);
        assert_eq!(refused.status, 429, "{}", refused.body);
        assert!(refused.headers.get("retry-after").is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s >= 1)));
    }
    servers.iter().for_each(Server::assert_no_panics);
}

#[test]
fn a_read_right_after_an_acknowledgement_is_never_stale_while_another_instance_is_busy_reading() {
    let dir = tempfile::tempdir().expect("dir");
    let Some((url, token)) = database(&dir) else { return };
    let servers = start(&url, &dir, 2, &["serve", "--no-seed"]);
    let (writer, reader) = (servers[0].address, servers[1].address);
    // Readers keep B's kept page and its generation as fresh as B ever holds them.
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = (0..3)
        .map(|_| {
            let (stop, token) = (Arc::clone(&stop), token.clone());
            std::thread::spawn(move || {
                let mut client = Client::new(reader, &token);
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(30) {
                    let _ = client.send("GET", "/api/v1/initiatives?limit=1", None, &[]);
                }
            })
        })
        .collect();
    let (mut a, mut b) = (Client::new(writer, &token), Client::new(reader, &token));
    for n in 1..=40 {
        let created = a.send("POST", "/api/v1/initiatives", Some(&body_for("initiatives", &format!("Fresh {n}"))), &[]);
        assert_eq!(created.expect("create").status, 201);
        let total = get(&mut b, "/api/v1/initiatives?limit=1").json()["meta"]["total"].clone();
        assert_eq!(total, n, "round {n}: B served a page from before A acknowledged the write");
    }
    stop.store(true, Ordering::Relaxed);
    busy.into_iter().for_each(|t| t.join().expect("reader"));
    servers.iter().for_each(Server::assert_no_panics);
}
