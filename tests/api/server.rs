//! A real server on a loopback port, for what lies below the App: start-up, the early 413 and
//! graceful shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::cli::{BINARY, run};
use crate::support::database_in;

/// A `rush-api serve` child on `127.0.0.1:0`, stopped by PID when dropped. Its log is kept so
/// that a test can check that nothing panicked.
pub struct Server {
    child: Child,
    pub address: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    /// Every line the server wrote, access lines included.
    everything: Arc<Mutex<Vec<String>>>,
}

const UNLIMITED: &[(&str, &str)] = &[("RATE_LIMIT_PER_MINUTE", "0"), ("RATE_LIMIT_TOKEN_PER_MINUTE", "0")];

impl Server {
    pub fn start(dir: &TempDir, args: &[&str]) -> Server {
        Server::start_on(&database_in(dir.path(), "cli.sqlite3"), dir.path(), args)
    }

    /// With rate limiting off, for tests that load the server on purpose (they measure
    /// durability and concurrency, not the limiter).
    pub fn start_unlimited(dir: &TempDir, args: &[&str]) -> Server {
        Server::start_with(&database_in(dir.path(), "cli.sqlite3"), dir.path(), args, UNLIMITED)
    }

    /// On `database`, a DATABASE_URL value (`support::database_in`).
    pub fn start_on(database: &str, workdir: &Path, args: &[&str]) -> Server {
        Server::start_with(database, workdir, args, &[])
    }

    /// With extra environment variables (the configuration under test).
    pub fn start_with(database: &str, workdir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BINARY)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(workdir)
            .env("DATABASE_URL", database)
            .env("BIND_ADDRESS", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start rush-api serve");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, receiver) = mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let everything = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&log);
        let all = Arc::clone(&everything);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line.split("listening on http://").nth(1) {
                    let _ = sender.send(address.trim().to_owned());
                }
                all.lock().map(|mut all| all.push(line.clone())).ok();
                if !line.contains("rush_api::access") {
                    kept.lock().map(|mut log| log.push(line)).ok();
                }
            }
        });
        let address = receiver.recv_timeout(Duration::from_secs(30)).expect("the server logs its address");
        Server { child, address: address.parse().expect("an address"), log, everything }
    }

    /// Everything the server has logged so far, access lines included.
    pub fn full_log(&self) -> String {
        self.everything.lock().map(|all| all.join("\n")).unwrap_or_default()
    }

    /// The server's log (access lines aside) holds no panic.
    #[track_caller]
    pub fn assert_no_panics(&self) {
        let log = self.log.lock().map(|log| log.join("\n")).unwrap_or_default();
        assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    }

    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.address).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        stream
    }

    pub fn request(&self, raw: &str) -> String {
        let mut stream = self.connect();
        stream.write_all(raw.as_bytes()).expect("send");
        read_response(&mut stream)
    }

    pub fn signal(&self, signal: &str) {
        let status =
            Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status().expect("kill");
        assert!(status.success());
    }

    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one response whose body is delimited by Content-Length (or by close).
pub fn read_response(stream: &mut TcpStream) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&buffer).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                return text;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&buffer).into_owned(),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

pub fn token(dir: &TempDir) -> String {
    let output = run(dir, &["token", "create", "--name", "server-tests"], &[]);
    String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_owned()
}

#[test]
fn serve_loads_the_dataset_once_and_no_seed_leaves_the_database_empty() {
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start(&dir, &["serve", "--no-seed"]);
    let response = server.request("GET /api/v1/programs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"total\":0"), "{response}");
    drop(server);

    let server = Server::start(&dir, &[]);
    let response =
        server.request("GET /api/v1/programs?limit=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(!response.contains("\"total\":0"), "the default command seeds an empty database: {response}");
    let readiness = server.request("GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(readiness.starts_with("HTTP/1.1 200"), "{readiness}");
}

#[test]
fn a_declared_body_over_the_limit_is_refused_before_it_is_sent() {
    let dir = tempfile::tempdir().expect("dir");
    let token = token(&dir);
    let server = Server::start(&dir, &["serve", "--no-seed"]);
    let mut stream = server.connect();
    let head = format!(
        "POST /api/v1/programs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("send the head only");
    let response = read_response(&mut stream);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.to_ascii_lowercase().contains("content-type: application/problem+json"), "{response}");
    assert!(response.contains("payload_too_large"), "{response}");
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let dir = tempfile::tempdir().expect("dir");
    let token = token(&dir);
    let mut server = Server::start(&dir, &["serve", "--no-seed"]);
    let body = r#"{"name":"In Flight Residency","program_type":"residency","specialty":"Neurology","campus":"rush_oak_park_hospital","duration_years":4}"#;
    let mut stream = server.connect();
    let head = format!(
        "POST /api/v1/programs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send the head");
    stream.write_all(&body.as_bytes()[..10]).expect("send part of the body");
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(&body.as_bytes()[10..]).expect("send the rest");
    let response = read_response(&mut stream);
    assert!(response.starts_with("HTTP/1.1 201"), "the request in flight completes: {response}");
    assert_eq!(server.wait(Duration::from_secs(35)), Some(0), "exits 0 within the grace period");
    assert!(TcpStream::connect(server.address).is_err(), "no longer accepting connections");
}

#[test]
fn a_body_that_trickles_in_is_cut_off_with_a_408_problem() {
    let dir = tempfile::tempdir().expect("dir");
    let token = token(&dir);
    let server = Server::start(&dir, &["serve", "--no-seed"]);
    let mut stream = server.connect();
    let head = format!(
        "POST /api/v1/programs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).expect("send the head and one byte");
    let started = Instant::now();
    let response = read_response(&mut stream);
    let waited = started.elapsed();
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("request_timeout") && response.contains("application/problem+json"), "{response}");
    assert!(waited >= Duration::from_secs(9) && waited < Duration::from_secs(15), "cut off after {waited:?}");
    server.assert_no_panics();
}

#[test]
fn a_head_that_never_finishes_is_cut_off() {
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start(&dir, &["serve", "--no-seed"]);
    let mut stream = server.connect();
    stream.write_all(b"GET /api/v1/programs HTTP/1.1\r\nHost: loc").expect("send half a head");
    let started = Instant::now();
    let response = read_response(&mut stream);
    assert!(started.elapsed() < Duration::from_secs(10), "held for {:?}", started.elapsed());
    assert!(response.is_empty() || response.starts_with("HTTP/1.1 408"), "{response}");
}

#[test]
fn a_get_with_a_trickled_body_is_refused_at_once_and_the_connection_closed() {
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start(&dir, &["serve", "--no-seed"]);
    for head in [
        "GET /api/v1/programs HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{",
        "DELETE /api/v1/programs/1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{",
    ] {
        let mut stream = server.connect();
        stream.write_all(head.as_bytes()).expect("send the head and one byte of body");
        let started = Instant::now();
        let response = read_response(&mut stream);
        assert!(response.starts_with("HTTP/1.1 400"), "{response}");
        assert!(response.contains("body_not_allowed") && response.contains("application/problem+json"), "{response}");
        // The server closes the connection: the next read ends at once instead of waiting.
        let mut rest = [0u8; 64];
        // An orderly close reads as the end; unread bytes of the refused body make it a reset.
        let closed = match stream.read(&mut rest) {
            Ok(0) => true,
            Ok(_) => false,
            Err(error) => !matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
        };
        assert!(closed, "the connection stays open after {response}");
        assert!(started.elapsed() < Duration::from_secs(3), "held for {:?}", started.elapsed());
    }
    server.assert_no_panics();
}

#[test]
fn rate_limits_apply_per_client_ip_and_spare_the_health_probes() {
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start_with(
        &database_in(dir.path(), "limits.sqlite3"),
        dir.path(),
        &["serve", "--no-seed"],
        &[("RATE_LIMIT_PER_MINUTE", "2"), ("RATE_LIMIT_TOKEN_PER_MINUTE", "0")],
    );
    let get =
        |path: &str| server.request(&format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    let first = get("/api/v1/programs");
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    let lower = first.to_ascii_lowercase();
    assert!(lower.contains("ratelimit-policy: \"default\";q=2;w=60"), "{first}");
    assert!(lower.contains("ratelimit: \"default\";r=1;t="), "{first}");
    assert!(get("/api/v1/events").starts_with("HTTP/1.1 200"));
    let refused = get("/api/v1/initiatives");
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    let lower = refused.to_ascii_lowercase();
    assert!(lower.contains("retry-after: ") && lower.contains("\"code\":\"rate_limited\""), "{refused}");
    assert!(lower.contains("ratelimit: \"default\";r=0;t="), "{refused}");
    for _ in 0..5 {
        let health = get("/healthz");
        let lower = health.to_ascii_lowercase();
        assert!(health.starts_with("HTTP/1.1 200") && !lower.contains("\r\nratelimit:"), "{health}");
        assert!(get("/readyz").starts_with("HTTP/1.1 200"));
    }
    // Client mistakes (here 429s, whatever else is wrong with them) are the client's: none of them
    // is an error in the server's log.
    assert!(get("/nowhere").starts_with("HTTP/1.1 4"));
    assert!(get("/api/v1/events/1?x=1").starts_with("HTTP/1.1 4"));
    let log = server.log.lock().map(|log| log.join("\n")).unwrap_or_default();
    assert!(!log.contains(" ERROR "), "client problems logged as errors:\n{log}");
    server.assert_no_panics();
}
