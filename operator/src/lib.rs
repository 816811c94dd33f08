//! cloudwatch-operator: manage AWS CloudWatch alarms, composite alarms, metric streams,
//! CloudWatch Logs subscription filters, metric filters and destinations, and X-Ray sampling
//! rules from Kubernetes.

pub mod alarm;
pub mod app;
pub mod aws;
pub mod aws_account;
pub mod cloudwatch_alarm;
pub mod common_fields;
pub mod composite_alarm;
pub mod conditions;
pub mod crds;
pub mod error;
pub mod field_diff;
#[cfg(test)]
mod layers;
pub mod log_destination;
pub mod log_filter;
pub mod log_subscription;
pub mod metric_filter;
pub mod metric_stream;
pub mod metrics;
pub mod minimal;
pub mod ownership;
pub mod plan;
pub mod preview;
pub mod reason;
pub mod runtime;
pub mod sampling_rule;
pub mod statistics;
pub mod tags;
pub mod units;
pub mod vocabulary;
