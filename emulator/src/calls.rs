//! Call counts per service and operation, split by outcome.
//!
//! Tests and benchmarks read these to count the AWS calls the operator made. JSON shape
//! (`GET /_emulator/calls`, [`crate::RunningEmulator::calls`]):
//!
//! ```json
//! {
//!   "cloudwatch": {
//!     "PutMetricAlarm": {"total": 3, "ok": 2, "throttled": 1, "injected": 0,
//!                        "errors": {"Throttling": 1}}
//!   },
//!   "logs": {"CreateLogGroup": {"total": 1, "ok": 1, "throttled": 0, "injected": 0, "errors": {}}}
//! }
//! ```
//!
//! `total = ok + sum(errors)`. `throttled` counts the errors that were throttling answers
//! (quota or injected); `injected` counts the errors that came from fault injection.
//!
//! The same counts are kept per account (`GET /_emulator/calls?account=210987654321`): the
//! account whose state a call addressed, after its credentials were resolved. A call refused for
//! its credentials (expired or unknown) counts in the totals only.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Counts for one operation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OperationCalls {
    pub total: u64,
    pub ok: u64,
    pub throttled: u64,
    pub injected: u64,
    /// Errors by AWS error code.
    pub errors: BTreeMap<String, u64>,
}

impl OperationCalls {
    /// All error answers.
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Counts for every service and operation called since start or the last reset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallCounts {
    /// service key (`cloudwatch`, `logs`, `firehose`, `xray`) → operation → counts.
    pub services: BTreeMap<String, BTreeMap<String, OperationCalls>>,
}

impl CallCounts {
    /// Counts for one operation (zero when never called).
    pub fn operation(&self, service: &str, operation: &str) -> OperationCalls {
        self.services
            .get(service)
            .and_then(|ops| ops.get(operation))
            .cloned()
            .unwrap_or_default()
    }

    /// Calls to one operation, whatever their outcome.
    pub fn total_of(&self, service: &str, operation: &str) -> u64 {
        self.operation(service, operation).total
    }

    /// Calls to every operation of every service.
    pub fn total(&self) -> u64 {
        self.services
            .values()
            .flat_map(|ops| ops.values())
            .map(|c| c.total)
            .sum()
    }

    /// Calls to operations that change state, i.e. every operation that is not a read
    /// ([`is_read_operation`]).
    pub fn writes(&self) -> u64 {
        self.services
            .values()
            .flat_map(|ops| ops.iter())
            .filter(|(op, _)| !is_read_operation(op))
            .map(|(_, c)| c.total)
            .sum()
    }
}

/// True for the operations that change nothing (`Describe*`, `Get*`, `List*`, and
/// `TestMetricFilter`, which only runs a pattern over the events it is given).
pub fn is_read_operation(operation: &str) -> bool {
    ["Describe", "Get", "List", "Test"]
        .iter()
        .any(|p| operation.starts_with(p))
}

/// How one call ended.
pub enum Outcome<'a> {
    Ok,
    Error {
        code: &'a str,
        throttled: bool,
        injected: bool,
    },
}

impl CallCounts {
    fn add(&mut self, service: &str, operation: &str, outcome: &Outcome<'_>) {
        let ops = self.services.entry(service.to_string()).or_default();
        let calls = match ops.get_mut(operation) {
            Some(calls) => calls,
            None => ops.entry(operation.to_string()).or_default(),
        };
        calls.total += 1;
        match outcome {
            Outcome::Ok => calls.ok += 1,
            Outcome::Error {
                code,
                throttled,
                injected,
            } => {
                *calls.errors.entry(code.to_string()).or_default() += 1;
                calls.throttled += u64::from(*throttled);
                calls.injected += u64::from(*injected);
            }
        }
    }
}

#[derive(Default)]
struct Recorded {
    all: CallCounts,
    by_account: BTreeMap<String, CallCounts>,
}

/// The shared, thread-safe recorder behind the admin API.
#[derive(Default)]
pub struct CallRecorder {
    counts: Mutex<Recorded>,
}

impl CallRecorder {
    /// Counts one call, in `account` too when its credentials resolved to one.
    pub fn record(
        &self,
        account: Option<&str>,
        service: &str,
        operation: &str,
        outcome: Outcome<'_>,
    ) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.all.add(service, operation, &outcome);
        if let Some(account) = account {
            counts
                .by_account
                .entry(account.to_string())
                .or_default()
                .add(service, operation, &outcome);
        }
    }

    pub fn snapshot(&self) -> CallCounts {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .all
            .clone()
    }

    /// The calls made in `account` (none yet: empty counts).
    pub fn snapshot_of(&self, account: &str) -> CallCounts {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_account
            .get(account)
            .cloned()
            .unwrap_or_default()
    }

    pub fn reset(&self) {
        *self.counts.lock().unwrap_or_else(|e| e.into_inner()) = Recorded::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_split_and_totalled() {
        let recorder = CallRecorder::default();
        recorder.record(None, "cloudwatch", "PutMetricAlarm", Outcome::Ok);
        recorder.record(
            None,
            "cloudwatch",
            "PutMetricAlarm",
            Outcome::Error {
                code: "Throttling",
                throttled: true,
                injected: false,
            },
        );
        recorder.record(None, "cloudwatch", "DescribeAlarms", Outcome::Ok);
        let counts = recorder.snapshot();
        let put = counts.operation("cloudwatch", "PutMetricAlarm");
        assert_eq!((put.total, put.ok, put.throttled), (2, 1, 1));
        assert_eq!(put.errors.get("Throttling"), Some(&1));
        assert_eq!(counts.total(), 3);
        assert_eq!(counts.writes(), 2);
        let json = serde_json::to_value(&counts).unwrap();
        assert_eq!(
            json["cloudwatch"]["PutMetricAlarm"]["errors"]["Throttling"],
            1
        );
    }

    #[test]
    fn each_account_keeps_its_own_counts_beside_the_totals() {
        let recorder = CallRecorder::default();
        recorder.record(
            Some("111111111111"),
            "cloudwatch",
            "DescribeAlarms",
            Outcome::Ok,
        );
        recorder.record(
            Some("111111111111"),
            "cloudwatch",
            "DescribeAlarms",
            Outcome::Ok,
        );
        recorder.record(
            Some("222222222222"),
            "cloudwatch",
            "DescribeAlarms",
            Outcome::Ok,
        );
        recorder.record(
            None,
            "cloudwatch",
            "DescribeAlarms",
            Outcome::Error {
                code: "ExpiredToken",
                throttled: false,
                injected: false,
            },
        );
        assert_eq!(
            recorder.snapshot().total_of("cloudwatch", "DescribeAlarms"),
            4
        );
        assert_eq!(
            recorder
                .snapshot_of("111111111111")
                .total_of("cloudwatch", "DescribeAlarms"),
            2
        );
        assert_eq!(recorder.snapshot_of("222222222222").total(), 1);
        assert_eq!(recorder.snapshot_of("333333333333").total(), 0);
        recorder.reset();
        assert_eq!(recorder.snapshot_of("111111111111").total(), 0);
    }

    #[test]
    fn testing_a_metric_filter_pattern_is_a_read() {
        for read in [
            "DescribeMetricFilters",
            "TestMetricFilter",
            "DescribeDestinations",
        ] {
            assert!(is_read_operation(read), "{read}");
        }
        for write in [
            "PutMetricFilter",
            "DeleteMetricFilter",
            "PutDestinationPolicy",
        ] {
            assert!(!is_read_operation(write), "{write}");
        }
    }
}
