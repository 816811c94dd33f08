//! Step 2 of the MetricFilter reconcile: what DescribeMetricFilters returned, in the same normal
//! form as the desired filter.
//!
//! DescribeMetricFilters lists every metric filter of a log group and matches `filterNamePrefix`
//! as a prefix, so a filter is picked out by comparing its whole name.

use super::desired::{FilterConfig, TransformationConfig, non_empty, positive_zero, sorted};
use aws_sdk_cloudwatchlogs::types::{MetricFilter, MetricTransformation};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// The filter named exactly `name` among a log group's metric filters.
pub fn find<'a>(filters: &'a [MetricFilter], name: &str) -> Option<&'a MetricFilter> {
    filters.iter().find(|f| f.filter_name() == Some(name))
}

/// The configuration of a filter as AWS reports it.
pub fn observed(f: &MetricFilter) -> FilterConfig {
    FilterConfig {
        filter_pattern: f.filter_pattern().unwrap_or_default().to_string(),
        metric_transformations: f
            .metric_transformations()
            .iter()
            .map(transformation)
            .collect(),
        apply_on_transformed_logs: f.apply_on_transformed_logs(),
        field_selection_criteria: non_empty(f.field_selection_criteria()),
        emit_system_field_dimensions: sorted(f.emit_system_field_dimensions().iter().cloned()),
    }
}

fn transformation(t: &MetricTransformation) -> TransformationConfig {
    TransformationConfig {
        metric_name: t.metric_name().to_string(),
        metric_namespace: t.metric_namespace().to_string(),
        metric_value: t.metric_value().to_string(),
        default_value: t.default_value().map(positive_zero),
        dimensions: t
            .dimensions()
            .map(|d| d.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        // AWS stores None when the request left the unit out.
        unit: t.unit().map_or("None", |u| u.as_str()).to_string(),
    }
}

/// When the filter was created, at the second precision the API server stores.
pub fn creation_time(f: &MetricFilter) -> Option<Time> {
    let millis = f.creation_time()?;
    Timestamp::from_second(millis.div_euclid(1000))
        .ok()
        .map(Time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_filter::desired::desired;
    use crate::metric_filter::desired::tests::{aws_after_put, errors_spec, request};
    use crate::metric_filter::spec::StandardUnit;

    fn named(name: &str) -> MetricFilter {
        MetricFilter::builder().filter_name(name).build()
    }

    #[test]
    fn a_filter_is_found_by_its_whole_name_not_a_prefix() {
        let filters = vec![named("errors-by-code"), named("errors")];
        assert_eq!(
            find(&filters, "errors").and_then(|f| f.filter_name()),
            Some("errors")
        );
        assert!(find(&filters[..1], "errors").is_none());
        assert!(find(&filters, "error").is_none());
    }

    #[test]
    fn what_aws_stores_from_the_request_observes_as_desired() {
        let mut spec = errors_spec();
        spec.metric_transformations[0].unit = Some(StandardUnit::Count);
        spec.metric_transformations[0]
            .dimensions
            .insert("Code".into(), "$.code".into());
        let d = desired(&spec, "x");
        assert_eq!(observed(&aws_after_put(&request(&d))), d.config);
    }

    #[test]
    fn an_explicit_unit_of_none_is_the_default() {
        let mut spec = errors_spec();
        spec.metric_transformations[0].unit = Some(StandardUnit::None);
        let d = desired(&spec, "x");
        assert_eq!(observed(&aws_after_put(&request(&d))), d.config);
        assert_eq!(d, desired(&errors_spec(), "x"));
    }

    #[test]
    fn creation_time_has_whole_seconds() {
        let f = aws_after_put(&request(&desired(&errors_spec(), "x")));
        assert_eq!(
            creation_time(&f),
            Some(Time(Timestamp::from_second(1_700_000_000).unwrap()))
        );
    }
}
