//! Step 1 of the LogSubscription reconcile: the spec as the filter's identity and the exact
//! PutSubscriptionFilter request, with AWS's defaults filled in (distribution `ByLogStream`,
//! `applyOnTransformedLogs` false, no field selection, no system fields), so that comparing it
//! with what DescribeSubscriptionFilters returns finds no difference when there is none.

use super::spec::{Distribution, LogSubscriptionSpec, SystemField};
use crate::aws::wire::to_wire;
pub use crate::log_filter::FilterKey;
use crate::log_filter::desired::{filter_name, non_empty, sorted};
use aws_sdk_cloudwatchlogs::operation::put_subscription_filter::builders::PutSubscriptionFilterFluentBuilder;
use aws_sdk_cloudwatchlogs::types as logs;
use serde::Serialize;

/// A subscription filter, as messages name it.
pub const NOUN: &str = "subscription filter";

/// Everything PutSubscriptionFilter sets besides the identity, in a normal form both the spec and
/// AWS's answer map to. Serialized with the spec's field names, so differences are reported as
/// the user writes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterConfig {
    pub filter_pattern: String,
    pub destination_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// As AWS spells it (`Random` or `ByLogStream`); a string so that a value this operator does
    /// not know still compares.
    pub distribution: String,
    pub apply_on_transformed_logs: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_selection_criteria: Option<String>,
    /// Sorted, without duplicates.
    pub emit_system_fields: Vec<String>,
}

/// The desired filter: where it lives and what it does.
pub type Desired = crate::log_filter::Desired<FilterConfig>;

/// The desired filter for `spec`, delivering to `spec.destinationArn` (empty with a
/// destinationRef: see [`desired_with`]).
pub fn desired(spec: &LogSubscriptionSpec, object_name: &str) -> Desired {
    desired_with(
        spec,
        object_name,
        spec.destination_arn.as_deref().unwrap_or_default(),
    )
}

/// The desired filter for `spec`, delivering to `destination_arn` (spec.destinationArn, or the
/// ARN of the LogDestination spec.destinationRef names).
pub fn desired_with(
    spec: &LogSubscriptionSpec,
    object_name: &str,
    destination_arn: &str,
) -> Desired {
    Desired {
        key: FilterKey::new(
            NOUN,
            &spec.log_group_name,
            filter_name(spec.filter_name.as_deref(), object_name),
        ),
        config: FilterConfig {
            filter_pattern: spec.filter_pattern.clone(),
            destination_arn: destination_arn.to_string(),
            role_arn: non_empty(spec.role_arn.as_deref()),
            distribution: to_wire(&spec.distribution.unwrap_or_default()),
            apply_on_transformed_logs: spec.apply_on_transformed_logs.unwrap_or(false),
            field_selection_criteria: non_empty(spec.field_selection_criteria.as_deref()),
            emit_system_fields: sorted(spec.emit_system_fields.iter().map(to_wire::<SystemField>)),
        },
    }
}

/// Whether `arn` names a Kinesis data stream, the one destination where distribution applies.
pub fn is_kinesis(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("kinesis")
}

/// Fills a PutSubscriptionFilter request. The Put replaces the whole filter, so a field left out
/// returns to AWS's default; fields are left out where AWS's default is the desired value and the
/// field does not apply to the destination (distribution outside Kinesis), so the request is what
/// AWS accepts for every destination.
pub fn put_request(
    b: PutSubscriptionFilterFluentBuilder,
    d: &Desired,
) -> PutSubscriptionFilterFluentBuilder {
    let c = &d.config;
    let default_distribution = to_wire(&Distribution::default());
    let send_distribution =
        is_kinesis(&c.destination_arn) || c.distribution != default_distribution;
    b.log_group_name(&d.key.log_group_name)
        .filter_name(&d.key.filter_name)
        .filter_pattern(&c.filter_pattern)
        .destination_arn(&c.destination_arn)
        .set_role_arn(c.role_arn.clone())
        .set_distribution(
            send_distribution.then(|| logs::Distribution::from(c.distribution.as_str())),
        )
        .set_apply_on_transformed_logs(c.apply_on_transformed_logs.then_some(true))
        .set_field_selection_criteria(c.field_selection_criteria.clone())
        .set_emit_system_fields(
            (!c.emit_system_fields.is_empty()).then(|| c.emit_system_fields.clone()),
        )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::common_fields::CommonSpec;
    use crate::log_filter::desired::tests::offline_client;
    use aws_sdk_cloudwatchlogs::operation::put_subscription_filter::builders::PutSubscriptionFilterInputBuilder;
    use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;

    /// The request `put_request` builds for `d`.
    pub fn request(d: &Desired) -> PutSubscriptionFilterInputBuilder {
        put_request(offline_client().put_subscription_filter(), d)
            .as_input()
            .clone()
    }

    /// What CloudWatch Logs stores for a PutSubscriptionFilter request and then reports through
    /// DescribeSubscriptionFilters: the request's fields, with distribution defaulting to
    /// ByLogStream and applyOnTransformedLogs to false.
    pub fn aws_after_put(r: &PutSubscriptionFilterInputBuilder) -> SubscriptionFilter {
        SubscriptionFilter::builder()
            .set_log_group_name(r.get_log_group_name().clone())
            .set_filter_name(r.get_filter_name().clone())
            .set_filter_pattern(r.get_filter_pattern().clone())
            .set_destination_arn(r.get_destination_arn().clone())
            .set_role_arn(r.get_role_arn().clone())
            .distribution(
                r.get_distribution()
                    .clone()
                    .unwrap_or(logs::Distribution::ByLogStream),
            )
            .apply_on_transformed_logs(r.get_apply_on_transformed_logs().unwrap_or(false))
            .set_field_selection_criteria(r.get_field_selection_criteria().clone())
            .set_emit_system_fields(r.get_emit_system_fields().clone())
            .creation_time(1_700_000_000_123)
            .build()
    }

    pub fn firehose_spec() -> LogSubscriptionSpec {
        LogSubscriptionSpec {
            common: CommonSpec::default(),
            log_group_name: "/aws/lambda/checkout".into(),
            filter_name: None,
            filter_pattern: r#"{ $.level = "ERROR" }"#.into(),
            destination_arn: Some(
                "arn:aws:firehose:us-east-1:123456789012:deliverystream/central".into(),
            ),
            role_arn: Some("arn:aws:iam::123456789012:role/logs-to-firehose".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_filter_name_defaults_to_the_object_name() {
        let mut spec = firehose_spec();
        assert_eq!(
            desired(&spec, "checkout-errors").key.filter_name,
            "checkout-errors"
        );
        spec.filter_name = Some("errors".into());
        assert_eq!(desired(&spec, "checkout-errors").key.filter_name, "errors");
    }

    #[test]
    fn aws_defaults_are_filled_in() {
        let d = desired(&firehose_spec(), "x");
        assert_eq!(d.config.distribution, "ByLogStream");
        assert!(!d.config.apply_on_transformed_logs);
        assert_eq!(d.config.field_selection_criteria, None);
        assert!(d.config.emit_system_fields.is_empty());
    }

    #[test]
    fn distribution_is_sent_only_where_it_applies() {
        let firehose = request(&desired(&firehose_spec(), "x"));
        assert_eq!(firehose.get_distribution(), &None);
        let mut kinesis = firehose_spec();
        kinesis.destination_arn = Some("arn:aws:kinesis:us-east-1:123456789012:stream/logs".into());
        let r = request(&desired(&kinesis, "x"));
        assert_eq!(r.get_distribution(), &Some(logs::Distribution::ByLogStream));
        kinesis.distribution = Some(Distribution::Random);
        let r = request(&desired(&kinesis, "x"));
        assert_eq!(r.get_distribution(), &Some(logs::Distribution::Random));
    }

    #[test]
    fn system_fields_are_a_set() {
        let mut spec = firehose_spec();
        spec.emit_system_fields = vec![
            SystemField::SourceLog,
            SystemField::AwsAccount,
            SystemField::SourceLog,
        ];
        assert_eq!(
            desired(&spec, "x").config.emit_system_fields,
            vec!["@aws.account", "@source.log"]
        );
    }

    #[test]
    fn empty_optional_strings_are_absent() {
        let mut spec = firehose_spec();
        spec.field_selection_criteria = Some(String::new());
        let d = desired(&spec, "x");
        assert_eq!(d.config.field_selection_criteria, None);
        assert_eq!(request(&d).get_field_selection_criteria(), &None);
    }
}
