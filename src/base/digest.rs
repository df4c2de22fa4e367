//! SHA-256 in hex: how secrets (tokens, status links) and client addresses are stored and
//! looked up, never in the clear.

use sha2::{Digest, Sha256};

/// The SHA-256 of `text`, as 64 lower-case hex digits.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
