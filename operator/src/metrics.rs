//! Prometheus metrics on `/metrics`: reconciles and their duration by kind, errors by kind and
//! reason, AWS calls by service, operation and outcome, Kubernetes writes by kind and verb, reads
//! of objects whose cached copy lagged the operator's own write, and objects by kind and
//! readiness. Every label value comes from a closed set (kinds, reasons, AWS
//! operation names, outcomes): no object names and no AWS messages.

use crate::aws::api::Api;
use crate::reason::Reason;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    kind: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AwsCallLabels {
    service: &'static str,
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AwsApiLabels {
    service: &'static str,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    kind: &'static str,
    write: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReadyLabels {
    kind: &'static str,
    ready: &'static str,
}

/// Outcome label of one AWS call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwsOutcome {
    /// AWS answered with success.
    Success,
    /// AWS answered with its throttling error (after the SDK's own retries).
    Throttled,
    /// Any other failure.
    Error,
}

impl AwsOutcome {
    /// Every outcome, for metric initialisation.
    pub const ALL: [AwsOutcome; 3] = [
        AwsOutcome::Success,
        AwsOutcome::Throttled,
        AwsOutcome::Error,
    ];

    fn as_str(self) -> &'static str {
        match self {
            AwsOutcome::Success => "success",
            AwsOutcome::Throttled => "throttled",
            AwsOutcome::Error => "error",
        }
    }
}

/// A write the operator makes to the Kubernetes API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KubeWrite {
    /// A status patch.
    Status,
    /// Adding or removing the finalizer.
    Finalizer,
    /// An Event.
    Event,
}

impl KubeWrite {
    /// Every write, for metric initialisation.
    pub const ALL: [KubeWrite; 3] = [KubeWrite::Status, KubeWrite::Finalizer, KubeWrite::Event];

    fn as_str(self) -> &'static str {
        match self {
            KubeWrite::Status => "status",
            KubeWrite::Finalizer => "finalizer",
            KubeWrite::Event => "event",
        }
    }
}

/// All of the operator's metrics, registered once.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<KindLabel, Counter>,
    reconcile_duration: Family<KindLabel, Histogram>,
    reconcile_errors: Family<ErrorLabels, Counter>,
    aws_calls: Family<AwsCallLabels, Counter>,
    deletion_aws_calls: Family<AwsApiLabels, Counter>,
    kube_writes: Family<WriteLabels, Counter>,
    fresh_reads: Family<KindLabel, Counter>,
    objects: Family<ReadyLabels, Gauge>,
    readiness: Mutex<HashMap<(&'static str, String), bool>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric under the `cwo` prefix, the AWS call counters of every
    /// operation at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cwo");
        let reconciles = Family::<KindLabel, Counter>::default();
        registry.register("reconciles", "Reconciles run, by kind", reconciles.clone());
        let reconcile_duration = Family::<KindLabel, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ])
        });
        registry.register(
            "reconcile_duration_seconds",
            "Time spent in one reconcile, by kind",
            reconcile_duration.clone(),
        );
        let reconcile_errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "reconcile_errors",
            "Reconciles that ended in an error, by kind and reason",
            reconcile_errors.clone(),
        );
        let aws_calls = Family::<AwsCallLabels, Counter>::default();
        registry.register(
            "aws_calls",
            "AWS API calls, by service, operation and outcome",
            aws_calls.clone(),
        );
        let deletion_aws_calls = Family::<AwsApiLabels, Counter>::default();
        registry.register(
            "deletion_aws_calls",
            "AWS API calls made by the deletions of objects' AWS objects, by service and \
             operation, whatever their outcome (also counted in cwo_aws_calls_total). A call \
             shared with other reconciles through a batch (DeleteAlarms, DescribeAlarms, \
             DescribeSubscriptionFilters, GetSamplingRules) is not counted here",
            deletion_aws_calls.clone(),
        );
        let kube_writes = Family::<WriteLabels, Counter>::default();
        registry.register(
            "kube_writes",
            "Writes to the Kubernetes API, by kind and what was written",
            kube_writes.clone(),
        );
        let fresh_reads = Family::<KindLabel, Counter>::default();
        registry.register(
            "kube_fresh_reads",
            "Objects read from the API server because the watch cache did not yet show the \
             operator's last write to them, or to make sure a new object still exists before \
             its first create, by kind",
            fresh_reads.clone(),
        );
        let objects = Family::<ReadyLabels, Gauge>::default();
        registry.register(
            "objects",
            "Managed objects, by kind and Ready status",
            objects.clone(),
        );
        // Every AWS operation's series exist at zero from the start (see `init_kind`).
        for api in Api::ALL {
            let _ = deletion_aws_calls.get_or_create(&AwsApiLabels {
                service: api.service(),
                operation: api.operation(),
            });
            for outcome in AwsOutcome::ALL {
                let _ = aws_calls.get_or_create(&AwsCallLabels {
                    service: api.service(),
                    operation: api.operation(),
                    outcome: outcome.as_str(),
                });
            }
        }
        Metrics {
            registry,
            reconciles,
            reconcile_duration,
            reconcile_errors,
            aws_calls,
            deletion_aws_calls,
            kube_writes,
            fresh_reads,
            objects,
            readiness: Mutex::new(HashMap::new()),
        }
    }

    /// Creates every series of `kind` at zero: reconciles and their duration, errors by reason,
    /// Kubernetes writes, objects by readiness. Called for every kind at start-up, so a scrape
    /// shows "nothing happened yet" as 0 and a missing series always means a renamed or
    /// unregistered metric (Prometheus's advice: rates and alerts over a series that appears
    /// only at its first increment miss that increment).
    pub fn init_kind(&self, kind: &'static str) {
        let _ = self.reconciles.get_or_create(&KindLabel { kind });
        let _ = self.reconcile_duration.get_or_create(&KindLabel { kind });
        for reason in Reason::ALL {
            let _ = self.reconcile_errors.get_or_create(&ErrorLabels {
                kind,
                reason: reason.as_str(),
            });
        }
        for write in KubeWrite::ALL {
            let _ = self.kube_writes.get_or_create(&WriteLabels {
                kind,
                write: write.as_str(),
            });
        }
        for ready in ["true", "false"] {
            let _ = self.objects.get_or_create(&ReadyLabels { kind, ready });
        }
    }

    /// Starts timing a reconcile of `kind`; the duration is recorded when the guard drops.
    pub fn reconcile_started(&self, kind: &'static str) -> ReconcileTimer<'_> {
        self.reconciles.get_or_create(&KindLabel { kind }).inc();
        ReconcileTimer {
            metrics: self,
            kind,
            start: Instant::now(),
        }
    }

    /// Counts a reconcile that ended in an error.
    pub fn reconcile_failed(&self, kind: &'static str, reason: Reason) {
        self.reconcile_errors
            .get_or_create(&ErrorLabels {
                kind,
                reason: reason.as_str(),
            })
            .inc();
    }

    /// Counts one AWS call.
    pub fn aws_call(&self, service: &'static str, operation: &'static str, outcome: AwsOutcome) {
        self.aws_calls
            .get_or_create(&AwsCallLabels {
                service,
                operation,
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// Counts one AWS call made by a deletion (see [`crate::aws::for_deletion`]).
    pub fn deletion_aws_call(&self, service: &'static str, operation: &'static str) {
        self.deletion_aws_calls
            .get_or_create(&AwsApiLabels { service, operation })
            .inc();
    }

    /// Counts one write to the Kubernetes API.
    pub fn kube_write(&self, kind: &'static str, write: KubeWrite) {
        self.kube_writes
            .get_or_create(&WriteLabels {
                kind,
                write: write.as_str(),
            })
            .inc();
    }

    /// Counts a read of an object of `kind` from the API server (its cached copy lacked the
    /// operator's last write).
    pub fn fresh_read(&self, kind: &'static str) {
        self.fresh_reads.get_or_create(&KindLabel { kind }).inc();
    }

    /// Records whether the object `key` of `kind` is Ready (`None`: the object is gone).
    pub fn set_ready(&self, kind: &'static str, key: &str, ready: Option<bool>) {
        let mut readiness = self.readiness.lock().expect("readiness lock");
        let previous = match ready {
            Some(r) => readiness.insert((kind, key.to_string()), r),
            None => readiness.remove(&(kind, key.to_string())),
        };
        if previous == ready {
            return;
        }
        let label = |r: bool| ReadyLabels {
            kind,
            ready: if r { "true" } else { "false" },
        };
        if let Some(p) = previous {
            self.objects.get_or_create(&label(p)).dec();
        }
        if let Some(r) = ready {
            self.objects.get_or_create(&label(r)).inc();
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("encoding metrics into a String cannot fail");
        out
    }
}

/// Records a reconcile's duration when dropped, so every exit path is measured.
pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    kind: &'static str,
    start: Instant,
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.metrics
            .reconcile_duration
            .get_or_create(&KindLabel { kind: self.kind })
            .observe(self.start.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_gauge_follows_readiness_changes() {
        let m = Metrics::new();
        m.set_ready("Alarm", "ns/a", Some(false));
        m.set_ready("Alarm", "ns/b", Some(true));
        m.set_ready("Alarm", "ns/a", Some(true));
        m.set_ready("Alarm", "ns/a", Some(true));
        let text = m.encode();
        assert!(
            text.contains(r#"cwo_objects{kind="Alarm",ready="true"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"cwo_objects{kind="Alarm",ready="false"} 0"#),
            "{text}"
        );
        m.set_ready("Alarm", "ns/b", None);
        assert!(
            m.encode()
                .contains(r#"cwo_objects{kind="Alarm",ready="true"} 1"#)
        );
    }

    #[test]
    fn aws_calls_are_labelled_by_service_operation_and_outcome() {
        let m = Metrics::new();
        m.aws_call("cloudwatch", "PutMetricAlarm", AwsOutcome::Success);
        m.aws_call("cloudwatch", "PutMetricAlarm", AwsOutcome::Throttled);
        let text = m.encode();
        assert!(text.contains(
            r#"cwo_aws_calls_total{service="cloudwatch",operation="PutMetricAlarm",outcome="throttled"} 1"#
        ), "{text}");
    }

    /// Dashboards, alerts, the end-to-end tests and the benchmark read these series by name:
    /// renaming the metric or a label must be a decision, not an accident.
    #[test]
    fn kube_writes_encoding_is_pinned() {
        let m = Metrics::new();
        m.init_kind("Alarm");
        let text = m.encode();
        assert!(text.contains("# TYPE cwo_kube_writes counter\n"), "{text}");
        for write in ["status", "finalizer", "event"] {
            let line = format!("\ncwo_kube_writes_total{{kind=\"Alarm\",write=\"{write}\"}} 0\n");
            assert!(text.contains(&line), "{line} in\n{text}");
        }
        m.kube_write("Alarm", KubeWrite::Status);
        m.kube_write("Alarm", KubeWrite::Status);
        m.kube_write("Alarm", KubeWrite::Event);
        let text = m.encode();
        assert!(
            text.contains("\ncwo_kube_writes_total{kind=\"Alarm\",write=\"status\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("\ncwo_kube_writes_total{kind=\"Alarm\",write=\"event\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn every_aws_operation_starts_at_zero() {
        let text = Metrics::new().encode();
        for api in Api::ALL {
            for outcome in ["success", "throttled", "error"] {
                let line = format!(
                    "cwo_aws_calls_total{{service=\"{}\",operation=\"{}\",outcome=\"{outcome}\"}} 0",
                    api.service(),
                    api.operation()
                );
                assert!(text.contains(&line), "{line} in\n{text}");
            }
        }
    }

    #[test]
    fn a_kind_starts_with_every_series_at_zero() {
        let m = Metrics::new();
        m.init_kind("CompositeAlarm");
        let text = m.encode();
        for line in [
            r#"cwo_reconciles_total{kind="CompositeAlarm"} 0"#,
            r#"cwo_reconcile_duration_seconds_count{kind="CompositeAlarm"} 0"#,
            r#"cwo_reconcile_errors_total{kind="CompositeAlarm",reason="Throttled"} 0"#,
            r#"cwo_reconcile_errors_total{kind="CompositeAlarm",reason="InvalidSpec"} 0"#,
            r#"cwo_objects{kind="CompositeAlarm",ready="true"} 0"#,
            r#"cwo_objects{kind="CompositeAlarm",ready="false"} 0"#,
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        let errors = text
            .lines()
            .filter(|l| l.starts_with("cwo_reconcile_errors_total{"))
            .count();
        assert_eq!(errors, Reason::ALL.len());
    }

    #[test]
    fn reconcile_timer_records_on_drop() {
        let m = Metrics::new();
        drop(m.reconcile_started("Alarm"));
        let text = m.encode();
        assert!(
            text.contains(r#"cwo_reconcile_duration_seconds_count{kind="Alarm"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"cwo_reconciles_total{kind="Alarm"} 1"#),
            "{text}"
        );
    }
}
