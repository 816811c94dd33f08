//! End-to-end tests against a real kube-apiserver: one test binary, so one bed
//! ([`cwo_e2e::Bed::shared`]) serves every test in it.

mod accounts;
mod alarms;
mod chart;
mod composite_alarms;
mod corpus;
mod crash_chaos;
mod fixture_manifests;
mod gitops;
mod gitops_live;
mod gitops_manifests;
mod harness;
mod helm_wait;
mod import;
mod log_destinations;
mod log_subscriptions;
mod metric_filters;
mod metric_streams;
mod ownership;
mod plan;
mod project_manifests;
mod resilience;
mod sampling_rules;
mod scale;
mod valid_extremes;
