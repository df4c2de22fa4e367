//! Configuration from the environment, with every bad variable reported at once.

use std::fmt;
use std::net::SocketAddr;

use crate::db::Location;
use crate::http::CorsOrigins;
use crate::http::rate_limit::{RateLimitConfig, parse_trusted_proxies};

pub const DEFAULT_DATABASE_URL: &str = "rush-api.sqlite3";
pub const DEFAULT_BIND_ADDRESS: &str = "127.0.0.1:8080";
/// Days after an event request's event before its contact details are erased.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

#[derive(Debug, Clone)]
pub struct Config {
    /// The database: a SQLite file, or a PostgreSQL URL.
    pub database: Location,
    pub bind_address: SocketAddr,
    pub cors_origins: CorsOrigins,
    pub rate_limits: RateLimitConfig,
    /// Days after an event request's event ends before its contact details are erased.
    pub retention_days: u32,
    /// Connections per instance (`DATABASE_POOL_SIZE`; for reads on SQLite, whose writer has its own).
    pub pool_size: u32,
}

/// Every bad variable, each with why.
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.0.join("; "))
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();

        let database = parse_database_url(&lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()))
            .map_err(|why| problems.push(format!("DATABASE_URL {why}")))
            .ok();

        let bind_text = lookup("BIND_ADDRESS").unwrap_or_else(|| DEFAULT_BIND_ADDRESS.to_owned());
        let bind_address =
            parse_bind_address(&bind_text).map_err(|why| problems.push(format!("BIND_ADDRESS {why}"))).ok();

        if let Some(filter) = lookup("RUST_LOG")
            && let Err(why) = check_log_filter(&filter)
        {
            problems.push(format!("RUST_LOG {why}"));
        }

        let cors_origins = parse_origins(&lookup("CORS_ALLOWED_ORIGINS").unwrap_or_default())
            .map_err(|why| problems.push(format!("CORS_ALLOWED_ORIGINS {why}")))
            .ok();

        // A whole number within `range`; anything else is a bad value described by `what`.
        let mut whole = |name: &str, default: u32, range: std::ops::RangeInclusive<u32>, what: &str| {
            let text = lookup(name).unwrap_or_else(|| default.to_string());
            text.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| problems.push(format!("{name} must be {what}, not '{text}'")))
                .ok()
        };
        let per_minute = "a whole number of requests per minute (0 turns the limit off)";
        let per_ip_per_minute =
            whole("RATE_LIMIT_PER_MINUTE", RateLimitConfig::DEFAULT_PER_IP, 0..=u32::MAX, per_minute);
        let per_token_per_minute =
            whole("RATE_LIMIT_TOKEN_PER_MINUTE", RateLimitConfig::DEFAULT_PER_TOKEN, 0..=u32::MAX, per_minute);
        let submissions_per_hour = whole(
            "EVENT_REQUEST_RATE_LIMIT_PER_HOUR",
            RateLimitConfig::DEFAULT_SUBMISSIONS_PER_HOUR,
            0..=u32::MAX,
            "a whole number of submissions per hour (0 turns the limit off)",
        );
        let retention_days = whole(
            "EVENT_REQUEST_RETENTION_DAYS",
            DEFAULT_RETENTION_DAYS,
            1..=u32::MAX,
            "a whole number of days, at least 1",
        );
        let default_pool_size = match &database {
            Some(Location::Postgres(_)) => crate::db::DEFAULT_POSTGRES_POOL_SIZE,
            _ => crate::db::DEFAULT_READ_POOL_SIZE,
        };
        let pool_size =
            whole("DATABASE_POOL_SIZE", default_pool_size, 1..=256, "a whole number of connections from 1 to 256");
        let trusted_proxies = parse_trusted_proxies(&lookup("TRUSTED_PROXIES").unwrap_or_default())
            .map_err(|why| {
                problems.push(format!("TRUSTED_PROXIES must be comma-separated IP addresses or CIDR ranges: {why}"))
            })
            .ok();
        let rate_limits = match (per_ip_per_minute, per_token_per_minute, trusted_proxies, submissions_per_hour) {
            (
                Some(per_ip_per_minute),
                Some(per_token_per_minute),
                Some(trusted_proxies),
                Some(submissions_per_hour),
            ) => {
                Some(RateLimitConfig { per_ip_per_minute, per_token_per_minute, trusted_proxies, submissions_per_hour })
            }
            _ => None,
        };

        match (database, bind_address, cors_origins, rate_limits, retention_days, pool_size) {
            (
                Some(database),
                Some(bind_address),
                Some(cors_origins),
                Some(rate_limits),
                Some(retention_days),
                Some(pool_size),
            ) if problems.is_empty() => {
                Ok(Config { database, bind_address, cors_origins, rate_limits, retention_days, pool_size })
            }
            _ => Err(ConfigError(problems)),
        }
    }
}

/// An IP address and port, or a host name and port that resolves (`localhost:8080`).
fn parse_bind_address(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let text = text.trim();
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    let invalid = || format!("must be an address and port such as 127.0.0.1:8080 or localhost:8080, not '{text}'");
    let (host, port) = text.rsplit_once(':').ok_or_else(invalid)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(invalid());
    }
    let mut addresses: Vec<SocketAddr> = text.to_socket_addrs().map_err(|_| invalid())?.collect();
    // Prefer IPv4, which every local client reaches through `localhost`.
    addresses.sort_by_key(|address| !address.is_ipv4());
    addresses.into_iter().next().ok_or_else(invalid)
}

/// env_logger ignores a filter it cannot read; a typo there would silently change the logging,
/// so it is a bad value like any other. Grammar: `[target][=level]` directives separated by
/// commas, optionally followed by `/regex`.
fn check_log_filter(filter: &str) -> Result<(), String> {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let directives = filter.split_once('/').map_or(filter, |(directives, _regex)| directives);
    for directive in directives.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let (target, level) = match directive.split_once('=') {
            Some((target, level)) => (target, Some(level)),
            None if LEVELS.contains(&directive.to_ascii_lowercase().as_str()) => ("", None),
            None => (directive, None),
        };
        let target_ok = target.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-'));
        let level_ok = level.is_none_or(|level| LEVELS.contains(&level.trim().to_ascii_lowercase().as_str()));
        if !target_ok || !level_ok {
            return Err(format!(
                "must be an env_logger filter such as info or warn,rush_api=debug (levels: off, error, warn, info, debug, trace); '{directive}' is not a directive"
            ));
        }
    }
    Ok(())
}

/// `DATABASE_URL`: `postgres://…` (or `postgresql://…`) names PostgreSQL; anything else is the
/// path of a SQLite file (optionally written `sqlite://PATH`).
pub fn parse_database_url(value: &str) -> Result<Location, String> {
    let value = value.trim();
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        let parsed = url::Url::parse(value).map_err(|why| format!("is not a valid PostgreSQL URL: {why}"))?;
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("must name a host: postgres://USER[:PASSWORD]@HOST[:PORT]/DB".to_owned());
        }
        return Ok(Location::Postgres(value.to_owned()));
    }
    let path = value.strip_prefix("sqlite://").unwrap_or(value);
    if path.is_empty() {
        return Err("must be the path of a SQLite database file, not empty".to_owned());
    }
    // SQLite opens `file:` names as URIs, whose parameters change what it is: `mode=memory`
    // (data gone at exit, and one database per pooled connection), `nolock` or `immutable`
    // (no locking under concurrent writers), `vfs=`, ... and `:memory:` is no file at all.
    if path.get(..5).is_some_and(|scheme| scheme.eq_ignore_ascii_case("file:")) || path == ":memory:" {
        return Err(format!(
            "must be a plain SQLite file path, not a URI filename or in-memory database ('{value}'); a path starting with file: can be written ./file:..."
        ));
    }
    if path.contains("://") {
        return Err(format!("must be a SQLite file path (optionally sqlite://PATH), not '{value}'"));
    }
    let directory = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(directory) = directory
        && !directory.is_dir()
    {
        return Err(format!("names a file in '{}', which is not an existing directory", directory.display()));
    }
    Ok(Location::Sqlite(path.to_owned()))
}

fn parse_origins(value: &str) -> Result<CorsOrigins, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(CorsOrigins::None);
    }
    if value == "*" {
        return Ok(CorsOrigins::Any);
    }
    let mut origins = Vec::new();
    for origin in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        if !is_origin(origin) {
            return Err(format!(
                "must be '*' or a comma-separated list of origins like https://www.rush.edu (scheme, host and optional port, no path); '{origin}' is not one"
            ));
        }
        origins.push(origin.to_owned());
    }
    Ok(CorsOrigins::List(origins))
}

fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else { return false };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => (host, Some(port)),
        _ => (rest, None),
    };
    let host_ok =
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = config(&[]).map_err(|e| e.to_string());
        let config = config.as_ref().map(|c| (&c.database, c.bind_address.to_string(), &c.cors_origins));
        let sqlite = Location::Sqlite("rush-api.sqlite3".to_owned());
        assert_eq!(config, Ok((&sqlite, "127.0.0.1:8080".to_owned(), &CorsOrigins::None)));
        let limits = self::config(&[]).map(|c| c.rate_limits).map_err(|e| e.to_string());
        assert_eq!(
            limits,
            Ok(RateLimitConfig {
                per_ip_per_minute: 3_000,
                per_token_per_minute: 12_000,
                trusted_proxies: Vec::new(),
                submissions_per_hour: 5
            })
        );
        assert_eq!(self::config(&[]).map(|c| (c.retention_days, c.pool_size)).ok(), Some((365, 8)));
    }

    #[test]
    fn every_bad_variable_is_named_at_once() {
        let error = config(&[
            ("DATABASE_URL", "postgres:///no-host"),
            ("BIND_ADDRESS", "localhost"),
            ("CORS_ALLOWED_ORIGINS", "https://ok.example, ftp://bad"),
            ("RUST_LOG", "info,rush_api=loud"),
            ("RATE_LIMIT_PER_MINUTE", "-1"),
            ("RATE_LIMIT_TOKEN_PER_MINUTE", "lots"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
            ("EVENT_REQUEST_RATE_LIMIT_PER_HOUR", "five"),
            ("EVENT_REQUEST_RETENTION_DAYS", "0"),
            ("DATABASE_POOL_SIZE", "0"),
        ])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        for name in [
            "DATABASE_URL",
            "BIND_ADDRESS",
            "CORS_ALLOWED_ORIGINS",
            "RUST_LOG",
            "RATE_LIMIT_PER_MINUTE",
            "RATE_LIMIT_TOKEN_PER_MINUTE",
            "TRUSTED_PROXIES",
            "EVENT_REQUEST_RATE_LIMIT_PER_HOUR",
            "EVENT_REQUEST_RETENTION_DAYS",
            "DATABASE_POOL_SIZE",
        ] {
            assert!(error.contains(name), "{name} missing from {error}");
        }
    }

    #[test]
    fn host_names_and_log_filters_are_accepted_when_valid() {
        assert!(parse_bind_address("localhost:0").is_ok_and(|a| a.ip().is_loopback()));
        assert!(parse_bind_address("[::1]:8080").is_ok());
        assert!(parse_bind_address("localhost").is_err());
        assert!(parse_bind_address("127.0.0.1:99999").is_err());
        for good in ["info", "warn,rush_api::access=off", "rush_api=debug", "actix_web=INFO/GET", ""] {
            assert!(check_log_filter(good).is_ok(), "{good}");
        }
        for bad in ["info,actix=[[", "rush_api=verbose", "warn;debug"] {
            assert!(check_log_filter(bad).is_err(), "{bad}");
        }
        assert!(parse_database_url("/no/such/directory/db.sqlite3").is_err());
        assert!(parse_database_url("plain.sqlite3").is_ok());
        assert!(parse_database_url("./file:plain.sqlite3").is_ok());
        let postgres = "postgres://rush:secret@db.internal:5432/rush";
        assert_eq!(parse_database_url(postgres), Ok(Location::Postgres(postgres.to_owned())));
        assert!(matches!(parse_database_url("postgresql://db/rush"), Ok(Location::Postgres(_))));
        let pooled = config(&[("DATABASE_URL", "postgres://db/rush")]).map(|c| c.pool_size).ok();
        assert_eq!(pooled, Some(crate::db::DEFAULT_POSTGRES_POOL_SIZE), "PostgreSQL's own default pool size");
        for uri in [
            "file:db.sqlite3?mode=memory",
            "FILE:db.sqlite3",
            "sqlite://file:db?nolock=1",
            "File:x?immutable=1",
            ":memory:",
        ] {
            assert!(parse_database_url(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn origins_are_parsed_strictly() {
        assert!(matches!(parse_origins("*"), Ok(CorsOrigins::Any)));
        assert_eq!(
            parse_origins("https://a.example, http://localhost:3000").ok(),
            Some(CorsOrigins::List(vec!["https://a.example".into(), "http://localhost:3000".into()]))
        );
        assert!(parse_origins("https://a.example/path").is_err());
        assert!(parse_origins("https://a.example:99999").is_err());
    }
}
