//! Client-side rate limits per (location, AWS operation), sized from AWS's default quotas.
//!
//! Quotas are per account and region and shared with every other tool in the account, so the
//! operator runs at a configurable share of each quota, leaving room for the rest. Calls are
//! spaced evenly (one slot every `1 / rate` seconds, first come first served) rather than
//! released in bursts, so a cold start of thousands of objects runs at the quota and not into it.
//! When AWS still throttles (someone else is using the quota), the rate is halved, and it climbs
//! back by a small step after each success (additive increase, multiplicative decrease).

use super::Location;
use super::api::Api;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
// Tokio's clock, so tests can run with paused time.
use tokio::time::Instant;

/// How fast the operator may call each AWS operation.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimitConfig {
    /// Share of each default quota the operator uses, in (0, 1].
    pub quota_share: f64,
    /// Explicit rates (calls per second) that replace `quota_share × default quota`.
    pub overrides: HashMap<Api, f64>,
    /// Turns every limit off (for tests against an emulator without quotas).
    pub disabled: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            quota_share: DEFAULT_QUOTA_SHARE,
            overrides: HashMap::new(),
            disabled: false,
        }
    }
}

/// Default share of each AWS quota the operator allows itself.
pub const DEFAULT_QUOTA_SHARE: f64 = 0.95;

/// A rate never drops below this share of its configured maximum after throttling.
const MIN_RATE_FRACTION: f64 = 0.1;
/// Each success after throttling adds this share of the configured maximum back.
const RECOVERY_STEP_FRACTION: f64 = 0.05;

impl RateLimitConfig {
    /// The configured maximum rate for `api`, in calls per second.
    pub fn max_rate(&self, api: Api) -> f64 {
        self.overrides
            .get(&api)
            .copied()
            .unwrap_or(api.default_quota_tps() * self.quota_share)
    }
}

/// Spacing state of one (location, operation).
#[derive(Clone, Debug)]
struct Bucket {
    max_rate: f64,
    rate: f64,
    next_slot: Option<Instant>,
}

impl Bucket {
    fn new(max_rate: f64) -> Self {
        Bucket {
            max_rate,
            rate: max_rate,
            next_slot: None,
        }
    }

    /// Reserves the next slot at or after `now` and returns it.
    fn reserve(&mut self, now: Instant) -> Instant {
        let slot = match self.next_slot {
            Some(next) if next > now => next,
            _ => now,
        };
        self.next_slot = Some(slot + Duration::from_secs_f64(1.0 / self.rate));
        slot
    }

    fn throttled(&mut self) {
        self.rate = (self.rate / 2.0).max(self.max_rate * MIN_RATE_FRACTION);
    }

    fn succeeded(&mut self) {
        self.rate = (self.rate + self.max_rate * RECOVERY_STEP_FRACTION).min(self.max_rate);
    }
}

/// The operator's rate limits, shared by every reconcile.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<(Location, Api), Bucket>>,
}

impl RateLimiter {
    /// Limits with this configuration.
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for the next free slot for `api` at `location`.
    pub async fn acquire(&self, location: &Location, api: Api) {
        tokio::time::sleep_until(self.reserve(location, api)).await;
    }

    /// Reserves the next free slot for `api` at `location` without waiting for it: the caller
    /// makes its call at the returned instant (now when limits are off). A batch reserves its
    /// slot when it opens and gathers requests until then.
    pub fn reserve(&self, location: &Location, api: Api) -> Instant {
        let now = Instant::now();
        if self.config.disabled {
            return now;
        }
        self.with_bucket(location, api, |b| b.reserve(now))
    }

    /// AWS throttled a call: slow down.
    pub fn throttled(&self, location: &Location, api: Api) {
        if !self.config.disabled {
            self.with_bucket(location, api, Bucket::throttled);
        }
    }

    /// A call went through: recover towards the configured rate.
    pub fn succeeded(&self, location: &Location, api: Api) {
        if !self.config.disabled {
            self.with_bucket(location, api, Bucket::succeeded);
        }
    }

    /// The current rate for `api` at `location`, in calls per second.
    pub fn current_rate(&self, location: &Location, api: Api) -> f64 {
        self.with_bucket(location, api, |b| b.rate)
    }

    fn with_bucket<T>(&self, location: &Location, api: Api, f: impl FnOnce(&mut Bucket) -> T) -> T {
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        let bucket = buckets
            .entry((location.clone(), api))
            .or_insert_with(|| Bucket::new(self.config.max_rate(api)));
        f(bucket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_spaced_by_the_rate() {
        let mut b = Bucket::new(2.0);
        let t0 = Instant::now();
        let slots: Vec<_> = (0..4).map(|_| b.reserve(t0)).collect();
        assert_eq!(slots[0], t0);
        for pair in slots.windows(2) {
            assert_eq!(pair[1] - pair[0], Duration::from_millis(500));
        }
    }

    #[test]
    fn idle_time_does_not_accumulate_into_a_burst() {
        let mut b = Bucket::new(1.0);
        let t0 = Instant::now();
        b.reserve(t0);
        let later = t0 + Duration::from_secs(60);
        assert_eq!(b.reserve(later), later);
        assert_eq!(b.reserve(later), later + Duration::from_secs(1));
    }

    #[test]
    fn throttling_halves_the_rate_down_to_a_floor_and_successes_recover_it() {
        let mut b = Bucket::new(10.0);
        b.throttled();
        assert_eq!(b.rate, 5.0);
        for _ in 0..10 {
            b.throttled();
        }
        assert_eq!(b.rate, 1.0);
        for _ in 0..100 {
            b.succeeded();
        }
        assert_eq!(b.rate, 10.0);
    }

    #[test]
    fn default_limit_is_a_share_of_the_quota_and_overrides_win() {
        let mut config = RateLimitConfig::default();
        assert!((config.max_rate(Api::PutMetricAlarm) - 3.0 * DEFAULT_QUOTA_SHARE).abs() < 1e-9);
        config.overrides.insert(Api::PutMetricAlarm, 1.5);
        assert_eq!(config.max_rate(Api::PutMetricAlarm), 1.5);
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_waits_for_the_slot() {
        let limiter = RateLimiter::new(RateLimitConfig {
            overrides: [(Api::DeleteAlarms, 4.0)].into(),
            ..Default::default()
        });
        let start = tokio::time::Instant::now();
        for _ in 0..5 {
            limiter
                .acquire(&Location::of("us-east-1"), Api::DeleteAlarms)
                .await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(1000));
        // Another region has its own quota.
        let before = tokio::time::Instant::now();
        limiter
            .acquire(&Location::of("eu-west-1"), Api::DeleteAlarms)
            .await;
        assert_eq!(before.elapsed(), Duration::ZERO);
    }
}
