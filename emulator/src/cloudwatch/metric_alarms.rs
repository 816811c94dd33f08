//! PutMetricAlarm: create or fully replace a metric alarm.
//!
//! AWS semantics modelled: an update replaces the whole configuration (omitted optional
//! members fall back to their defaults) and keeps the alarm's state; tags count only on
//! create; new alarms start in INSUFFICIENT_DATA. An alarm uses exactly one of three
//! shapes: a single metric, metric math (`Metrics`), or PromQL (`EvaluationCriteria`).

use super::alarm_checks::{
    ActionLists, AlarmKind, check_action_arns, check_common, check_creation_tags, check_tag_rules,
};
use super::model::{
    AlarmState, Dimension, Metric, MetricAlarm, MetricDataQuery, PutMetricAlarmInput,
};
use super::state::{AlarmRecord, StoredAlarm};
use super::statistics::{self, STATISTICS};
use super::{
    invalid_parameter_combination, invalid_parameter_value, metric_queries, validation_error,
};
use crate::arn;
use crate::call::Call;
use crate::error::AwsResult;
use crate::tags;
use crate::validation::{Violations, element_path};

pub const UNITS: &[&str] = &[
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

pub const COMPARISON_OPERATORS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];

/// The comparison operators that compare against an anomaly detection band.
const BAND_OPERATORS: &[&str] = &[
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];

const TREAT_MISSING_DATA: &[&str] = &["breaching", "notBreaching", "ignore", "missing"];
const LOW_SAMPLE_COUNT: &[&str] = &["evaluate", "ignore"];

pub fn put_metric_alarm(call: &mut Call<'_>, input: PutMetricAlarmInput) -> AwsResult<()> {
    check_model(&input)?;
    check_semantics(&input)?;
    let name = input.alarm_name.clone().expect("checked by check_model");
    let cloudwatch = &mut call.state.cloudwatch;
    let (state, tags) = match cloudwatch.alarms.get(&name) {
        Some(existing) if existing.alarm.is_composite() => {
            return Err(validation_error(format!(
                "The alarm {name} already exists as a composite alarm"
            )));
        }
        // An update keeps the state and ignores the tags given with it.
        Some(existing) => (existing.alarm.state(), existing.tags.clone()),
        None => (
            AlarmState::initial(call.now),
            tags::to_map(input.tags.as_deref()),
        ),
    };
    let alarm = MetricAlarm {
        alarm_arn: arn::alarm(call.scope, &name),
        alarm_name: name.clone(),
        alarm_description: input.alarm_description,
        alarm_configuration_updated_timestamp: call.now,
        actions_enabled: input.actions_enabled.unwrap_or(true),
        ok_actions: input.ok_actions.unwrap_or_default(),
        alarm_actions: input.alarm_actions.unwrap_or_default(),
        insufficient_data_actions: input.insufficient_data_actions.unwrap_or_default(),
        state_value: state.value,
        state_reason: state.reason,
        state_reason_data: state.reason_data,
        state_updated_timestamp: state.updated,
        // DescribeAlarms lists Dimensions (empty for metric math and PromQL alarms).
        dimensions: Some(input.dimensions.unwrap_or_default()),
        metric_name: input.metric_name,
        namespace: input.namespace,
        statistic: input.statistic,
        extended_statistic: input.extended_statistic,
        period: input.period,
        unit: input.unit,
        evaluation_periods: input.evaluation_periods,
        datapoints_to_alarm: input.datapoints_to_alarm,
        threshold: input.threshold,
        comparison_operator: input.comparison_operator,
        treat_missing_data: input.treat_missing_data,
        evaluate_low_sample_count_percentile: input.evaluate_low_sample_count_percentile,
        metrics: input.metrics,
        threshold_metric_id: input.threshold_metric_id,
        state_transitioned_timestamp: state.transitioned,
        evaluation_criteria: input.evaluation_criteria,
        evaluation_interval: input.evaluation_interval,
    };
    cloudwatch.alarms.insert(
        name,
        StoredAlarm {
            alarm: AlarmRecord::Metric(Box::new(alarm)),
            tags,
            children: Vec::new(),
        },
    );
    Ok(())
}

fn check_dimensions(v: &mut Violations, path: &str, dimensions: Option<&Vec<Dimension>>) {
    v.count(path, dimensions.map(Vec::as_slice), 0, Some(30));
    for (i, d) in dimensions.into_iter().flatten().enumerate() {
        let at = element_path(path, i);
        v.required(&format!("{at}.name"), d.name.as_ref())
            .length(&format!("{at}.name"), d.name.as_deref(), 1, Some(255))
            .required(&format!("{at}.value"), d.value.as_ref())
            .length(&format!("{at}.value"), d.value.as_deref(), 1, Some(1024));
    }
}

fn check_namespace(v: &mut Violations, path: &str, namespace: Option<&str>) {
    v.length(path, namespace, 1, Some(255))
        .pattern(path, namespace, "[^:].*", |n| !n.starts_with(':'));
}

fn check_metric(v: &mut Violations, path: &str, metric: &Metric) {
    check_namespace(v, &format!("{path}.namespace"), metric.namespace.as_deref());
    v.length(
        &format!("{path}.metricName"),
        metric.metric_name.as_deref(),
        1,
        Some(255),
    );
    check_dimensions(v, &format!("{path}.dimensions"), metric.dimensions.as_ref());
}

fn check_query(v: &mut Violations, path: &str, query: &MetricDataQuery) {
    v.required(&format!("{path}.id"), query.id.as_ref())
        .length(&format!("{path}.id"), query.id.as_deref(), 1, Some(255))
        .length(
            &format!("{path}.expression"),
            query.expression.as_deref(),
            1,
            Some(2048),
        )
        .range(&format!("{path}.period"), query.period, Some(1), None)
        .length(
            &format!("{path}.accountId"),
            query.account_id.as_deref(),
            1,
            Some(255),
        );
    if let Some(stat) = &query.metric_stat {
        let at = format!("{path}.metricStat");
        v.required(&format!("{at}.metric"), stat.metric.as_ref())
            .required(&format!("{at}.period"), stat.period.as_ref())
            .range(&format!("{at}.period"), stat.period, Some(1), None)
            .required(&format!("{at}.stat"), stat.stat.as_ref())
            .one_of(&format!("{at}.unit"), stat.unit.as_deref(), UNITS);
        if let Some(metric) = &stat.metric {
            check_metric(v, &format!("{at}.metric"), metric);
        }
    }
}

/// The model's constraints (AWS's request validator, `ValidationError`).
fn check_model(input: &PutMetricAlarmInput) -> AwsResult<()> {
    let mut v = Violations::new();
    check_common(
        &mut v,
        input.alarm_name.as_ref(),
        input.alarm_description.as_deref(),
        [
            ("oKActions", input.ok_actions.as_ref()),
            ("alarmActions", input.alarm_actions.as_ref()),
            (
                "insufficientDataActions",
                input.insufficient_data_actions.as_ref(),
            ),
        ],
    );
    v.length("metricName", input.metric_name.as_deref(), 1, Some(255));
    check_namespace(&mut v, "namespace", input.namespace.as_deref());
    v.one_of("statistic", input.statistic.as_deref(), STATISTICS);
    check_dimensions(&mut v, "dimensions", input.dimensions.as_ref());
    v.range("period", input.period, Some(1), None)
        .one_of("unit", input.unit.as_deref(), UNITS)
        .range("evaluationPeriods", input.evaluation_periods, Some(1), None)
        .range(
            "datapointsToAlarm",
            input.datapoints_to_alarm,
            Some(1),
            None,
        )
        .one_of(
            "comparisonOperator",
            input.comparison_operator.as_deref(),
            COMPARISON_OPERATORS,
        )
        .length(
            "treatMissingData",
            input.treat_missing_data.as_deref(),
            1,
            Some(255),
        )
        .length(
            "evaluateLowSampleCountPercentile",
            input.evaluate_low_sample_count_percentile.as_deref(),
            1,
            Some(255),
        )
        .length(
            "thresholdMetricId",
            input.threshold_metric_id.as_deref(),
            1,
            Some(255),
        )
        .range(
            "evaluationInterval",
            input.evaluation_interval,
            Some(10),
            Some(3600),
        );
    for (i, query) in input.metrics.iter().flatten().enumerate() {
        check_query(&mut v, &element_path("metrics", i), query);
    }
    check_creation_tags(&mut v, input.tags.as_ref());
    let promql = input
        .evaluation_criteria
        .as_ref()
        .and_then(|c| c.promql_criteria.as_ref());
    if let Some(criteria) = promql {
        let at = "evaluationCriteria.promQLCriteria";
        v.required(&format!("{at}.query"), criteria.query.as_ref())
            .length(
                &format!("{at}.query"),
                criteria.query.as_deref(),
                1,
                Some(10000),
            )
            .range(
                &format!("{at}.pendingPeriod"),
                criteria.pending_period,
                Some(0),
                Some(86400),
            )
            .range(
                &format!("{at}.recoveryPeriod"),
                criteria.recovery_period,
                Some(0),
                Some(86400),
            );
    } else {
        // Required for every alarm that is not a PromQL alarm (the model made them optional
        // only when PromQL alarms arrived).
        v.required("evaluationPeriods", input.evaluation_periods.as_ref())
            .required("comparisonOperator", input.comparison_operator.as_ref());
    }
    v.finish(validation_error)
}

fn valid_alarm_period(period: i64) -> bool {
    [10, 20, 30].contains(&period) || (period > 0 && period % 60 == 0)
}

/// The single-metric members, which neither metric math nor PromQL alarms may set.
fn single_metric_members(input: &PutMetricAlarmInput) -> Vec<&'static str> {
    [
        ("Namespace", input.namespace.is_some()),
        ("MetricName", input.metric_name.is_some()),
        ("Dimensions", input.dimensions.is_some()),
        ("Period", input.period.is_some()),
        ("Unit", input.unit.is_some()),
        ("Statistic", input.statistic.is_some()),
        ("ExtendedStatistic", input.extended_statistic.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

/// The rules the API reference states beyond the model constraints.
fn check_semantics(input: &PutMetricAlarmInput) -> AwsResult<()> {
    check_alarm_name(input.alarm_name.as_deref().unwrap_or_default())?;
    check_dimension_characters(input)?;
    let single = single_metric_members(input);
    let uses_promql = input.evaluation_criteria.is_some();
    let period = if let Some(metrics) = &input.metrics {
        // AWS: "Statistic should not be set if list of Metrics is set."
        if let Some(member) = single.first() {
            return Err(validation_error(format!(
                "{member} should not be set if list of Metrics is set."
            )));
        }
        if uses_promql {
            return Err(validation_error(
                "EvaluationCriteria should not be set if list of Metrics is set.",
            ));
        }
        metric_queries::check(metrics, input.threshold_metric_id.as_deref())?
    } else if uses_promql {
        check_promql(input, &single)?;
        0
    } else {
        check_single_metric(input)?
    };
    if !uses_promql {
        check_threshold(input)?;
        if input.evaluation_interval.is_some() {
            return Err(validation_error(
                "EvaluationInterval can only be used with EvaluationCriteria",
            ));
        }
    }

    let evaluation_periods = input.evaluation_periods.unwrap_or(1);
    if let Some(datapoints) = input.datapoints_to_alarm
        && datapoints > evaluation_periods
    {
        return Err(validation_error(
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
        ));
    }
    let total = period.saturating_mul(evaluation_periods);
    if period > 0 && period < 3600 && total > 86_400 {
        return Err(validation_error(
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)",
        ));
    }
    if total > 604_800 {
        return Err(validation_error(
            "Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= 604800)",
        ));
    }
    if let Some(value) = &input.treat_missing_data
        && !TREAT_MISSING_DATA.contains(&value.as_str())
    {
        return Err(validation_error(format!(
            "Invalid TreatMissingData {value}: valid values are {}",
            TREAT_MISSING_DATA.join(", ")
        )));
    }
    if let Some(value) = &input.evaluate_low_sample_count_percentile
        && !LOW_SAMPLE_COUNT.contains(&value.as_str())
    {
        return Err(validation_error(format!(
            "Invalid EvaluateLowSampleCountPercentile {value}: valid values are evaluate, ignore"
        )));
    }
    check_action_arns(
        ActionLists {
            ok: input.ok_actions.as_deref(),
            alarm: input.alarm_actions.as_deref(),
            insufficient_data: input.insufficient_data_actions.as_deref(),
        },
        AlarmKind::Metric,
    )?;
    // AWS: "Alarms based on anomaly detection models cannot have Auto Scaling actions."
    if input.threshold_metric_id.is_some() {
        let lists = [
            &input.ok_actions,
            &input.alarm_actions,
            &input.insufficient_data_actions,
        ];
        if let Some(action) = lists
            .into_iter()
            .flatten()
            .flatten()
            .find(|a| a.split(':').nth(2) == Some("autoscaling"))
        {
            return Err(validation_error(format!(
                "Alarms based on anomaly detection models cannot have Auto Scaling actions: \
                 {action}"
            )));
        }
    }
    check_tag_rules(input.tags.as_ref())
}

/// AWS: "The name must contain only UTF-8 characters, and can't contain ASCII control
/// characters."
fn check_alarm_name(name: &str) -> AwsResult<()> {
    match name.chars().position(|c| c.is_ascii_control()) {
        Some(at) => Err(validation_error(format!(
            "The alarm name must not contain ASCII control characters (found one at char {at})"
        ))),
        None => Ok(()),
    }
}

/// AWS (`Dimension`): names contain only ASCII characters, at least one of them not
/// whitespace, no control character, and do not start with a colon.
fn dimension_name_ok(name: &str) -> bool {
    dimension_value_ok(name) && !name.starts_with(':')
}

/// AWS (`Dimension`): values contain only ASCII characters, at least one of them not
/// whitespace, and no control character.
fn dimension_value_ok(value: &str) -> bool {
    value.is_ascii() && !value.trim().is_empty() && !value.chars().any(|c| c.is_ascii_control())
}

/// The characters of every dimension, of the single metric and of each `MetricStat`.
fn check_dimension_characters(input: &PutMetricAlarmInput) -> AwsResult<()> {
    let mut lists: Vec<(String, &Vec<Dimension>)> = Vec::new();
    if let Some(dimensions) = &input.dimensions {
        lists.push(("Dimensions".into(), dimensions));
    }
    for (i, query) in input.metrics.iter().flatten().enumerate() {
        let dimensions = query
            .metric_stat
            .as_ref()
            .and_then(|s| s.metric.as_ref())
            .and_then(|m| m.dimensions.as_ref());
        if let Some(dimensions) = dimensions {
            let path = format!("Metrics.member.{}.MetricStat.Metric.Dimensions", i + 1);
            lists.push((path, dimensions));
        }
    }
    for (path, dimensions) in lists {
        for (j, dimension) in dimensions.iter().enumerate() {
            let at = format!("{path}.member.{}", j + 1);
            let name = dimension.name.as_deref().unwrap_or_default();
            let value = dimension.value.as_deref().unwrap_or_default();
            let bad = if !dimension_name_ok(name) {
                Some((name, "Name"))
            } else if !dimension_value_ok(value) {
                Some((value, "Value"))
            } else {
                None
            };
            if let Some((shown, member)) = bad {
                return Err(invalid_parameter_value(format!(
                    "The value {shown} for parameter {at}.{member} is invalid."
                )));
            }
        }
    }
    Ok(())
}

/// One metric: Namespace, MetricName, Period and Statistic xor ExtendedStatistic. Returns the
/// period.
fn check_single_metric(input: &PutMetricAlarmInput) -> AwsResult<i64> {
    // AWS answers a request with no metric at all "MetricName must not be null".
    if input.metric_name.is_none() {
        return Err(validation_error("MetricName must not be null"));
    }
    if input.namespace.is_none() {
        return Err(validation_error("Namespace must not be null"));
    }
    match (&input.statistic, &input.extended_statistic) {
        (Some(_), Some(_)) => {
            return Err(invalid_parameter_combination(
                "Statistic and ExtendedStatistic cannot both be specified",
            ));
        }
        (None, None) => {
            return Err(validation_error(
                "One of Statistic or ExtendedStatistic must be specified",
            ));
        }
        (None, Some(extended)) if !statistics::is_extended(extended) => {
            return Err(validation_error(format!(
                "Invalid ExtendedStatistic: {extended}"
            )));
        }
        _ => {}
    }
    let period = match input.period {
        None => return Err(validation_error("Period must not be null")),
        Some(p) if !valid_alarm_period(p) => {
            return Err(validation_error(
                "Period must be 10, 20, 30 or a multiple of 60",
            ));
        }
        Some(p) => p,
    };
    if input.threshold_metric_id.is_some() {
        return Err(validation_error(
            "ThresholdMetricId can only be used with a list of Metrics",
        ));
    }
    Ok(period)
}

/// PromQL alarms define everything in EvaluationCriteria and are evaluated every
/// EvaluationInterval seconds: 10, 20, 30 or a multiple of 60.
fn check_promql(input: &PutMetricAlarmInput, single: &[&str]) -> AwsResult<()> {
    let others = [
        ("Threshold", input.threshold.is_some()),
        ("ComparisonOperator", input.comparison_operator.is_some()),
        ("ThresholdMetricId", input.threshold_metric_id.is_some()),
        ("EvaluationPeriods", input.evaluation_periods.is_some()),
        ("DatapointsToAlarm", input.datapoints_to_alarm.is_some()),
    ];
    let given = single
        .iter()
        .copied()
        .chain(others.iter().filter(|(_, set)| *set).map(|(name, _)| *name))
        .next();
    if let Some(member) = given {
        return Err(validation_error(format!(
            "{member} should not be set if EvaluationCriteria is set."
        )));
    }
    let promql = input
        .evaluation_criteria
        .as_ref()
        .and_then(|c| c.promql_criteria.as_ref());
    if promql.is_none() {
        return Err(validation_error(
            "EvaluationCriteria must contain PromQLCriteria",
        ));
    }
    match input.evaluation_interval {
        None => Err(validation_error(
            "EvaluationInterval must be specified with EvaluationCriteria",
        )),
        Some(interval) if !valid_alarm_period(interval) => Err(validation_error(
            "EvaluationInterval must be 10, 20, 30 or a multiple of 60",
        )),
        Some(_) => Ok(()),
    }
}

/// Threshold xor ThresholdMetricId, matching the comparison operator.
fn check_threshold(input: &PutMetricAlarmInput) -> AwsResult<()> {
    let operator = input.comparison_operator.as_deref().unwrap_or_default();
    let band = BAND_OPERATORS.contains(&operator);
    match (
        input.threshold.is_some(),
        input.threshold_metric_id.is_some(),
    ) {
        // AWS: "Threshold and ThresholdMetricId cannot both be set".
        (true, true) => Err(validation_error(
            "Threshold and ThresholdMetricId cannot both be set",
        )),
        (false, false) => Err(validation_error(
            "One of Threshold or ThresholdMetricId must be specified",
        )),
        (true, false) if band => Err(validation_error(format!(
            "ComparisonOperator {operator} requires ThresholdMetricId"
        ))),
        (false, true) if !band => Err(validation_error(format!(
            "ThresholdMetricId requires an anomaly detection ComparisonOperator, not {operator}"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_periods_are_10_20_30_or_minutes() {
        assert!(valid_alarm_period(10) && valid_alarm_period(20) && valid_alarm_period(30));
        assert!(valid_alarm_period(60) && valid_alarm_period(300));
        assert!(!valid_alarm_period(1) && !valid_alarm_period(45) && !valid_alarm_period(90));
    }

    #[test]
    fn dimension_names_and_values_follow_the_documented_characters() {
        assert!(dimension_name_ok("InstanceId") && dimension_name_ok("a:b"));
        assert!(!dimension_name_ok(":Instance") && !dimension_name_ok("   "));
        assert!(!dimension_name_ok("tab\there") && !dimension_name_ok("caf\u{e9}"));
        assert!(dimension_value_ok("i-0123 abc") && dimension_value_ok(":starts-with-colon"));
        assert!(!dimension_value_ok(" ") && !dimension_value_ok("line\nbreak"));
    }
}
