//! Per-operation request rate limits at AWS's default quotas.
//!
//! AWS meters control-plane APIs per account and region; a caller above the quota gets the
//! service's throttling error. Each (account, region, service, operation) gets a token bucket
//! that refills at the quota's TPS and holds one second of it, which is how a steady client
//! at the quota passes and a burst above it is throttled.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::signing_scope::Scope;
use crate::wire::Service;

/// AWS's published default quotas (transactions per second, per account and region).
/// X-Ray publishes none for the sampling-rule APIs, so they are unlimited unless overridden.
pub const DEFAULT_QUOTAS: &[(Service, &str, f64)] = &[
    (Service::CloudWatch, "PutMetricAlarm", 3.0),
    (Service::CloudWatch, "PutCompositeAlarm", 3.0),
    (Service::CloudWatch, "DeleteAlarms", 3.0),
    (Service::CloudWatch, "SetAlarmState", 3.0),
    (Service::CloudWatch, "DescribeAlarms", 9.0),
    (Service::CloudWatch, "TagResource", 20.0),
    (Service::CloudWatch, "UntagResource", 20.0),
    (Service::CloudWatch, "ListTagsForResource", 10.0),
    (Service::CloudWatch, "PutMetricStream", 10.0),
    (Service::CloudWatch, "GetMetricStream", 10.0),
    (Service::CloudWatch, "ListMetricStreams", 10.0),
    (Service::CloudWatch, "DeleteMetricStream", 10.0),
    (Service::CloudWatch, "StartMetricStreams", 10.0),
    (Service::CloudWatch, "StopMetricStreams", 10.0),
    (Service::Logs, "PutSubscriptionFilter", 5.0),
    (Service::Logs, "DescribeSubscriptionFilters", 5.0),
    (Service::Logs, "DeleteSubscriptionFilter", 5.0),
    (Service::Logs, "CreateLogGroup", 5.0),
    (Service::Logs, "DeleteLogGroup", 10.0),
    (Service::Logs, "DescribeLogGroups", 10.0),
    // Metric filters and destinations: the Logs control-plane default of 5 TPS (verify).
    (Service::Logs, "PutMetricFilter", 5.0),
    (Service::Logs, "DescribeMetricFilters", 5.0),
    (Service::Logs, "DeleteMetricFilter", 5.0),
    (Service::Logs, "TestMetricFilter", 5.0),
    (Service::Logs, "PutDestination", 5.0),
    (Service::Logs, "PutDestinationPolicy", 5.0),
    (Service::Logs, "DescribeDestinations", 5.0),
    (Service::Logs, "DeleteDestination", 5.0),
    (Service::Logs, "TagResource", 5.0),
    (Service::Logs, "UntagResource", 5.0),
    (Service::Logs, "ListTagsForResource", 5.0),
    (Service::Firehose, "CreateDeliveryStream", 5.0),
    (Service::Firehose, "DescribeDeliveryStream", 5.0),
    (Service::Firehose, "DeleteDeliveryStream", 5.0),
    (Service::Firehose, "ListDeliveryStreams", 5.0),
];

/// Quota settings (`GET`/`PUT /_emulator/quotas`). JSON:
///
/// ```json
/// {"enabled": true, "overrides": {"cloudwatch:PutMetricAlarm": 1.0, "GetSamplingRules": 5}}
/// ```
///
/// `enabled` switches AWS's default table on. `overrides` always apply, keyed by
/// `service:Operation` or by `Operation` (every service with that operation); a value of 0 or
/// less removes the limit for that operation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuotaSettings {
    pub enabled: bool,
    pub overrides: BTreeMap<String, f64>,
}

impl QuotaSettings {
    /// The TPS limit in force for one operation, if any.
    pub fn limit(&self, service: Service, operation: &str) -> Option<f64> {
        let key = format!("{}:{operation}", service.key());
        let overridden = self
            .overrides
            .get(&key)
            .or_else(|| self.overrides.get(operation));
        let tps = match overridden {
            Some(tps) => Some(*tps),
            None if self.enabled => DEFAULT_QUOTAS
                .iter()
                .find(|(svc, op, _)| *svc == service && *op == operation)
                .map(|(_, _, tps)| *tps),
            None => None,
        };
        tps.filter(|tps| *tps > 0.0)
    }

    /// Every limit in force, keyed `service:Operation` (reported by the admin API).
    pub fn effective(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        if self.enabled {
            for (service, op, tps) in DEFAULT_QUOTAS {
                out.insert(format!("{}:{op}", service.key()), *tps);
            }
        }
        for (key, tps) in &self.overrides {
            if key.contains(':') {
                out.insert(key.clone(), *tps);
            } else {
                for (service, op, _) in DEFAULT_QUOTAS.iter().filter(|(_, op, _)| op == key) {
                    out.insert(format!("{}:{op}", service.key()), *tps);
                }
                if !DEFAULT_QUOTAS.iter().any(|(_, op, _)| op == key) {
                    out.insert(key.clone(), *tps);
                }
            }
        }
        out.retain(|_, tps| *tps > 0.0);
        out
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets for every (scope, service, operation) seen.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(Scope, Service, String), Bucket>>,
}

impl RateLimiter {
    /// Takes one token; false when the caller is over the limit.
    pub fn admit(&self, scope: &Scope, service: Service, operation: &str, tps: f64) -> bool {
        let capacity = tps.max(1.0);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let key = (scope.clone(), service, operation.to_string());
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * tps).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn reset(&self) {
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_only_when_enabled() {
        let mut settings = QuotaSettings::default();
        assert_eq!(settings.limit(Service::CloudWatch, "PutMetricAlarm"), None);
        settings.enabled = true;
        assert_eq!(
            settings.limit(Service::CloudWatch, "PutMetricAlarm"),
            Some(3.0)
        );
        assert_eq!(
            settings.limit(Service::CloudWatch, "DescribeAlarms"),
            Some(9.0)
        );
        assert_eq!(settings.limit(Service::XRay, "GetSamplingRules"), None);
    }

    #[test]
    fn overrides_win_and_zero_removes_the_limit() {
        let settings = QuotaSettings {
            enabled: true,
            overrides: [
                ("cloudwatch:PutMetricAlarm".to_string(), 50.0),
                ("DescribeAlarms".to_string(), 0.0),
                ("GetSamplingRules".to_string(), 2.0),
            ]
            .into(),
        };
        assert_eq!(
            settings.limit(Service::CloudWatch, "PutMetricAlarm"),
            Some(50.0)
        );
        assert_eq!(settings.limit(Service::CloudWatch, "DescribeAlarms"), None);
        assert_eq!(settings.limit(Service::XRay, "GetSamplingRules"), Some(2.0));
    }

    #[test]
    fn a_burst_above_the_quota_is_refused() {
        let limiter = RateLimiter::default();
        let scope = Scope::new("123456789012", "us-east-1");
        let admitted = (0..10)
            .filter(|_| limiter.admit(&scope, Service::CloudWatch, "PutMetricAlarm", 3.0))
            .count();
        assert_eq!(admitted, 3);
        let other_region = Scope::new("123456789012", "eu-west-1");
        assert!(limiter.admit(&other_region, Service::CloudWatch, "PutMetricAlarm", 3.0));
    }
}
