//! Requeue delays after recoverable errors: exponential backoff with jitter, so thousands of
//! objects that failed together do not come back together.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// First retry delay after a recoverable error.
pub const BASE_DELAY: Duration = Duration::from_secs(2);
/// Longest retry delay.
pub const MAX_DELAY: Duration = Duration::from_secs(300);

/// The delay before retry number `failures` (1-based), before jitter.
pub fn backoff_delay(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    BASE_DELAY.saturating_mul(1 << exp).min(MAX_DELAY)
}

/// A uniformly random number in [0, 1).
pub fn random_unit() -> f64 {
    rand::random::<f64>()
}

/// Failure counts per object, for exponential backoff.
#[derive(Debug, Default)]
pub struct Backoffs {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoffs {
    /// Records a failure of `key` and returns how long to wait before retrying (jittered down to
    /// half, never above the exponential delay).
    pub fn failed(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().expect("backoff lock");
        let n = failures.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        let delay = backoff_delay(*n);
        delay.mul_f64(0.5 + 0.5 * random_unit())
    }

    /// Forgets the failures of `key` after a success.
    pub fn succeeded(&self, key: &str) {
        let mut failures = self.failures.lock().expect("backoff lock");
        failures.remove(key);
    }

    /// Number of consecutive failures of `key`.
    pub fn failures(&self, key: &str) -> u32 {
        self.failures
            .lock()
            .expect("backoff lock")
            .get(key)
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff_delay(1), Duration::from_secs(2));
        assert_eq!(backoff_delay(2), Duration::from_secs(4));
        assert_eq!(backoff_delay(5), Duration::from_secs(32));
        assert_eq!(backoff_delay(9), MAX_DELAY);
        assert_eq!(backoff_delay(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn success_resets_the_failure_count() {
        let b = Backoffs::default();
        for _ in 0..3 {
            let delay = b.failed("ns/a");
            assert!(delay <= MAX_DELAY);
        }
        assert_eq!(b.failures("ns/a"), 3);
        b.succeeded("ns/a");
        assert_eq!(b.failures("ns/a"), 0);
        let first = b.failed("ns/a");
        assert!(first >= BASE_DELAY / 2 && first <= BASE_DELAY);
    }
}
