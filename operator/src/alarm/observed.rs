//! Step 2 of the Alarm reconcile: what DescribeAlarms returned, in the same normal form as the
//! desired configuration (the live state is shared with composite alarms: see
//! `cloudwatch_alarm::live`).

use super::desired::{AlarmConfig, normalize};
use super::spec::*;
use crate::aws::wire::from_wire;
use aws_sdk_cloudwatch::types as cw;

/// The configuration of a metric alarm as AWS reports it.
pub fn observed(alarm: &cw::MetricAlarm) -> AlarmConfig {
    let fields = AlarmSpec {
        description: alarm.alarm_description.clone(),
        actions_enabled: alarm.actions_enabled.unwrap_or(true),
        ok_actions: alarm.ok_actions().to_vec(),
        alarm_actions: alarm.alarm_actions().to_vec(),
        insufficient_data_actions: alarm.insufficient_data_actions().to_vec(),
        metric_name: alarm.metric_name.clone(),
        namespace: alarm.namespace.clone(),
        dimensions: alarm.dimensions().iter().map(dimension).collect(),
        statistic: alarm.statistic.as_ref().and_then(|s| from_wire(s.as_str())),
        extended_statistic: alarm.extended_statistic.clone(),
        period: alarm.period,
        unit: alarm.unit.as_ref().and_then(|u| from_wire(u.as_str())),
        evaluation_periods: alarm.evaluation_periods,
        datapoints_to_alarm: alarm.datapoints_to_alarm,
        threshold: alarm.threshold,
        comparison_operator: alarm
            .comparison_operator
            .as_ref()
            .and_then(|o| from_wire(o.as_str())),
        treat_missing_data: alarm.treat_missing_data.as_deref().and_then(from_wire),
        evaluate_low_sample_count_percentile: alarm
            .evaluate_low_sample_count_percentile
            .as_deref()
            .filter(|e| !e.is_empty())
            .and_then(from_wire),
        metrics: alarm.metrics().iter().map(metric_data_query).collect(),
        threshold_metric_id: alarm.threshold_metric_id.clone(),
        evaluation_criteria: alarm.evaluation_criteria.as_ref().and_then(|c| match c {
            cw::EvaluationCriteria::PromQlCriteria(p) => Some(EvaluationCriteria {
                prom_ql_criteria: Some(PromQlCriteria {
                    query: p.query.clone().unwrap_or_default(),
                    pending_period: p.pending_period,
                    recovery_period: p.recovery_period,
                }),
            }),
            _ => None,
        }),
        evaluation_interval: alarm.evaluation_interval,
        evaluation_window: alarm.evaluation_window.as_ref().and_then(|w| match w {
            cw::EvaluationWindow::SlidingWindow(_) => Some(EvaluationWindow {
                sliding_window: Some(SlidingWindow {}),
                ..Default::default()
            }),
            cw::EvaluationWindow::WallClockWindow(wall) => Some(EvaluationWindow {
                wall_clock_window: Some(WallClockWindow {
                    timezone: wall.timezone.clone(),
                }),
                ..Default::default()
            }),
            _ => None,
        }),
        warm_up_configuration: alarm
            .warm_up_configuration
            .as_ref()
            .map(|w| WarmUpConfiguration {
                warm_up_period_duration_in_minutes: w
                    .warm_up_period_duration_in_minutes
                    .unwrap_or(0),
                only_start_evaluating_after_warm_up_period_ends: w
                    .only_start_evaluating_after_warm_up_period_ends,
            }),
        action_configuration: alarm
            .action_configuration
            .as_ref()
            .map(ActionConfiguration::from_sdk),
        ..Default::default()
    };
    AlarmConfig {
        name: alarm.alarm_name.clone().unwrap_or_default(),
        fields: normalize(fields),
    }
}

fn dimension(d: &cw::Dimension) -> Dimension {
    Dimension {
        name: d.name.clone().unwrap_or_default(),
        value: d.value.clone().unwrap_or_default(),
    }
}

fn metric_data_query(m: &cw::MetricDataQuery) -> MetricDataQuery {
    MetricDataQuery {
        id: m.id.clone().unwrap_or_default(),
        metric_stat: m.metric_stat.as_ref().map(|s| MetricStat {
            metric: s
                .metric
                .as_ref()
                .map(|metric| Metric {
                    namespace: metric.namespace.clone().unwrap_or_default(),
                    metric_name: metric.metric_name.clone().unwrap_or_default(),
                    dimensions: metric.dimensions().iter().map(dimension).collect(),
                })
                .unwrap_or_default(),
            period: s.period.unwrap_or_default(),
            stat: s.stat.clone().unwrap_or_default(),
            unit: s.unit.as_ref().and_then(|u| from_wire(u.as_str())),
        }),
        expression: m.expression.clone(),
        label: m.label.clone(),
        return_data: m.return_data,
        period: m.period,
        account_id: m.account_id.clone(),
    }
}
