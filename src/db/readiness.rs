//! Readiness: whether the database can be read and written, checked at most once a second
//! however many probes arrive.

use std::time::Duration;

use crate::db::Db;

/// How long readiness may take before the database counts as unusable.
const READY_DEADLINE: Duration = Duration::from_secs(2);
/// How long a probe's outcome answers later probes: a flood of probes costs one database check a
/// second, never a queue on the write lock.
const READY_REUSE: Duration = Duration::from_secs(1);

/// The last readiness check and when it finished. The lock is held through a check, so probes
/// that arrive meanwhile wait for its outcome instead of starting their own.
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

impl Readiness {
    /// Whether the database can be read and written now (`Db::check_ready`), within 2 s.
    pub async fn is_ready(&self, db: &Db) -> bool {
        let mut last = self.last.lock().await;
        if let Some((checked_at, ready)) = *last
            && checked_at.elapsed() < READY_REUSE
        {
            return ready;
        }
        let ready = match db.check_ready(READY_DEADLINE).await {
            Ok(()) => true,
            Err(error) => {
                log::warn!("not ready: {error}");
                false
            }
        };
        *last = Some((std::time::Instant::now(), ready));
        ready
    }
}
