//! Rate limiting per client: a token bucket (GCRA, `governor`) for each IP address, and one for
//! each valid token, answered with 429 and the IETF `RateLimit` / `RateLimit-Policy` fields.
//!
//! The client of a request is its token when it sends a valid one, otherwise its IP address: the
//! peer's, unless the peer is a trusted proxy, whose `X-Forwarded-For` then names the client.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderName, HeaderValue};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota};

pub const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The window every limit is stated over, in seconds.
const WINDOW_SECONDS: u64 = 60;
/// Checks between two sweeps of buckets that have refilled completely (and so hold nothing worth
/// keeping): the maps stay as large as the set of recently active clients.
const SWEEP_EVERY: u64 = 4_096;
/// How long a token found valid (or not) is trusted for keying the limit. Authorisation itself
/// always asks the database; this only decides whose bucket a request draws from.
const TOKEN_CHECK_TTL: Duration = Duration::from_secs(1);
/// Token checks remembered at most; past that the memory starts over.
const TOKEN_CHECK_CAPACITY: usize = 10_000;

/// An IP network: an address and the number of leading bits that must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// `192.0.2.7`, `10.0.0.0/8`, `::1` or `2001:db8::/32`.
    pub fn parse(text: &str) -> Result<IpNetwork, String> {
        let invalid = || format!("'{text}' is not an IP address or CIDR range (such as 10.0.0.0/8)");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.trim().parse().map_err(|_| invalid())?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.trim().parse::<u8>().ok().filter(|p| *p <= bits).ok_or_else(invalid)?,
            None => bits,
        };
        // An IPv4-mapped range (`::ffff:10.0.0.0/104`) is the IPv4 range it maps; clients are
        // compared in their canonical form too.
        match address.to_canonical() {
            IpAddr::V4(v4) if address.is_ipv6() && prefix >= 96 => {
                Ok(IpNetwork { address: IpAddr::V4(v4), prefix: prefix - 96 })
            }
            _ => Ok(IpNetwork { address, prefix }),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                same_prefix(network.to_bits().into(), ip.to_bits().into(), 32, self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => same_prefix(network.to_bits(), ip.to_bits(), 128, self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(a: u128, b: u128, bits: u8, prefix: u8) -> bool {
    let ignored = u32::from(bits - prefix);
    match ignored {
        0 => a == b,
        _ if ignored >= 128 => true,
        _ => (a >> ignored) == (b >> ignored),
    }
}

/// The limits as configured: requests per minute per IP and per token (`0`: no limit), and the
/// reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub per_ip_per_minute: u32,
    pub per_token_per_minute: u32,
    pub trusted_proxies: Vec<IpNetwork>,
    /// Public event request submissions per client IP per hour.
    pub submissions_per_hour: u32,
}

impl RateLimitConfig {
    /// The limits of a fresh configuration with nothing set (the contract's defaults).
    pub const DEFAULT_PER_IP: u32 = 3_000;
    pub const DEFAULT_PER_TOKEN: u32 = 12_000;
    pub const DEFAULT_SUBMISSIONS_PER_HOUR: u32 = 5;

    pub fn off() -> RateLimitConfig {
        RateLimitConfig::default()
    }
}

type Limiter<K> = DefaultKeyedRateLimiter<K, StateInformationMiddleware>;

/// One kind of bucket (per IP, or per token) with its policy: `quota` requests per `window`
/// seconds, named `name` in the `RateLimit` fields.
struct Buckets<K: std::hash::Hash + Eq + Clone> {
    limiter: Limiter<K>,
    quota: u32,
    window: u64,
    name: &'static str,
    policy: HeaderValue,
}

impl<K: std::hash::Hash + Eq + Clone> Buckets<K> {
    fn new(quota: u32, window: u64, name: &'static str) -> Option<Buckets<K>> {
        let quota_nonzero = NonZeroU32::new(quota)?;
        // Bursts up to the whole window's allowance, refilled evenly over the window.
        let period = Duration::from_secs(window).checked_div(quota)?;
        let quota_of = Quota::with_period(period)?.allow_burst(quota_nonzero);
        let limiter = DefaultKeyedRateLimiter::keyed(quota_of).with_middleware::<StateInformationMiddleware>();
        let policy = HeaderValue::from_str(&format!("\"{name}\";q={quota};w={window}")).ok()?;
        Some(Buckets { limiter, quota, window, name, policy })
    }

    fn check(&self, key: &K) -> Verdict {
        let seconds_per_request = self.window as f64 / f64::from(self.quota);
        match self.limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                // The bucket is full again once every used request has been refilled.
                let used = self.quota.saturating_sub(remaining);
                let reset = (f64::from(used) * seconds_per_request).ceil() as u64;
                Verdict { allowed: true, remaining, reset_seconds: reset, name: self.name, policy: self.policy.clone() }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let retry = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Verdict {
                    allowed: false,
                    remaining: 0,
                    reset_seconds: retry.max(1),
                    name: self.name,
                    policy: self.policy.clone(),
                }
            }
        }
    }

    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The outcome of one request's check, with what its response must say.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub allowed: bool,
    pub remaining: u32,
    /// Seconds until the bucket is full again or, when refused, until the next request is allowed.
    pub reset_seconds: u64,
    name: &'static str,
    policy: HeaderValue,
}

impl Verdict {
    /// `RateLimit-Policy` and `RateLimit` (IETF draft-ietf-httpapi-ratelimit-headers), and
    /// `Retry-After` on a refusal.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![(RATE_LIMIT_POLICY, self.policy.clone())];
        if let Ok(value) =
            HeaderValue::from_str(&format!("\"{}\";r={};t={}", self.name, self.remaining, self.reset_seconds))
        {
            headers.push((RATE_LIMIT, value));
        }
        if !self.allowed {
            headers.push((header::RETRY_AFTER, HeaderValue::from(self.reset_seconds)));
        }
        headers
    }
}

/// Every client's buckets, for one process (limits hold per instance).
pub struct RateLimiter {
    per_ip: Option<Buckets<IpAddr>>,
    per_token: Option<Buckets<String>>,
    trusted_proxies: Vec<IpNetwork>,
    checks: AtomicU64,
    /// Recent answers to "is this token hash a valid token?", by hash.
    token_checks: Mutex<HashMap<String, (bool, Instant)>>,
}

/// The limit on public event request submissions: `per_hour` per client IP (`0`: none). Counted
/// in the database (`event_requests::store::take_allowance`), not in this process: submissions are
/// rare, and so every instance on one database counts the same ones.
pub struct SubmissionLimit {
    pub per_hour: u32,
    policy: Option<HeaderValue>,
}

impl SubmissionLimit {
    pub fn per_hour(per_hour: u32) -> SubmissionLimit {
        let policy = (per_hour > 0)
            .then(|| HeaderValue::from_str(&format!("\"submissions\";q={per_hour};w=3600")).ok())
            .flatten();
        SubmissionLimit { per_hour, policy }
    }

    /// Whether submissions are limited at all.
    pub fn is_on(&self) -> bool {
        self.policy.is_some()
    }

    /// What a response says about an allowance the database gave: `allowed`, how many more
    /// submissions are allowed now, and the seconds until the allowance is whole again (or, when
    /// refused, until the next submission is allowed).
    pub fn verdict(&self, allowed: bool, remaining: u32, reset_seconds: u64) -> Option<Verdict> {
        let policy = self.policy.clone()?;
        Some(Verdict { allowed, remaining, reset_seconds, name: "submissions", policy })
    }
}

/// Whom a request is counted against.
pub enum Client {
    Ip(IpAddr),
    /// A token that the database confirmed, by the hash of its secret.
    Token(String),
}

impl RateLimiter {
    pub fn new(config: &RateLimitConfig) -> RateLimiter {
        RateLimiter {
            per_ip: Buckets::new(config.per_ip_per_minute, WINDOW_SECONDS, "default"),
            per_token: Buckets::new(config.per_token_per_minute, WINDOW_SECONDS, "default"),
            trusted_proxies: config.trusted_proxies.clone(),
            checks: AtomicU64::new(0),
            token_checks: Mutex::default(),
        }
    }

    /// Whether any limit is on (otherwise no request is checked and no header is added).
    pub fn is_on(&self) -> bool {
        self.per_ip.is_some() || self.per_token.is_some()
    }

    /// Health probes are never limited: a limited probe would take a healthy instance out.
    pub fn applies_to(&self, path: &str) -> bool {
        self.is_on() && path != "/healthz" && path != "/readyz"
    }

    /// What is remembered about the token with this hash: `Some(valid)` if checked recently.
    pub fn remembered_token(&self, hash: &str) -> Option<bool> {
        let checks = self.token_checks.lock().ok()?;
        checks.get(hash).filter(|(_, at)| at.elapsed() < TOKEN_CHECK_TTL).map(|(valid, _)| *valid)
    }

    pub fn remember_token(&self, hash: String, valid: bool) {
        if let Ok(mut checks) = self.token_checks.lock() {
            if checks.len() >= TOKEN_CHECK_CAPACITY {
                checks.clear();
            }
            checks.insert(hash, (valid, Instant::now()));
        }
    }

    /// The client's IP address: the peer, or, when the peer is a trusted proxy, the last address
    /// in `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn client_ip(&self, request: &actix_web::HttpRequest) -> IpAddr {
        let peer = request.peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |address| address.ip().to_canonical());
        if !self.is_trusted(peer) {
            return peer;
        }
        let forwarded: Vec<&str> = request
            .headers()
            .get_all(FORWARDED_FOR)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .collect();
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            // An entry no proxy of ours wrote cannot be told apart from a forgery: stop at it and
            // count the request against the last address a trusted proxy vouched for.
            let Some(ip) = parse_forwarded_address(entry) else { return client };
            client = ip;
            if !self.is_trusted(ip) {
                return ip;
            }
        }
        client
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|network| network.contains(ip))
    }

    /// Counts one request against `client`'s bucket. `None` when that kind of client has no limit.
    pub fn check(&self, client: &Client) -> Option<Verdict> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            if let Some(buckets) = &self.per_ip {
                buckets.sweep();
            }
            if let Some(buckets) = &self.per_token {
                buckets.sweep();
            }
        }
        match client {
            Client::Ip(ip) => self.per_ip.as_ref().map(|buckets| buckets.check(ip)),
            Client::Token(hash) => self.per_token.as_ref().map(|buckets| buckets.check(hash)),
        }
    }
}

/// An address as proxies write it in `X-Forwarded-For`: bare, or with a port (`[::1]:443`).
fn parse_forwarded_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|address| address.ip()))
        .map(|ip| ip.to_canonical())
}

/// Parses `TRUSTED_PROXIES`: comma-separated addresses or CIDR ranges.
pub fn parse_trusted_proxies(text: &str) -> Result<Vec<IpNetwork>, String> {
    text.split(',').map(str::trim).filter(|entry| !entry.is_empty()).map(IpNetwork::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn limiter(trusted: &str) -> RateLimiter {
        RateLimiter::new(&RateLimitConfig {
            per_ip_per_minute: 3,
            per_token_per_minute: 0,
            trusted_proxies: parse_trusted_proxies(trusted).unwrap_or_default(),
            submissions_per_hour: 0,
        })
    }

    fn client_of(limiter: &RateLimiter, peer: &str, forwarded: Option<&str>) -> String {
        let mut request = TestRequest::get().peer_addr(peer.parse().unwrap_or_else(|_| ([0, 0, 0, 0], 0).into()));
        if let Some(forwarded) = forwarded {
            request = request.insert_header(("X-Forwarded-For", forwarded));
        }
        limiter.client_ip(&request.to_http_request()).to_string()
    }

    #[test]
    fn networks_match_by_prefix() {
        let network = IpNetwork::parse("10.1.0.0/16").map_err(|e| e.to_string());
        assert!(network.as_ref().is_ok_and(|n| n.contains("10.1.200.3".parse().unwrap_or(IpAddr::from([0; 4])))));
        assert!(network.as_ref().is_ok_and(|n| !n.contains("10.2.0.1".parse().unwrap_or(IpAddr::from([0; 4])))));
        assert!(IpNetwork::parse("::ffff:127.0.0.1").is_ok_and(|n| n.contains(IpAddr::from([127, 0, 0, 1]))));
        assert!(IpNetwork::parse("0.0.0.0/0").is_ok_and(|n| n.contains(IpAddr::from([8, 8, 8, 8]))));
        for bad in ["10.0.0.0/33", "localhost", "10.0.0/8", "::1/129", ""] {
            assert!(IpNetwork::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_last_untrusted_forwarded_address_behind_a_trusted_peer() {
        let limiter = limiter("127.0.0.1, 10.0.0.0/8");
        // An untrusted peer's X-Forwarded-For is ignored: anyone can write one.
        assert_eq!(client_of(&limiter, "198.51.100.9:4000", Some("203.0.113.5")), "198.51.100.9");
        // Behind trusted proxies, the first address from the right that is not one of them.
        assert_eq!(client_of(&limiter, "127.0.0.1:4000", Some("1.2.3.4, 203.0.113.5, 10.0.0.7")), "203.0.113.5");
        assert_eq!(client_of(&limiter, "127.0.0.1:4000", Some("203.0.113.5:443")), "203.0.113.5");
        // All trusted: the earliest one is the client.
        assert_eq!(client_of(&limiter, "127.0.0.1:4000", Some("10.0.0.8, 10.0.0.7")), "10.0.0.8");
        // No header, or garbage where the client should be: the last address vouched for.
        assert_eq!(client_of(&limiter, "127.0.0.1:4000", None), "127.0.0.1");
        assert_eq!(client_of(&limiter, "127.0.0.1:4000", Some("not-an-ip, 10.0.0.7")), "10.0.0.7");
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_with_a_retry_time() {
        let limiter = limiter("");
        let client = Client::Ip(IpAddr::from([192, 0, 2, 1]));
        let remaining: Vec<u32> = (0..3).filter_map(|_| limiter.check(&client)).map(|v| v.remaining).collect();
        assert_eq!(remaining, vec![2, 1, 0]);
        let refused = limiter.check(&client);
        assert!(refused.as_ref().is_some_and(|v| !v.allowed && v.reset_seconds >= 1 && v.reset_seconds <= 20));
        // Another client has its own bucket; a token client has no limit here.
        assert!(limiter.check(&Client::Ip(IpAddr::from([192, 0, 2, 2]))).is_some_and(|v| v.allowed));
        assert!(limiter.check(&Client::Token("abc".to_owned())).is_none());
    }
}
