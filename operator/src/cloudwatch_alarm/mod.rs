//! What metric alarms (`Alarm`) and composite alarms (`CompositeAlarm`) share, because both are
//! CloudWatch alarms: the same DescribeAlarms (batched, 100 names per call), the same tag APIs,
//! the same DeleteAlarms with its silent "unknown names are ignored" that needs a describe to
//! confirm, the same live states, and one reconcile path ([`apply`]) that each kind fills in
//! with what is its own. It is also the one place that sees both kinds at once: the composite
//! graph (which composites name an alarm; cycles) lives in [`dependents`]. Alarms on the metric
//! of a MetricFilter resolve their reference here too ([`metric_filter_ref`]).

pub(crate) mod actions;
pub mod apply;
pub mod delete;
pub mod dependents;
pub mod family;
pub mod import;
pub mod live;
pub mod metric_filter_ref;
pub mod spec;

pub use apply::{AlarmKind, apply};
pub use family::AlarmFamily;

/// A CloudWatch client that is never sent anything, for tests that build requests.
#[cfg(test)]
pub fn sdk_client() -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::Config::builder()
            .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
            .build(),
    )
}
