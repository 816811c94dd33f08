//! PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter and TestMetricFilter.
//!
//! AWS semantics modelled: filters are keyed by (log group, filter name) and Put creates or
//! replaces (keeping the creation time); exactly one metric transformation; the pattern is
//! parsed ([`super::filter_pattern`]) and the transformation checked against it
//! ([`super::metric_transformation`]); the log group must exist; a log group holds at most 100
//! metric filters and at most 5 filter patterns with regular expressions, metric and
//! subscription filters together (`LimitExceededException`). DescribeMetricFilters lists one
//! log group or all of them, ASCII-sorted by filter name, optionally by name prefix (only
//! with a log group, as documented) or by metric name and namespace (both or neither).
//! TestMetricFilter answers the events that match, numbered from 1 as the AWS CLI reference
//! shows, with the values a space-delimited pattern extracts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::filter_pattern::FilterPattern;
use super::filter_store::{DeleteFilterInput, check_filter_key, delete_filter};
use super::state::{Except, MetricFilter, MetricTransformation};
use super::{
    check_filter_name, check_log_group_name, invalid_parameter, invalid_pattern,
    log_group_not_found, metric_transformation, selection_criteria,
};
use crate::call::Call;
use crate::error::{AwsError, AwsResult};
use crate::paging;
use crate::validation::{Violations, element_path};

/// "The maximum number of metric filters that can be associated with a log group is 100."
pub const MAX_METRIC_FILTERS_PER_GROUP: usize = 100;
/// "There is a maximum of 5 filter patterns containing regex for each log group when creating
/// metric filters or subscription filters."
pub const MAX_REGEX_PATTERNS_PER_GROUP: usize = 5;
const DEFAULT_LIMIT: usize = 50;
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTransformationInput {
    pub metric_name: Option<String>,
    pub metric_namespace: Option<String>,
    pub metric_value: Option<String>,
    pub default_value: Option<f64>,
    pub dimensions: Option<BTreeMap<String, String>>,
    pub unit: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutMetricFilterInput {
    pub log_group_name: Option<String>,
    pub filter_name: Option<String>,
    pub filter_pattern: Option<String>,
    pub metric_transformations: Option<Vec<MetricTransformationInput>>,
    pub apply_on_transformed_logs: Option<bool>,
    pub field_selection_criteria: Option<String>,
    pub emit_system_field_dimensions: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeMetricFiltersInput {
    pub log_group_name: Option<String>,
    pub filter_name_prefix: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub metric_name: Option<String>,
    pub metric_namespace: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeMetricFiltersOutput {
    pub metric_filters: Vec<MetricFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMetricFilterInput {
    pub filter_pattern: Option<String>,
    pub log_event_messages: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilterMatchRecord {
    pub event_number: i64,
    pub event_message: String,
    pub extracted_values: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMetricFilterOutput {
    pub matches: Vec<MetricFilterMatchRecord>,
}

/// The model's constraints on `metricName` and `metricNamespace`: up to 255 characters, none
/// of `:`, `*`, `$`.
fn check_metric_name(v: &mut Violations, path: &str, value: Option<&str>) {
    v.length(path, value, 0, Some(255))
        .pattern(path, value, "[^:*$]*", |n| !n.contains([':', '*', '$']));
}

fn check_transformation_input(v: &mut Violations, i: usize, t: &MetricTransformationInput) {
    let path = |member: &str| format!("{}.{member}", element_path("metricTransformations", i));
    v.required(&path("metricName"), t.metric_name.as_ref());
    check_metric_name(v, &path("metricName"), t.metric_name.as_deref());
    v.required(&path("metricNamespace"), t.metric_namespace.as_ref());
    check_metric_name(v, &path("metricNamespace"), t.metric_namespace.as_deref());
    v.required(&path("metricValue"), t.metric_value.as_ref())
        .length(
            &path("metricValue"),
            t.metric_value.as_deref(),
            0,
            Some(100),
        )
        .one_of(&path("unit"), t.unit.as_deref(), UNITS);
    for (key, value) in t.dimensions.iter().flatten() {
        v.length(&path("dimensions"), Some(key), 0, Some(255))
            .length(&path("dimensions"), Some(value), 0, Some(255));
    }
}

/// Parses a metric filter's pattern, answering AWS's errors for a bad one.
fn parse_pattern(pattern: &str) -> AwsResult<FilterPattern> {
    FilterPattern::parse(pattern).map_err(|e| invalid_pattern(&e, "metric"))
}

/// Checks `fieldSelectionCriteria` and the emitted system fields (`emitSystemFieldDimensions`
/// of metric filters, `emitSystemFields` of subscription filters, named by `emitted_member`).
pub fn check_system_field_options(
    criteria: Option<&str>,
    emitted_member: &str,
    emitted: Option<&[String]>,
) -> AwsResult<()> {
    if let Some(criteria) = criteria.filter(|c| !c.is_empty()) {
        selection_criteria::check(criteria).map_err(|e| {
            tracing::debug!(?e, "field selection criteria refused");
            invalid_parameter(format!("Invalid fieldSelectionCriteria: {criteria}"))
        })?;
    }
    metric_transformation::check_system_fields(emitted_member, emitted.unwrap_or_default())
}

/// Refuses a new regular-expression pattern when the log group already has the maximum.
pub fn check_regex_quota(
    group: &super::state::LogGroup,
    pattern: &FilterPattern,
    except: Except<'_>,
) -> AwsResult<()> {
    if pattern.regex_count() > 0
        && group.regex_patterns_except(except) >= MAX_REGEX_PATTERNS_PER_GROUP
    {
        return Err(AwsError::bad_request(
            "LimitExceededException",
            format!(
                "Resource limit exceeded: a log group has at most {MAX_REGEX_PATTERNS_PER_GROUP} \
                 filter patterns with regular expressions"
            ),
        ));
    }
    Ok(())
}

pub fn put_metric_filter(call: &mut Call<'_>, input: PutMetricFilterInput) -> AwsResult<()> {
    let mut v = Violations::new();
    check_filter_key(
        &mut v,
        input.log_group_name.as_ref(),
        input.filter_name.as_ref(),
    );
    v.required("filterPattern", input.filter_pattern.as_ref())
        .length(
            "filterPattern",
            input.filter_pattern.as_deref(),
            0,
            Some(1024),
        )
        .required(
            "metricTransformations",
            input.metric_transformations.as_ref(),
        )
        .count(
            "metricTransformations",
            input.metric_transformations.as_deref(),
            1,
            Some(1),
        )
        .length(
            "fieldSelectionCriteria",
            input.field_selection_criteria.as_deref(),
            0,
            Some(2000),
        );
    for (i, t) in input.metric_transformations.iter().flatten().enumerate() {
        check_transformation_input(&mut v, i, t);
    }
    v.finish(invalid_parameter)?;
    let group_name = input.log_group_name.expect("checked above");
    let filter_name = input.filter_name.expect("checked above");
    let pattern_text = input.filter_pattern.expect("checked above");
    let t = input
        .metric_transformations
        .expect("checked above")
        .pop()
        .expect("exactly one, checked above");
    let transformation = MetricTransformation {
        metric_name: t.metric_name.expect("checked above"),
        metric_namespace: t.metric_namespace.expect("checked above"),
        metric_value: t.metric_value.expect("checked above"),
        default_value: t.default_value,
        dimensions: t.dimensions.filter(|d| !d.is_empty()),
        unit: t.unit,
    };
    let pattern = parse_pattern(&pattern_text)?;
    check_system_field_options(
        input.field_selection_criteria.as_deref(),
        "emitSystemFieldDimensions",
        input.emit_system_field_dimensions.as_deref(),
    )?;
    let emitted = input
        .emit_system_field_dimensions
        .as_ref()
        .map_or(0, Vec::len);
    metric_transformation::check(&transformation, &pattern, emitted)?;

    let now = call.now.epoch_millis();
    let group = call
        .state
        .logs
        .groups
        .get_mut(&group_name)
        .ok_or_else(log_group_not_found)?;
    group
        .metric_filters
        .check_room(&filter_name, MAX_METRIC_FILTERS_PER_GROUP, || {
            AwsError::bad_request(
                "LimitExceededException",
                format!(
                    "Resource limit exceeded: a log group has at most \
                     {MAX_METRIC_FILTERS_PER_GROUP} metric filters"
                ),
            )
        })?;
    check_regex_quota(group, &pattern, Except::MetricFilter(&filter_name))?;
    let creation_time = group.metric_filters.creation_time_of(&filter_name, now);
    group.metric_filters.put(MetricFilter {
        filter_name,
        filter_pattern: pattern_text,
        metric_transformations: vec![transformation],
        creation_time,
        log_group_name: group_name,
        apply_on_transformed_logs: input.apply_on_transformed_logs.unwrap_or(false),
        field_selection_criteria: input.field_selection_criteria,
        emit_system_field_dimensions: input.emit_system_field_dimensions,
    });
    Ok(())
}

/// The listing order: filter name, then log group name.
fn listing_key(filter: &MetricFilter) -> (&str, &str) {
    (&filter.filter_name, &filter.log_group_name)
}

pub fn describe_metric_filters(
    call: &mut Call<'_>,
    input: DescribeMetricFiltersInput,
) -> AwsResult<DescribeMetricFiltersOutput> {
    let mut v = Violations::new();
    check_log_group_name(&mut v, "logGroupName", input.log_group_name.as_deref());
    check_filter_name(
        &mut v,
        "filterNamePrefix",
        input.filter_name_prefix.as_deref(),
    );
    v.length("nextToken", input.next_token.as_deref(), 1, None)
        .range("limit", input.limit, Some(1), Some(50));
    check_metric_name(&mut v, "metricName", input.metric_name.as_deref());
    check_metric_name(&mut v, "metricNamespace", input.metric_namespace.as_deref());
    v.finish(invalid_parameter)?;
    if input.metric_name.is_some() != input.metric_namespace.is_some() {
        return Err(invalid_parameter(
            "metricName and metricNamespace must be specified together",
        ));
    }
    let after: Option<(String, String)> = match &input.next_token {
        Some(token) => Some(
            paging::decode(token)
                .and_then(|key| serde_json::from_str(&key).ok())
                .ok_or_else(|| invalid_parameter("The specified nextToken is invalid."))?,
        ),
        None => None,
    };
    let groups = &call.state.logs.groups;
    let mut candidates: Vec<&MetricFilter> = match &input.log_group_name {
        Some(name) => {
            let group = groups.get(name).ok_or_else(log_group_not_found)?;
            let prefix = input.filter_name_prefix.as_deref().unwrap_or("");
            group
                .metric_filters
                .values()
                .filter(|f| f.filter_name.starts_with(prefix))
                .collect()
        }
        None => groups
            .values()
            .flat_map(|g| g.metric_filters.values())
            .collect(),
    };
    if let (Some(name), Some(namespace)) = (&input.metric_name, &input.metric_namespace) {
        candidates.retain(|f| {
            f.metric_transformations
                .iter()
                .any(|t| &t.metric_name == name && &t.metric_namespace == namespace)
        });
    }
    if let Some((filter, group)) = &after {
        candidates.retain(|f| listing_key(f) > (filter.as_str(), group.as_str()));
    }
    candidates.sort_by(|a, b| listing_key(a).cmp(&listing_key(b)));
    let limit = input.limit.map_or(DEFAULT_LIMIT, |n| n as usize);
    let next_token = (candidates.len() > limit).then(|| {
        candidates.truncate(limit);
        let last = candidates.last().expect("a full page");
        let key = serde_json::to_string(&listing_key(last)).expect("strings serialize");
        paging::encode(&key)
    });
    Ok(DescribeMetricFiltersOutput {
        metric_filters: candidates.into_iter().cloned().collect(),
        next_token,
    })
}

pub fn delete_metric_filter(call: &mut Call<'_>, input: DeleteFilterInput) -> AwsResult<()> {
    delete_filter(call, input, |g| &mut g.metric_filters, "metric filter")
}

pub fn test_metric_filter(input: TestMetricFilterInput) -> AwsResult<TestMetricFilterOutput> {
    let mut v = Violations::new();
    v.required("filterPattern", input.filter_pattern.as_ref())
        .length(
            "filterPattern",
            input.filter_pattern.as_deref(),
            0,
            Some(1024),
        )
        .required("logEventMessages", input.log_event_messages.as_ref())
        .count(
            "logEventMessages",
            input.log_event_messages.as_deref(),
            1,
            Some(50),
        );
    for (i, message) in input.log_event_messages.iter().flatten().enumerate() {
        v.length(&element_path("logEventMessages", i), Some(message), 1, None);
    }
    v.finish(invalid_parameter)?;
    let pattern = parse_pattern(input.filter_pattern.as_deref().expect("checked above"))?;
    let matches = input
        .log_event_messages
        .expect("checked above")
        .into_iter()
        .enumerate()
        .filter_map(|(i, message)| {
            pattern
                .test(&message)
                .map(|extracted_values| MetricFilterMatchRecord {
                    event_number: i as i64 + 1,
                    event_message: message,
                    extracted_values,
                })
        })
        .collect();
    Ok(TestMetricFilterOutput { matches })
}
