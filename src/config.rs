//! Configuration from the environment, with every bad variable reported at once.

use std::fmt;
use std::net::SocketAddr;

pub const DEFAULT_DATABASE_URL: &str = "rush-api.sqlite3";
pub const DEFAULT_BIND_ADDRESS: &str = "127.0.0.1:8080";

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No cross-origin access (the default).
    None,
    /// Any origin (`*`).
    Any,
    /// Exactly these origins, each `scheme://host[:port]`.
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Path of the SQLite database file.
    pub database_path: String,
    pub bind_address: SocketAddr,
    pub cors_origins: CorsOrigins,
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

        let database_path =
            parse_database_url(&lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()))
                .map_err(|why| problems.push(format!("DATABASE_URL {why}")))
                .ok();

        let bind_text = lookup("BIND_ADDRESS").unwrap_or_else(|| DEFAULT_BIND_ADDRESS.to_owned());
        let bind_address = bind_text
            .trim()
            .parse::<SocketAddr>()
            .map_err(|_| {
                problems.push(format!(
                    "BIND_ADDRESS must be an IP address and port such as 127.0.0.1:8080, not '{bind_text}'"
                ))
            })
            .ok();

        let cors_origins = parse_origins(&lookup("CORS_ALLOWED_ORIGINS").unwrap_or_default())
            .map_err(|why| problems.push(format!("CORS_ALLOWED_ORIGINS {why}")))
            .ok();

        match (database_path, bind_address, cors_origins) {
            (Some(database_path), Some(bind_address), Some(cors_origins)) if problems.is_empty() => {
                Ok(Config { database_path, bind_address, cors_origins })
            }
            _ => Err(ConfigError(problems)),
        }
    }
}

fn parse_database_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    let path = value.strip_prefix("sqlite://").unwrap_or(value);
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        return Err("names PostgreSQL, which this build does not support yet; give a SQLite file path".to_owned());
    }
    if path.is_empty() {
        return Err("must be the path of a SQLite database file, not empty".to_owned());
    }
    if path.contains("://") {
        return Err(format!("must be a SQLite file path (optionally sqlite://PATH), not '{value}'"));
    }
    Ok(path.to_owned())
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
        let config = config.as_ref().map(|c| (c.database_path.as_str(), c.bind_address.to_string(), &c.cors_origins));
        assert_eq!(config, Ok(("rush-api.sqlite3", "127.0.0.1:8080".to_owned(), &CorsOrigins::None)));
    }

    #[test]
    fn every_bad_variable_is_named_at_once() {
        let error = config(&[
            ("DATABASE_URL", "postgres://db/rush"),
            ("BIND_ADDRESS", "localhost"),
            ("CORS_ALLOWED_ORIGINS", "https://ok.example, ftp://bad"),
        ])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        for name in ["DATABASE_URL", "BIND_ADDRESS", "CORS_ALLOWED_ORIGINS"] {
            assert!(error.contains(name), "{name} missing from {error}");
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
