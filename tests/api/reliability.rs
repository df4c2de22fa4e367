//! Reliability over real HTTP on a loopback port: concurrent writers, exactly one winner, crashes,
//! and backups under load. Every loop is bounded in count and time.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::run;
use crate::server::{Server, token};
use crate::support::{
    assert_search_index_consistent, collections, dangling_references, database_in, on_postgres, restored,
};

/// A keep-alive HTTP/1.1 client, enough for these tests: one connection, `Content-Length` bodies.
pub struct Client {
    address: SocketAddr,
    token: String,
    stream: Option<BufReader<TcpStream>>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl Client {
    pub fn new(address: SocketAddr, token: &str) -> Client {
        Client { address, token: token.to_owned(), stream: None }
    }

    /// Sends one request; `Err` when the connection failed (the server may have been killed).
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> std::io::Result<Reply> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.address)?;
            stream.set_read_timeout(Some(Duration::from_secs(30)))?;
            self.stream = Some(BufReader::new(stream));
        }
        let result = self.exchange(method, path, body, extra);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> std::io::Result<Reply> {
        let stream = self.stream.as_mut().ok_or(std::io::ErrorKind::NotConnected)?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n", self.token);
        if !body.is_empty() {
            let content_type = if method == "PATCH" { "application/merge-patch+json" } else { "application/json" };
            request.push_str(&format!("Content-Type: {content_type}\r\nContent-Length: {}\r\n", body.len()));
        }
        for (name, value) in extra {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(&body);
        stream.get_mut().write_all(request.as_bytes())?;

        let mut status_line = String::new();
        if stream.read_line(&mut status_line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status =
            status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(std::io::ErrorKind::InvalidData)?;
        let mut headers = HashMap::new();
        for _ in 0..200 {
            let mut line = String::new();
            stream.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        let mut bytes = vec![0; length];
        stream.read_exact(&mut bytes)?;
        if headers.get("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
            self.stream = None;
        }
        Ok(Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() })
    }
}

/// A small deterministic generator, so a failing run can be repeated.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn reliability_seconds() -> u64 {
    std::env::var("RELIABILITY_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20)
}

pub fn body_for(collection: &str, label: &str) -> Value {
    match collection {
        "programs" => {
            json!({"name": label, "program_type": "residency", "specialty": "Neurology", "campus": "rush_oak_park_hospital", "duration_years": 4})
        }
        "initiatives" => json!({"name": label, "category": "public_health"}),
        "metrics" => json!({"label": label, "value": 1.5, "unit": "percent", "source_name": "Reliability"}),
        _ => json!({"title": label, "event_type": "wellness", "starts_at": "2027-06-01T10:00:00-05:00"}),
    }
}

pub fn label_field(collection: &str) -> &'static str {
    match collection {
        "events" => "title",
        "metrics" => "label",
        _ => "name",
    }
}

#[test]
fn thirty_two_concurrent_writers_lose_nothing_and_never_fail() {
    let dir = tempfile::tempdir().expect("dir");
    let token = token(&dir);
    let server = Server::start_unlimited(&dir, &["serve", "--no-seed"]);
    let deadline = Instant::now() + Duration::from_secs(reliability_seconds());
    let workers: Vec<_> = (0..32u64)
        .map(|worker| {
            let (address, token, collections) = (server.address, token.clone(), collections());
            std::thread::spawn(move || {
                let mut client = Client::new(address, &token);
                let mut random = Random(0x9E37_79B9_7F4A_7C15 ^ (worker + 1));
                // What the API acknowledged: live records with their last label, and deleted ones.
                let mut live: Vec<(String, i64, String)> = Vec::new();
                let mut deleted: Vec<(String, i64)> = Vec::new();
                let mut failures = Vec::new();
                let mut operations = 0u64;
                while Instant::now() < deadline && operations < 1_000_000 {
                    operations += 1;
                    let choice = random.below(10);
                    let outcome = if choice < 5 || live.is_empty() {
                        let collection = collections[random.below(3) as usize];
                        let label = format!("w{worker} op{operations}");
                        client
                            .send("POST", &format!("/api/v1/{collection}"), Some(&body_for(collection, &label)), &[])
                            .inspect(|reply| {
                                if reply.status == 201 {
                                    live.push((collection.to_owned(), reply.json()["id"].as_i64().unwrap_or(0), label));
                                }
                            })
                    } else if choice < 8 {
                        let index = random.below(live.len() as u64) as usize;
                        let (collection, id, _) = live[index].clone();
                        let label = format!("w{worker} patched{operations}");
                        let patch = json!({label_field(&collection): label});
                        client.send("PATCH", &format!("/api/v1/{collection}/{id}"), Some(&patch), &[]).inspect(
                            |reply| {
                                if reply.status == 200 {
                                    live[index].2 = label;
                                }
                            },
                        )
                    } else {
                        let index = random.below(live.len() as u64) as usize;
                        let (collection, id, _) = live[index].clone();
                        client.send("DELETE", &format!("/api/v1/{collection}/{id}"), None, &[]).inspect(|reply| {
                            if reply.status == 204 {
                                live.swap_remove(index);
                                deleted.push((collection, id));
                            }
                        })
                    };
                    match outcome {
                        Ok(reply) if reply.status >= 500 || reply.body.contains("locked") => {
                            failures.push(format!("{reply:?}"))
                        }
                        Ok(reply) if ![200, 201, 204].contains(&reply.status) => {
                            failures.push(format!("unexpected {reply:?}"))
                        }
                        Ok(_) => {}
                        Err(error) => failures.push(format!("transport: {error}")),
                    }
                }
                (live, deleted, failures, operations)
            })
        })
        .collect();

    let mut total_operations = 0;
    let mut check = Client::new(server.address, &token);
    for worker in workers {
        let (live, deleted, failures, operations) = worker.join().expect("a writer thread");
        assert!(failures.is_empty(), "{} failures, first: {:?}", failures.len(), failures.first());
        total_operations += operations;
        for (collection, id, label) in live {
            let reply = check.send("GET", &format!("/api/v1/{collection}/{id}"), None, &[]).expect("read back");
            assert_eq!(reply.status, 200, "{collection}/{id} was acknowledged but is gone");
            assert_eq!(reply.json()[label_field(&collection)], label.as_str(), "{collection}/{id} lost a patch");
        }
        for (collection, id) in deleted {
            let reply = check.send("GET", &format!("/api/v1/{collection}/{id}"), None, &[]).expect("read back");
            assert_eq!(reply.status, 404, "{collection}/{id} was deleted but is back");
        }
    }
    assert!(total_operations > 32, "the writers did work: {total_operations}");
    server.assert_no_panics();
    // Writes committed in batches of whatever was waiting: the indexes kept up.
    assert_search_index_consistent(&database_in(dir.path(), "cli.sqlite3"));
}

/// Runs `request` from 32 threads released at once, spread over `addresses` (several instances
/// of one database, or one server); returns the statuses.
pub fn race(
    addresses: &[SocketAddr],
    token: &str,
    request: impl Fn(&mut Client) -> u16 + Send + Sync + 'static,
) -> Vec<u16> {
    let barrier = Arc::new(Barrier::new(32));
    let request = Arc::new(request);
    let threads: Vec<_> = (0..32)
        .map(|n| {
            let (barrier, request, token) = (Arc::clone(&barrier), Arc::clone(&request), token.to_owned());
            let address = addresses[n % addresses.len()];
            std::thread::spawn(move || {
                let mut client = Client::new(address, &token);
                // Connect before the barrier so that the requests really arrive together.
                let _ = client.send("GET", "/healthz", None, &[]);
                barrier.wait();
                request(&mut client)
            })
        })
        .collect();
    let mut statuses: Vec<u16> = threads.into_iter().map(|t| t.join().expect("a racing thread")).collect();
    statuses.sort();
    statuses
}

/// Round `round` of a DELETE of a new program through `deleting` racing a POST of an event that
/// references it through `creating`: either the event came first (delete refused) or the delete
/// did (event refused), never both.
pub fn race_delete_against_referencing_create(deleting: SocketAddr, creating: SocketAddr, token: &str, round: usize) {
    let mut client = Client::new(deleting, token);
    let program = client
        .send("POST", "/api/v1/programs", Some(&body_for("programs", &format!("Round {round}"))), &[])
        .expect("create");
    let id = program.json()["id"].as_i64().unwrap_or(0);
    let barrier = Arc::new(Barrier::new(2));
    let (token_a, token_b) = (token.to_owned(), token.to_owned());
    let b1 = Arc::clone(&barrier);
    let deleter = std::thread::spawn(move || {
        let mut client = Client::new(deleting, &token_a);
        b1.wait();
        client.send("DELETE", &format!("/api/v1/programs/{id}"), None, &[]).map_or(0, |r| r.status)
    });
    let creator = std::thread::spawn(move || {
        let mut client = Client::new(creating, &token_b);
        let event = json!({"title": "Linked", "event_type": "recruitment", "starts_at": "2027-01-01T10:00:00Z", "program_id": id});
        barrier.wait();
        client.send("POST", "/api/v1/events", Some(&event), &[]).map_or(0, |r| r.status)
    });
    let (deleted, created) = (deleter.join().expect("deleter"), creator.join().expect("creator"));
    assert!(matches!((deleted, created), (409, 201) | (204, 422)), "round {round}: delete {deleted}, create {created}");
}

#[test]
fn exactly_one_of_32_racing_writes_wins() {
    let dir = tempfile::tempdir().expect("dir");
    let token = token(&dir);
    let server = Server::start_unlimited(&dir, &["serve", "--no-seed"]);
    let mut client = Client::new(server.address, &token);
    let created = client.send("POST", "/api/v1/programs", Some(&body_for("programs", "Raced")), &[]).expect("create");
    let etag = created.headers.get("etag").cloned().expect("an ETag");
    let id = created.json()["id"].as_i64().unwrap_or(0);

    let statuses = race(&[server.address], &token, move |client| {
        let patch = json!({"name": format!("winner {:?}", std::thread::current().id())});
        client
            .send("PATCH", &format!("/api/v1/programs/{id}"), Some(&patch), &[("If-Match", &etag)])
            .map_or(0, |r| r.status)
    });
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 31, "{statuses:?}");
    // The failed writes shared batches with the winner, which then ran again on its own: the
    // search index holds the winner's name and no loser's.
    let found = client.send("GET", "/api/v1/programs?q=winner", None, &[]).expect("search").json();
    assert_eq!(found["meta"]["total"], 1, "{found}");
    let stored = client.send("GET", &format!("/api/v1/programs/{id}"), None, &[]).expect("read").json();
    assert_eq!(found["data"][0]["name"], stored["name"]);

    let statuses = race(&[server.address], &token, |client| {
        let body = json!({"name": "Same Slug", "slug": "same-slug", "category": "education"});
        client.send("POST", "/api/v1/initiatives", Some(&body), &[]).map_or(0, |r| r.status)
    });
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 31, "{statuses:?}");
    server.assert_no_panics();
    assert_search_index_consistent(&database_in(dir.path(), "cli.sqlite3"));
}

#[test]
fn a_delete_racing_a_referencing_create_never_leaves_a_dangling_reference() {
    let dir = tempfile::tempdir().expect("dir");
    let token = token(&dir);
    let server = Server::start_unlimited(&dir, &["serve", "--no-seed"]);
    for round in 0..20 {
        race_delete_against_referencing_create(server.address, server.address, &token, round);
    }
    assert_eq!(dangling_references(&database_in(dir.path(), "cli.sqlite3")), 0);
    server.assert_no_panics();
}

fn integrity(database: &std::path::Path) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Integrity {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn = diesel::SqliteConnection::establish(&database.to_string_lossy()).expect("open");
    diesel::sql_query("PRAGMA integrity_check")
        .load::<Integrity>(&mut conn)
        .expect("check")
        .into_iter()
        .map(|row| row.integrity_check)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writers that record every create the API acknowledged, until `stop` is set or their server
/// dies; writer `n` writes through `addresses[n % addresses.len()]`.
pub fn spawn_writers(
    addresses: &[SocketAddr],
    token: &str,
    threads: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<(i64, String)>>> {
    (0..threads)
        .map(|worker| {
            let (token, stop, address) = (token.to_owned(), Arc::clone(&stop), addresses[worker % addresses.len()]);
            std::thread::spawn(move || {
                let mut client = Client::new(address, &token);
                let mut acknowledged = Vec::new();
                let started = Instant::now();
                for n in 0..100_000 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) || started.elapsed() > Duration::from_secs(60) {
                        break;
                    }
                    let label = format!("writer {worker} #{n}");
                    match client.send("POST", "/api/v1/programs", Some(&body_for("programs", &label)), &[]) {
                        Ok(reply) if reply.status == 201 => {
                            acknowledged.push((reply.json()["id"].as_i64().unwrap_or(0), label))
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect()
}

#[test]
fn acknowledged_creates_survive_sigkill() {
    let dir = tempfile::tempdir().expect("dir");
    let token = token(&dir);
    let mut random = Random(0xC0FF_EE00_1234_5678);
    let mut acknowledged: Vec<(i64, String)> = Vec::new();
    for round in 0..4 {
        let server = Server::start_unlimited(&dir, &["serve", "--no-seed"]);
        // The previous round's acknowledged writes are all there after the restart.
        let ready_by = Instant::now() + Duration::from_secs(5);
        let mut client = Client::new(server.address, &token);
        loop {
            let ready = client.send("GET", "/readyz", None, &[]).map(|r| r.status == 200).unwrap_or(false);
            if ready {
                break;
            }
            assert!(Instant::now() < ready_by, "round {round}: not ready within 5 s of the restart");
            std::thread::sleep(Duration::from_millis(50));
        }
        for (id, label) in &acknowledged {
            let reply = client.send("GET", &format!("/api/v1/programs/{id}"), None, &[]).expect("read");
            assert_eq!(reply.status, 200, "round {round}: acknowledged program {id} lost");
            assert_eq!(reply.json()["name"], label.as_str());
        }
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers = spawn_writers(&[server.address], &token, 8, Arc::clone(&stop));
        std::thread::sleep(Duration::from_millis(300 + random.below(1200)));
        server.signal("KILL");
        for writer in writers {
            acknowledged.extend(writer.join().expect("writer"));
        }
        drop(server);
        let database = database_in(dir.path(), "cli.sqlite3");
        if !on_postgres() {
            assert_eq!(integrity(std::path::Path::new(&database)), "ok", "round {round}");
        }
        assert_eq!(dangling_references(&database), 0, "round {round}");
        // A commit cut short takes its queued index changes with it: the indexes still match.
        assert_search_index_consistent(&database);
    }
    assert!(acknowledged.len() > 10, "writes were acknowledged: {}", acknowledged.len());
}

#[test]
fn backup_under_write_load_is_consistent_and_serves_the_same_records() {
    let dir = tempfile::tempdir().expect("dir");
    let token = token(&dir);
    let server = Server::start_unlimited(&dir, &[]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = spawn_writers(&[server.address], &token, 4, Arc::clone(&stop));
    std::thread::sleep(Duration::from_millis(500));
    let under_load = dir.path().join("under-load.sqlite3");
    let output = run(&dir, &["backup", &under_load.to_string_lossy()], &[]);
    assert!(output.status.success(), "{output:?}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.join().expect("writer");
    }
    if on_postgres() {
        // pg_dump's archive restores whole.
        drop(restored(&under_load));
    } else {
        assert_eq!(integrity(&under_load), "ok");
    }

    let quiet = dir.path().join("quiet.sqlite3");
    assert!(run(&dir, &["backup", &quiet.to_string_lossy()], &[]).status.success());
    let copy = if on_postgres() { restored(&quiet) } else { quiet.to_string_lossy().into_owned() };
    let copy = Server::start_on(&copy, dir.path(), &["serve"]);
    for collection in collections() {
        assert_eq!(all(server.address, &token, collection), all(copy.address, &token, collection), "{collection}");
    }
    server.assert_no_panics();
    copy.assert_no_panics();
}

fn all(address: SocketAddr, token: &str, collection: &str) -> Vec<Value> {
    let mut client = Client::new(address, token);
    let mut records = Vec::new();
    for page in 0..1000 {
        let reply = client
            .send("GET", &format!("/api/v1/{collection}?limit=100&offset={}", page * 100), None, &[])
            .expect("list");
        let data = reply.json()["data"].as_array().cloned().unwrap_or_default();
        let done = data.len() < 100;
        records.extend(data);
        if done {
            break;
        }
    }
    records
}

/// Brings `mirror` up to date through the change feed: one page per collection and one of
/// deletions, each from its own cursor. Returns how many changes it applied.
fn poll_changes(
    client: &mut Client,
    mirror: &mut HashMap<(String, i64), Value>,
    cursors: &mut HashMap<String, String>,
) -> usize {
    let mut applied = 0;
    for collection in collections() {
        let since = cursors.get(collection).cloned().unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
        let path = format!("/api/v1/{collection}?updated_since={since}&sort=updated_at&limit=100");
        let Ok(reply) = client.send("GET", &path, None, &[]) else { continue };
        for record in reply.json()["data"].as_array().cloned().unwrap_or_default() {
            let updated_at = record["updated_at"].as_str().unwrap_or_default().to_owned();
            let key = (collection.to_owned(), record["id"].as_i64().unwrap_or(0));
            if mirror.get(&key) != Some(&record) {
                applied += 1;
            }
            mirror.insert(key, record);
            cursors.insert(collection.to_owned(), updated_at);
        }
    }
    let since = cursors.get("deletions").cloned().unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    if let Ok(reply) = client.send("GET", &format!("/api/v1/deletions?since={since}&limit=100"), None, &[]) {
        for deletion in reply.json()["data"].as_array().cloned().unwrap_or_default() {
            let key =
                (deletion["resource"].as_str().unwrap_or_default().to_owned(), deletion["id"].as_i64().unwrap_or(0));
            if mirror.remove(&key).is_some() {
                applied += 1;
            }
            cursors.insert("deletions".to_owned(), deletion["deleted_at"].as_str().unwrap_or_default().to_owned());
        }
    }
    applied
}

#[test]
fn a_mirror_that_polls_the_change_feed_ends_equal_to_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    let token = token(&dir);
    let server = Server::start_unlimited(&dir, &["serve", "--no-seed"]);
    let deadline = Instant::now() + Duration::from_secs(reliability_seconds().min(10));
    let writers: Vec<_> = (0..8u64)
        .map(|worker| {
            let (address, token) = (server.address, token.clone());
            std::thread::spawn(move || {
                let mut client = Client::new(address, &token);
                let mut random = Random(0xABCD_EF01 ^ (worker + 7));
                let all = collections();
                let mut mine: Vec<(&str, i64)> = Vec::new();
                for n in 0..100_000 {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let collection = all[random.below(all.len() as u64) as usize];
                    let choice = random.below(10);
                    if choice < 5 || mine.is_empty() {
                        let body = body_for(collection, &format!("mirror {worker}/{n}"));
                        if let Ok(reply) = client.send("POST", &format!("/api/v1/{collection}"), Some(&body), &[]) {
                            mine.push((collection, reply.json()["id"].as_i64().unwrap_or(0)));
                        }
                    } else {
                        let index = random.below(mine.len() as u64) as usize;
                        let (collection, id) = mine[index];
                        if choice < 8 {
                            let patch = json!({label_field(collection): format!("mirror {worker}/{n} patched")});
                            let _ = client.send("PATCH", &format!("/api/v1/{collection}/{id}"), Some(&patch), &[]);
                        } else {
                            let _ = client.send("DELETE", &format!("/api/v1/{collection}/{id}"), None, &[]);
                            mine.swap_remove(index);
                        }
                    }
                }
            })
        })
        .collect();

    let mut poller = Client::new(server.address, &token);
    let mut mirror = HashMap::new();
    let mut cursors = HashMap::new();
    let mut polls = 0;
    while writers.iter().any(|w| !w.is_finished()) && polls < 100_000 {
        poll_changes(&mut poller, &mut mirror, &mut cursors);
        polls += 1;
    }
    for writer in writers {
        writer.join().expect("writer");
    }
    // Drain what is left: the feed pages 100 changes at a time.
    for _ in 0..10_000 {
        if poll_changes(&mut poller, &mut mirror, &mut cursors) == 0 {
            break;
        }
    }
    let mut database = HashMap::new();
    for collection in collections() {
        for record in all(server.address, &token, collection) {
            database.insert((collection.to_owned(), record["id"].as_i64().unwrap_or(0)), record);
        }
    }
    assert!(!database.is_empty() && polls > 1, "the writers wrote and the poller polled");
    assert_eq!(mirror.len(), database.len(), "the mirror has exactly the records of the database");
    assert!(mirror == database, "the mirror's records equal the database's");
    server.assert_no_panics();
}

#[test]
fn concurrent_retries_with_one_idempotency_key_create_exactly_one_record() {
    let dir = tempfile::tempdir().expect("dir");
    let token = token(&dir);
    let server = Server::start_unlimited(&dir, &["serve", "--no-seed"]);
    let statuses = race(&[server.address], &token, |client| {
        let body = body_for("events", "Retried Open House");
        client
            .send("POST", "/api/v1/events", Some(&body), &[("Idempotency-Key", "retry-storm")])
            .map_or(0, |r| if r.status == 201 { 201 } else { r.status })
    });
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert!(statuses.contains(&201), "{statuses:?}");
    let mut client = Client::new(server.address, &token);
    let events = all(server.address, &token, "events");
    assert_eq!(events.len(), 1, "exactly one record");
    let replay = client
        .send(
            "POST",
            "/api/v1/events",
            Some(&body_for("events", "Retried Open House")),
            &[("Idempotency-Key", "retry-storm")],
        )
        .expect("replay");
    assert_eq!(replay.status, 201);
    assert_eq!(replay.json(), events[0]);
    server.assert_no_panics();
}
