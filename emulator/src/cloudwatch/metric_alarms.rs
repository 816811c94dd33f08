//! PutMetricAlarm: create or fully replace a metric alarm.
//!
//! AWS semantics modelled: an update replaces the whole configuration (omitted optional
//! members fall back to their defaults) and keeps the alarm's state; tags count only on
//! create; new alarms start in INSUFFICIENT_DATA. An alarm uses exactly one of three
//! shapes: a single metric, metric math (`Metrics`), or PromQL (`EvaluationCriteria`).

use std::collections::HashSet;

use super::alarm_checks::{check_action_arns, check_common, check_creation_tags, check_tag_rules};
use super::model::{
    AlarmState, Dimension, Metric, MetricAlarm, MetricDataQuery, PutMetricAlarmInput,
};
use super::state::{AlarmRecord, StoredAlarm};
use super::{invalid_parameter_combination, validation_error};
use crate::arn;
use crate::call::Call;
use crate::error::AwsResult;
use crate::tags;
use crate::validation::{Violations, element_path};

pub const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

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

/// AWS limits metric math alarms to 10 metrics.
const MAX_ALARM_METRICS: usize = 10;

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

/// `p90`, `tm90`, `tc90`, `ts90`, `wm90`, `IQM`, `PR(n:m)`, `TC(X%:X%)`, `TM(...)`, `TS(...)`,
/// `WM(...)`, as listed for ExtendedStatistic.
pub fn is_extended_statistic(stat: &str) -> bool {
    fn percent(s: &str) -> bool {
        let digits_ok = !s.is_empty()
            && s.chars().all(|c| c.is_ascii_digit() || c == '.')
            && s.matches('.').count() <= 1;
        digits_ok && s.parse::<f64>().is_ok_and(|p| (0.0..=100.0).contains(&p))
    }
    if stat == "IQM" {
        return true;
    }
    for prefix in ["p", "tm", "tc", "ts", "wm"] {
        if let Some(rest) = stat.strip_prefix(prefix)
            && percent(rest)
        {
            return true;
        }
    }
    for prefix in ["PR(", "TC(", "TM(", "TS(", "WM("] {
        if let Some(rest) = stat.strip_prefix(prefix) {
            return rest.ends_with(')') && rest.contains(':');
        }
    }
    false
}

fn valid_alarm_period(period: i64) -> bool {
    [10, 20, 30].contains(&period) || (period > 0 && period % 60 == 0)
}

fn valid_query_period(period: i64) -> bool {
    [1, 5, 10, 20, 30].contains(&period) || (period > 0 && period % 60 == 0)
}

fn valid_query_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The rules the API reference states beyond the model constraints.
fn check_semantics(input: &PutMetricAlarmInput) -> AwsResult<()> {
    let single_metric_members = [
        ("Namespace", input.namespace.is_some()),
        ("MetricName", input.metric_name.is_some()),
        ("Dimensions", input.dimensions.is_some()),
        ("Period", input.period.is_some()),
        ("Unit", input.unit.is_some()),
        ("Statistic", input.statistic.is_some()),
        ("ExtendedStatistic", input.extended_statistic.is_some()),
    ];
    let uses_single_metric = single_metric_members.iter().any(|(_, set)| *set);
    let uses_math = input.metrics.is_some();
    let uses_promql = input.evaluation_criteria.is_some();
    let shapes = [uses_single_metric, uses_math, uses_promql]
        .iter()
        .filter(|s| **s)
        .count();
    if shapes > 1 {
        let given: Vec<&str> = single_metric_members
            .iter()
            .filter(|(_, set)| *set)
            .map(|(name, _)| *name)
            .chain(uses_math.then_some("Metrics"))
            .chain(uses_promql.then_some("EvaluationCriteria"))
            .collect();
        return Err(invalid_parameter_combination(format!(
            "Use exactly one of a single metric, Metrics or EvaluationCriteria; got {}",
            given.join(", ")
        )));
    }
    if shapes == 0 {
        return Err(validation_error(
            "One of MetricName, Metrics or EvaluationCriteria must be specified",
        ));
    }

    let mut period = input.period.unwrap_or(0);
    if uses_single_metric {
        if input.metric_name.is_none() {
            return Err(validation_error("MetricName must be specified"));
        }
        if input.namespace.is_none() {
            return Err(validation_error("Namespace must be specified"));
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
            (None, Some(extended)) if !is_extended_statistic(extended) => {
                return Err(validation_error(format!(
                    "Invalid ExtendedStatistic: {extended}"
                )));
            }
            _ => {}
        }
        match input.period {
            None => return Err(validation_error("Period must be specified")),
            Some(p) if !valid_alarm_period(p) => {
                return Err(validation_error(
                    "Period must be 10, 20, 30 or a multiple of 60",
                ));
            }
            Some(_) => {}
        }
        if input.threshold_metric_id.is_some() {
            return Err(invalid_parameter_combination(
                "ThresholdMetricId can only be used with Metrics",
            ));
        }
    }
    if let Some(metrics) = &input.metrics {
        period = check_math(input, metrics)?;
    }
    if !uses_promql {
        check_threshold(input)?;
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
        [
            input.ok_actions.as_ref(),
            input.alarm_actions.as_ref(),
            input.insufficient_data_actions.as_ref(),
        ],
        false,
    )?;
    check_tag_rules(input.tags.as_ref())
}

/// Metric math: at most 10 entries, unique well-formed ids, each entry exactly one of
/// MetricStat or Expression, exactly one entry returning data (two for anomaly detection
/// alarms: the metric and its band). Returns the alarm's evaluation period.
fn check_math(input: &PutMetricAlarmInput, metrics: &[MetricDataQuery]) -> AwsResult<i64> {
    if metrics.is_empty() {
        return Err(validation_error(
            "Metrics must contain at least one element",
        ));
    }
    if metrics.len() > MAX_ALARM_METRICS {
        return Err(validation_error(format!(
            "The maximum number of metrics in an alarm is {MAX_ALARM_METRICS}"
        )));
    }
    let mut ids = HashSet::new();
    let mut period = 0;
    for query in metrics {
        let id = query.id.as_deref().unwrap_or_default();
        if !valid_query_id(id) {
            return Err(validation_error(format!(
                "Invalid metrics id {id}: it must start with a lower-case letter and contain \
                 only letters, numbers and underscores"
            )));
        }
        if !ids.insert(id) {
            return Err(validation_error(format!(
                "The metrics id {id} is used more than once"
            )));
        }
        match (&query.metric_stat, &query.expression) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(validation_error(format!(
                    "Exactly one of MetricStat and Expression must be specified for metrics id {id}"
                )));
            }
            (Some(stat), None) => {
                let p = stat.period.unwrap_or(0);
                if !valid_query_period(p) {
                    return Err(validation_error(
                        "The period of a metric must be 1, 5, 10, 20, 30 or a multiple of 60",
                    ));
                }
                period = period.max(p);
            }
            (None, Some(_)) => period = period.max(query.period.unwrap_or(0)),
        }
    }
    let returning: Vec<&str> = metrics
        .iter()
        .filter(|q| q.return_data != Some(false))
        .filter_map(|q| q.id.as_deref())
        .collect();
    let expected = match &input.threshold_metric_id {
        Some(band) => {
            let band_query = metrics
                .iter()
                .find(|q| q.id.as_deref() == Some(band.as_str()));
            let is_band = band_query
                .and_then(|q| q.expression.as_deref())
                .is_some_and(|e| e.contains("ANOMALY_DETECTION_BAND"));
            if !is_band {
                return Err(validation_error(format!(
                    "ThresholdMetricId {band} must be the id of an ANOMALY_DETECTION_BAND expression in Metrics"
                )));
            }
            if returning.len() == 2 && returning.contains(&band.as_str()) {
                2
            } else {
                1
            }
        }
        None => 1,
    };
    if returning.len() != expected {
        return Err(validation_error(
            "Exactly one element of the metrics list should return data.",
        ));
    }
    Ok(period)
}

/// Threshold xor ThresholdMetricId, matching the comparison operator.
fn check_threshold(input: &PutMetricAlarmInput) -> AwsResult<()> {
    let operator = input.comparison_operator.as_deref().unwrap_or_default();
    let band = BAND_OPERATORS.contains(&operator);
    match (
        input.threshold.is_some(),
        input.threshold_metric_id.is_some(),
    ) {
        (true, true) => Err(invalid_parameter_combination(
            "Threshold and ThresholdMetricId cannot both be specified",
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
    fn extended_statistics_follow_the_documented_forms() {
        for ok in [
            "p90",
            "p99.9",
            "p100",
            "tm90",
            "wm50",
            "IQM",
            "PR(10:20)",
            "TM(10%:90%)",
        ] {
            assert!(is_extended_statistic(ok), "{ok}");
        }
        for bad in ["p", "p101", "x90", "Average", "PR10", "p9.9.9"] {
            assert!(!is_extended_statistic(bad), "{bad}");
        }
    }

    #[test]
    fn alarm_periods_are_10_20_30_or_minutes() {
        assert!(valid_alarm_period(10) && valid_alarm_period(20) && valid_alarm_period(30));
        assert!(valid_alarm_period(60) && valid_alarm_period(300));
        assert!(!valid_alarm_period(1) && !valid_alarm_period(45) && !valid_alarm_period(90));
        assert!(valid_query_period(1) && valid_query_period(5));
    }

    #[test]
    fn metric_ids_start_lower_case() {
        assert!(valid_query_id("m1") && valid_query_id("e_total"));
        assert!(!valid_query_id("M1") && !valid_query_id("1m") && !valid_query_id("m-1"));
    }
}
