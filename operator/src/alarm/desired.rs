//! Step 1 of the Alarm reconcile: the spec as the exact PutMetricAlarm request, with every value
//! AWS would fill in filled in here, so that comparing it with what DescribeAlarms returns finds
//! no difference when there is none (a server default left out of the desired state is how a
//! peer operator ended up writing every alarm on every resync).

use super::spec::*;
use crate::aws::cloudwatch_tags::sdk_tags;
use crate::aws::wire::to_wire;
use crate::cloudwatch_alarm::metric_filter_ref::FilterMetric;
use crate::cloudwatch_alarm::spec::normalize_actions;
use aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder;
use aws_sdk_cloudwatch::types as cw;
use std::collections::BTreeMap;

/// The alarm's configuration in a normal form both the spec and AWS's answer map to: the
/// AWS-facing spec fields, with sets sorted, defaults filled and AWS's empty values removed.
/// `common`, `alarmName`, `metricFilterRef` and `tags` are not part of it (tags are compared
/// separately; a metricFilterRef is resolved into metricName and namespace).
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmConfig {
    /// The alarm's name in CloudWatch.
    pub name: String,
    /// Every other PutMetricAlarm field, normalized.
    pub fields: AlarmSpec,
}

/// The AWS name of the alarm: `spec.alarmName`, else the object's name.
pub fn aws_name(spec: &AlarmSpec, object_name: &str) -> String {
    spec.alarm_name
        .clone()
        .unwrap_or_else(|| object_name.to_string())
}

/// `spec` with its metricFilterRef resolved to `metric`, the metric the filter publishes.
pub fn with_filter_metric(spec: &AlarmSpec, metric: Option<&FilterMetric>) -> AlarmSpec {
    let mut spec = spec.clone();
    if let Some(m) = metric {
        spec.metric_name = Some(m.metric_name.clone());
        spec.namespace = Some(m.namespace.clone());
    }
    spec
}

/// The desired configuration for `spec`.
pub fn desired(spec: &AlarmSpec, object_name: &str) -> AlarmConfig {
    AlarmConfig {
        name: aws_name(spec, object_name),
        fields: normalize(spec.clone()),
    }
}

/// Puts `fields` in normal form (see [`AlarmConfig`]). Idempotent.
pub fn normalize(mut s: AlarmSpec) -> AlarmSpec {
    s.common = Default::default();
    s.alarm_name = None;
    // Not an AWS field: the reconcile resolves it into metricName and namespace first.
    s.metric_filter_ref = None;
    s.tags = Default::default();
    s.description = s.description.filter(|d| !d.is_empty());
    normalize_actions([
        &mut s.ok_actions,
        &mut s.alarm_actions,
        &mut s.insufficient_data_actions,
    ]);
    s.dimensions.sort_by(|a, b| a.name.cmp(&b.name));
    s.extended_statistic = s.extended_statistic.filter(|e| !e.is_empty());
    for m in &mut s.metrics {
        if let Some(stat) = &mut m.metric_stat {
            stat.metric.dimensions.sort_by(|a, b| a.name.cmp(&b.name));
        }
        m.label = m.label.take().filter(|l| !l.is_empty());
        m.account_id = m.account_id.take().filter(|a| !a.is_empty());
        // ReturnData defaults to true.
        m.return_data = Some(m.return_data.unwrap_or(true));
    }
    s.metrics.sort_by(|a, b| a.id.cmp(&b.id));
    let metric_alarm = s.evaluation_criteria.is_none();
    if metric_alarm {
        // DatapointsToAlarm defaults to EvaluationPeriods; TreatMissingData to `missing`.
        if s.datapoints_to_alarm.is_none() {
            s.datapoints_to_alarm = s.evaluation_periods;
        }
        if s.treat_missing_data.is_none() {
            s.treat_missing_data = Some(TreatMissingData::Missing);
        }
    }
    // A sliding window is what AWS does when no window is given.
    if s.evaluation_window
        .as_ref()
        .is_some_and(|w| w.sliding_window.is_some())
    {
        s.evaluation_window = None;
    }
    if let Some(t) = s.threshold {
        // -0.0 and 0.0 are the same threshold.
        s.threshold = Some(if t == 0.0 { 0.0 } else { t });
    }
    s.action_configuration = s.action_configuration.map(ActionConfiguration::normalized);
    s
}

/// Fills a PutMetricAlarm request for the alarm `name` from its normalized fields. `tags` are passed only on create:
/// AWS ignores tags on an update.
pub fn put_request(
    mut b: PutMetricAlarmFluentBuilder,
    name: &str,
    f: &AlarmSpec,
    tags: Option<&BTreeMap<String, String>>,
) -> PutMetricAlarmFluentBuilder {
    b = b
        .alarm_name(name)
        .set_alarm_description(f.description.clone())
        .actions_enabled(f.actions_enabled)
        .set_ok_actions(Some(f.ok_actions.clone()))
        .set_alarm_actions(Some(f.alarm_actions.clone()))
        .set_insufficient_data_actions(Some(f.insufficient_data_actions.clone()))
        .set_metric_name(f.metric_name.clone())
        .set_namespace(f.namespace.clone())
        .set_statistic(
            f.statistic
                .map(|s| cw::Statistic::from(to_wire(&s).as_str())),
        )
        .set_extended_statistic(f.extended_statistic.clone())
        .set_period(f.period)
        .set_unit(f.unit.map(|u| cw::StandardUnit::from(to_wire(&u).as_str())))
        .set_evaluation_periods(f.evaluation_periods)
        .set_datapoints_to_alarm(f.datapoints_to_alarm)
        .set_threshold(f.threshold)
        .set_comparison_operator(
            f.comparison_operator
                .map(|o| cw::ComparisonOperator::from(to_wire(&o).as_str())),
        )
        .set_treat_missing_data(f.treat_missing_data.map(|t| to_wire(&t)))
        .set_evaluate_low_sample_count_percentile(
            f.evaluate_low_sample_count_percentile.map(|e| to_wire(&e)),
        )
        .set_threshold_metric_id(f.threshold_metric_id.clone())
        .set_evaluation_interval(f.evaluation_interval);
    if !f.dimensions.is_empty() {
        b = b.set_dimensions(Some(f.dimensions.iter().map(dimension).collect()));
    }
    if !f.metrics.is_empty() {
        b = b.set_metrics(Some(f.metrics.iter().map(metric_data_query).collect()));
    }
    if let Some(criteria) = f
        .evaluation_criteria
        .as_ref()
        .and_then(|c| c.prom_ql_criteria.as_ref())
    {
        b = b.evaluation_criteria(cw::EvaluationCriteria::PromQlCriteria(
            cw::AlarmPromQlCriteria::builder()
                .query(&criteria.query)
                .set_pending_period(criteria.pending_period)
                .set_recovery_period(criteria.recovery_period)
                .build(),
        ));
    }
    if let Some(wall) = f
        .evaluation_window
        .as_ref()
        .and_then(|w| w.wall_clock_window.as_ref())
    {
        b = b.evaluation_window(cw::EvaluationWindow::WallClockWindow(
            cw::WallClockWindow::builder()
                .set_timezone(wall.timezone.clone())
                .build(),
        ));
    }
    if let Some(w) = &f.warm_up_configuration {
        b = b.warm_up_configuration(
            cw::WarmUpConfiguration::builder()
                .warm_up_period_duration_in_minutes(w.warm_up_period_duration_in_minutes)
                .set_only_start_evaluating_after_warm_up_period_ends(
                    w.only_start_evaluating_after_warm_up_period_ends,
                )
                .build(),
        );
    }
    let action_configuration = f.action_configuration.as_ref();
    b.set_action_configuration(action_configuration.and_then(ActionConfiguration::to_sdk))
        .set_tags(tags.map(sdk_tags))
}

fn dimension(d: &Dimension) -> cw::Dimension {
    cw::Dimension::builder()
        .name(&d.name)
        .value(&d.value)
        .build()
}

fn metric_data_query(m: &MetricDataQuery) -> cw::MetricDataQuery {
    cw::MetricDataQuery::builder()
        .id(&m.id)
        .set_metric_stat(m.metric_stat.as_ref().map(|s| {
            cw::MetricStat::builder()
                .metric(
                    cw::Metric::builder()
                        .namespace(&s.metric.namespace)
                        .metric_name(&s.metric.metric_name)
                        .set_dimensions(
                            (!s.metric.dimensions.is_empty())
                                .then(|| s.metric.dimensions.iter().map(dimension).collect()),
                        )
                        .build(),
                )
                .period(s.period)
                .stat(&s.stat)
                .set_unit(s.unit.map(|u| cw::StandardUnit::from(to_wire(&u).as_str())))
                .build()
        }))
        .set_expression(m.expression.clone())
        .set_label(m.label.clone())
        .set_return_data(m.return_data)
        .set_period(m.period)
        .set_account_id(m.account_id.clone())
        .build()
}
