//! Objects whose cleanup this process finished: their AWS object is gone (or retained), and
//! their finalizer is being removed.
//!
//! An object that others wait on (a LogDestination for the subscriptions sending to it, a
//! MetricFilter for the alarms on its metric) is woken when one of them is released, and reads
//! its waiters from their kind's cache. That cache still holds the released object until the
//! watch reports its finalizer's removal, so a wake-up that comes first finds it still there,
//! waits again, and — with nothing left to wake it — sits out its backoff. Asking here instead
//! tells a released object from a live one at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How long a release is remembered: far longer than the watch takes to report the object gone
/// (UIDs are never reused, so an old entry can only cost memory).
const KEEP: Duration = Duration::from_secs(600);

/// UIDs of released objects, each with when it was released.
#[derive(Debug, Default)]
pub struct Released(Mutex<HashMap<String, Instant>>);

impl Released {
    /// The object with `uid` finished its cleanup.
    pub fn record(&self, uid: &str) {
        let now = Instant::now();
        let mut released = self.0.lock().expect("released lock");
        released.retain(|_, at| now.duration_since(*at) < KEEP);
        released.insert(uid.to_string(), now);
    }

    /// Whether the object with `uid` finished its cleanup: it no longer uses anything, whatever
    /// a cache still shows of it.
    pub fn holds(&self, uid: &str) -> bool {
        self.0.lock().expect("released lock").contains_key(uid)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().expect("released lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_object_is_known_by_its_uid_only() {
        let released = Released::default();
        assert!(!released.holds("a"));
        released.record("a");
        assert!(released.holds("a"));
        assert!(!released.holds("b"), "another object is not released");
    }

    #[tokio::test(start_paused = true)]
    async fn releases_are_forgotten_once_the_watch_has_long_caught_up() {
        let released = Released::default();
        released.record("old");
        tokio::time::advance(KEEP - Duration::from_secs(1)).await;
        released.record("recent");
        assert!(released.holds("old"), "kept for KEEP");
        tokio::time::advance(Duration::from_secs(1)).await;
        released.record("new");
        assert!(!released.holds("old"));
        assert!(released.holds("recent") && released.holds("new"));
        assert_eq!(released.len(), 2);
    }
}
