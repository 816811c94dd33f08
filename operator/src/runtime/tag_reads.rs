//! When to read an object's tags. Tags cannot be had from the describe calls (DescribeAlarms has
//! none), and reading them costs one call per object (ListTagsForResource: 10 per second per
//! account). They are read when something calls for it — the first sight of an AWS object whose
//! ownership is not yet confirmed, a spec change (the tags may be part of it) — and otherwise once
//! per tag resync period per object, the first of them spread at random over the period so a
//! restart does not read every object's tags at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Per-object schedule of tag reads.
#[derive(Debug)]
pub struct TagReads {
    period: Duration,
    next_due: Mutex<HashMap<String, Instant>>,
}

impl TagReads {
    /// Tags are re-read once per `period` for every object.
    pub fn new(period: Duration) -> Self {
        TagReads {
            period,
            next_due: Mutex::new(HashMap::new()),
        }
    }

    /// Whether to read the tags of `key` now. `needed` forces a read (and restarts its period).
    pub fn due(&self, key: &str, needed: bool) -> bool {
        self.due_at(key, needed, Instant::now(), super::backoff::random_unit())
    }

    fn due_at(&self, key: &str, needed: bool, now: Instant, unit: f64) -> bool {
        let mut next_due = self.next_due.lock().expect("tag reads lock");
        match next_due.get(key) {
            _ if needed => {
                next_due.insert(key.to_string(), now + self.period);
                true
            }
            None => {
                next_due.insert(key.to_string(), now + self.period.mul_f64(unit));
                false
            }
            Some(due) if *due <= now => {
                next_due.insert(key.to_string(), now + self.period);
                true
            }
            Some(_) => false,
        }
    }

    /// Forgets `key` (its object was deleted).
    pub fn forget(&self, key: &str) {
        self.next_due.lock().expect("tag reads lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_needed_read_happens_at_once_and_restarts_the_period() {
        let t = TagReads::new(Duration::from_secs(3600));
        let now = Instant::now();
        assert!(t.due_at("a", true, now, 0.0));
        assert!(!t.due_at("a", false, now + Duration::from_secs(3599), 0.0));
        assert!(t.due_at("a", false, now + Duration::from_secs(3600), 0.0));
    }

    #[test]
    fn objects_seen_first_are_spread_over_the_period() {
        let t = TagReads::new(Duration::from_secs(3600));
        let now = Instant::now();
        assert!(!t.due_at("a", false, now, 0.25));
        assert!(!t.due_at("a", false, now + Duration::from_secs(899), 0.25));
        assert!(t.due_at("a", false, now + Duration::from_secs(900), 0.25));
    }
}
