//! Step 1 of the MetricFilter reconcile: the spec as the filter's identity and the exact
//! PutMetricFilter request, with AWS's defaults filled in (unit `None`, `applyOnTransformedLogs`
//! false, no field selection, no system field dimensions), so that comparing it with what
//! DescribeMetricFilters returns finds no difference when there is none.

use super::spec::{MetricFilterSpec, MetricTransformation, StandardUnit, SystemFieldDimension};
use crate::aws::wire::to_wire;
pub use crate::log_filter::FilterKey;
use crate::log_filter::desired::{filter_name, non_empty, sorted};
use aws_sdk_cloudwatchlogs::operation::put_metric_filter::builders::PutMetricFilterFluentBuilder;
use aws_sdk_cloudwatchlogs::types as logs;
use serde::Serialize;
use std::collections::BTreeMap;

/// A metric filter, as messages name it.
pub const NOUN: &str = "metric filter";

/// One metric transformation in normal form. Serialized with the spec's field names, so
/// differences are reported as the user writes them.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransformationConfig {
    pub metric_name: String,
    pub metric_namespace: String,
    pub metric_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    pub dimensions: BTreeMap<String, String>,
    /// As AWS spells it; `None` when unset, which is what AWS stores then.
    pub unit: String,
}

/// Everything PutMetricFilter sets besides the identity, in a normal form both the spec and AWS's
/// answer map to.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterConfig {
    pub filter_pattern: String,
    pub metric_transformations: Vec<TransformationConfig>,
    pub apply_on_transformed_logs: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_selection_criteria: Option<String>,
    /// Sorted, without duplicates.
    pub emit_system_field_dimensions: Vec<String>,
}

/// The desired filter: where it lives and what it does.
pub type Desired = crate::log_filter::Desired<FilterConfig>;

/// The desired filter for `spec`.
pub fn desired(spec: &MetricFilterSpec, object_name: &str) -> Desired {
    Desired {
        key: FilterKey::new(
            NOUN,
            &spec.log_group_name,
            filter_name(spec.filter_name.as_deref(), object_name),
        ),
        config: FilterConfig {
            filter_pattern: spec.filter_pattern.clone(),
            metric_transformations: spec
                .metric_transformations
                .iter()
                .map(transformation)
                .collect(),
            apply_on_transformed_logs: spec.apply_on_transformed_logs.unwrap_or(false),
            field_selection_criteria: non_empty(spec.field_selection_criteria.as_deref()),
            emit_system_field_dimensions: sorted(
                spec.emit_system_field_dimensions
                    .iter()
                    .map(to_wire::<SystemFieldDimension>),
            ),
        },
    }
}

fn transformation(t: &MetricTransformation) -> TransformationConfig {
    TransformationConfig {
        metric_name: t.metric_name.clone(),
        metric_namespace: t.metric_namespace.clone(),
        metric_value: t.metric_value.clone(),
        default_value: t.default_value.map(positive_zero),
        dimensions: t.dimensions.clone(),
        unit: to_wire(&t.unit.unwrap_or(StandardUnit::None)),
    }
}

/// -0.0 and 0.0 are the same value.
pub fn positive_zero(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { v }
}

/// Fills a PutMetricFilter request. The Put replaces the whole filter, so a field left out
/// returns to AWS's default; fields are left out where AWS's default is the desired value.
pub fn put_request(b: PutMetricFilterFluentBuilder, d: &Desired) -> PutMetricFilterFluentBuilder {
    let c = &d.config;
    b.log_group_name(&d.key.log_group_name)
        .filter_name(&d.key.filter_name)
        .filter_pattern(&c.filter_pattern)
        .set_metric_transformations(Some(
            c.metric_transformations
                .iter()
                .map(sdk_transformation)
                .collect(),
        ))
        .set_apply_on_transformed_logs(c.apply_on_transformed_logs.then_some(true))
        .set_field_selection_criteria(c.field_selection_criteria.clone())
        .set_emit_system_field_dimensions(
            (!c.emit_system_field_dimensions.is_empty())
                .then(|| c.emit_system_field_dimensions.clone()),
        )
}

fn sdk_transformation(t: &TransformationConfig) -> logs::MetricTransformation {
    let none = to_wire(&StandardUnit::None);
    logs::MetricTransformation::builder()
        .metric_name(&t.metric_name)
        .metric_namespace(&t.metric_namespace)
        .metric_value(&t.metric_value)
        .set_default_value(t.default_value)
        .set_dimensions((!t.dimensions.is_empty()).then(|| {
            t.dimensions
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }))
        .set_unit((t.unit != none).then(|| logs::StandardUnit::from(t.unit.as_str())))
        .build()
        .expect("metric name, namespace and value are set")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::log_filter::desired::tests::offline_client;
    use crate::metric_filter::spec::FilterTest;
    use aws_sdk_cloudwatchlogs::operation::put_metric_filter::builders::PutMetricFilterInputBuilder;
    use aws_sdk_cloudwatchlogs::types::MetricFilter;

    /// The request `put_request` builds for `d`.
    pub fn request(d: &Desired) -> PutMetricFilterInputBuilder {
        put_request(offline_client().put_metric_filter(), d)
            .as_input()
            .clone()
    }

    /// What CloudWatch Logs stores for a PutMetricFilter request and then reports through
    /// DescribeMetricFilters: the request's fields, with applyOnTransformedLogs defaulting to
    /// false.
    pub fn aws_after_put(r: &PutMetricFilterInputBuilder) -> MetricFilter {
        MetricFilter::builder()
            .set_log_group_name(r.get_log_group_name().clone())
            .set_filter_name(r.get_filter_name().clone())
            .set_filter_pattern(r.get_filter_pattern().clone())
            .set_metric_transformations(r.get_metric_transformations().clone())
            .apply_on_transformed_logs(r.get_apply_on_transformed_logs().unwrap_or(false))
            .set_field_selection_criteria(r.get_field_selection_criteria().clone())
            .set_emit_system_field_dimensions(r.get_emit_system_field_dimensions().clone())
            .creation_time(1_700_000_000_123)
            .build()
    }

    pub fn errors_spec() -> MetricFilterSpec {
        MetricFilterSpec {
            log_group_name: "/aws/lambda/checkout".into(),
            filter_pattern: r#"{ $.level = "ERROR" }"#.into(),
            metric_transformations: vec![MetricTransformation {
                metric_name: "CheckoutErrors".into(),
                metric_namespace: "Checkout".into(),
                metric_value: "1".into(),
                default_value: Some(0.0),
                ..Default::default()
            }],
            tests: vec![FilterTest {
                log_event: r#"{"level":"ERROR"}"#.into(),
                value: Some(1.0),
                no_match: None,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn the_filter_name_defaults_to_the_object_name() {
        let mut spec = errors_spec();
        assert_eq!(desired(&spec, "errors").key.filter_name, "errors");
        spec.filter_name = Some("checkout-errors".into());
        assert_eq!(desired(&spec, "errors").key.filter_name, "checkout-errors");
    }

    #[test]
    fn aws_defaults_are_filled_in() {
        let d = desired(&errors_spec(), "x");
        assert_eq!(d.config.metric_transformations[0].unit, "None");
        assert!(!d.config.apply_on_transformed_logs);
        assert_eq!(d.config.field_selection_criteria, None);
        assert!(d.config.emit_system_field_dimensions.is_empty());
    }

    #[test]
    fn defaults_are_left_out_of_the_request() {
        let r = request(&desired(&errors_spec(), "x"));
        let t = &r.get_metric_transformations().as_ref().unwrap()[0];
        assert_eq!(t.unit, None);
        assert_eq!(t.dimensions, None);
        assert_eq!(t.default_value, Some(0.0));
        assert_eq!(r.get_apply_on_transformed_logs(), &None);
        assert_eq!(r.get_emit_system_field_dimensions(), &None);
    }

    #[test]
    fn system_field_dimensions_are_a_set() {
        let mut spec = errors_spec();
        spec.emit_system_field_dimensions = vec![
            SystemFieldDimension::AwsRegion,
            SystemFieldDimension::AwsAccount,
            SystemFieldDimension::AwsRegion,
        ];
        assert_eq!(
            desired(&spec, "x").config.emit_system_field_dimensions,
            vec!["@aws.account", "@aws.region"]
        );
    }

    #[test]
    fn a_negative_zero_default_is_zero() {
        let mut spec = errors_spec();
        spec.metric_transformations[0].default_value = Some(-0.0);
        let d = desired(&spec, "x");
        assert!(
            d.config.metric_transformations[0]
                .default_value
                .unwrap()
                .is_sign_positive()
        );
    }
}
