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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::desired::{AlarmConfig, desired, put_request};
    use crate::alarm::diff::plan;
    use crate::cloudwatch_alarm::sdk_client as client;
    use aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// What CloudWatch stores from a PutMetricAlarm, as DescribeAlarms then reports it: every
    /// list in an order of its own (reversed here), ActionsEnabled and the Dimensions list always
    /// present, the alarm in INSUFFICIENT_DATA. With `defaults`, the values the request left out
    /// come back filled with AWS's defaults (DatapointsToAlarm = EvaluationPeriods,
    /// TreatMissingData `missing`, EvaluateLowSampleCountPercentile empty, ReturnData true, a
    /// sliding window); without, they come back absent. The normal form must absorb both.
    fn aws_after_put(request: &PutMetricAlarmFluentBuilder, defaults: bool) -> cw::MetricAlarm {
        let reversed = |v: &Option<Vec<String>>| {
            Some(v.clone().unwrap_or_default().into_iter().rev().collect())
        };
        let dimensions = |v: Option<&Vec<cw::Dimension>>| -> Vec<cw::Dimension> {
            v.cloned().unwrap_or_default().into_iter().rev().collect()
        };
        let metric_alarm = request.get_evaluation_criteria().is_none();
        let metrics = request.get_metrics().as_ref().map(|metrics| {
            metrics
                .iter()
                .rev()
                .map(|m| {
                    let stat = m.metric_stat.as_ref().map(|s| {
                        let metric = s.metric.as_ref().map(|metric| {
                            cw::Metric::builder()
                                .set_namespace(metric.namespace.clone())
                                .set_metric_name(metric.metric_name.clone())
                                .set_dimensions(Some(dimensions(metric.dimensions.as_ref())))
                                .build()
                        });
                        cw::MetricStat::builder()
                            .set_metric(metric)
                            .set_period(s.period)
                            .set_stat(s.stat.clone())
                            .set_unit(s.unit.clone())
                            .build()
                    });
                    cw::MetricDataQuery::builder()
                        .set_id(m.id.clone())
                        .set_metric_stat(stat)
                        .set_expression(m.expression.clone())
                        .set_label(m.label.clone())
                        .set_return_data(m.return_data.or(defaults.then_some(true)))
                        .set_period(m.period)
                        .set_account_id(m.account_id.clone())
                        .build()
                })
                .collect()
        });
        let name = request.get_alarm_name().clone().unwrap();
        cw::MetricAlarm::builder()
            .alarm_arn(format!(
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
            ))
            .alarm_name(name)
            .set_alarm_description(request.get_alarm_description().clone())
            .actions_enabled(request.get_actions_enabled().unwrap_or(true))
            .set_ok_actions(reversed(request.get_ok_actions()))
            .set_alarm_actions(reversed(request.get_alarm_actions()))
            .set_insufficient_data_actions(reversed(request.get_insufficient_data_actions()))
            .state_value(cw::StateValue::InsufficientData)
            .state_reason("Unchecked: Initial alarm creation")
            .state_updated_timestamp(aws_smithy_types::DateTime::from_secs(1_700_000_000))
            .set_metric_name(request.get_metric_name().clone())
            .set_namespace(request.get_namespace().clone())
            .set_statistic(request.get_statistic().clone())
            .set_extended_statistic(request.get_extended_statistic().clone())
            .set_dimensions(Some(dimensions(request.get_dimensions().as_ref())))
            .set_period(*request.get_period())
            .set_unit(request.get_unit().clone())
            .set_evaluation_periods(*request.get_evaluation_periods())
            .set_datapoints_to_alarm(
                request
                    .get_datapoints_to_alarm()
                    .or((defaults && metric_alarm)
                        .then_some(*request.get_evaluation_periods())
                        .flatten()),
            )
            .set_threshold(*request.get_threshold())
            .set_comparison_operator(request.get_comparison_operator().clone())
            .set_treat_missing_data(
                request
                    .get_treat_missing_data()
                    .clone()
                    .or((defaults && metric_alarm).then(|| "missing".to_string())),
            )
            .set_evaluate_low_sample_count_percentile(
                request
                    .get_evaluate_low_sample_count_percentile()
                    .clone()
                    .or(defaults.then(String::new)),
            )
            .set_metrics(metrics)
            .set_threshold_metric_id(request.get_threshold_metric_id().clone())
            .set_evaluation_criteria(request.get_evaluation_criteria().clone())
            .set_evaluation_interval(*request.get_evaluation_interval())
            .set_evaluation_window(request.get_evaluation_window().clone().or(
                (defaults && metric_alarm).then(|| {
                    cw::EvaluationWindow::SlidingWindow(cw::SlidingWindow::builder().build())
                }),
            ))
            .set_warm_up_configuration(request.get_warm_up_configuration().clone())
            .set_action_configuration(request.get_action_configuration().clone())
            .state_transitioned_timestamp(aws_smithy_types::DateTime::from_secs(1_700_000_000))
            .build()
    }

    fn arn_lists() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            prop_oneof![
                "[a-z]{1,6}".prop_map(|t| format!("arn:aws:sns:us-east-1:123456789012:{t}")),
                Just("arn:aws:automate:us-east-1:ec2:stop".to_string()),
            ],
            0..4,
        )
    }

    fn dimensions() -> impl Strategy<Value = Vec<Dimension>> {
        proptest::collection::btree_map("[A-Za-z]{1,10}", "[a-z0-9-]{1,10}", 0..4).prop_map(|m| {
            m.into_iter()
                .map(|(name, value)| Dimension { name, value })
                .collect()
        })
    }

    fn unit() -> impl Strategy<Value = Option<StandardUnit>> {
        proptest::option::of(proptest::sample::select(vec![
            StandardUnit::Percent,
            StandardUnit::Count,
            StandardUnit::BytesPerSecond,
            StandardUnit::None,
        ]))
    }

    fn period() -> impl Strategy<Value = i32> {
        proptest::sample::select(vec![10, 30, 60, 300, 3600])
    }

    fn static_operator() -> impl Strategy<Value = ComparisonOperator> {
        proptest::sample::select(vec![
            ComparisonOperator::GreaterThanOrEqualToThreshold,
            ComparisonOperator::GreaterThanThreshold,
            ComparisonOperator::LessThanThreshold,
            ComparisonOperator::LessThanOrEqualToThreshold,
        ])
    }

    fn metric_stat() -> impl Strategy<Value = MetricStat> {
        (
            "AWS/[A-Z]{2,4}",
            "[A-Za-z]{1,10}",
            dimensions(),
            period(),
            prop_oneof![
                Just("Average"),
                Just("p99"),
                Just("Sum"),
                Just("TM(10%:90%)")
            ],
            unit(),
        )
            .prop_map(|(namespace, metric_name, dimensions, period, stat, unit)| {
                MetricStat {
                    metric: Metric {
                        namespace,
                        metric_name,
                        dimensions,
                    },
                    period,
                    stat: stat.into(),
                    unit,
                }
            })
    }

    /// The parts of an alarm that do not depend on its shape.
    #[derive(Clone, Debug)]
    struct Common {
        description: Option<String>,
        actions_enabled: bool,
        ok: Vec<String>,
        alarm: Vec<String>,
        insufficient: Vec<String>,
        warm_up: Option<WarmUpConfiguration>,
        propagation: Option<AlarmTagsPropagation>,
    }

    fn common() -> impl Strategy<Value = Common> {
        (
            proptest::option::of("[ -~]{0,20}"),
            any::<bool>(),
            arn_lists(),
            arn_lists(),
            arn_lists(),
            proptest::option::of((1..=1440i32, proptest::option::of(any::<bool>()))),
            proptest::option::of((
                any::<bool>(),
                proptest::collection::vec("[a-z]{1,5}", 0..3),
                any::<bool>(),
            )),
        )
            .prop_map(
                |(description, actions_enabled, ok, alarm, insufficient, warm_up, propagation)| {
                    Common {
                        description,
                        actions_enabled,
                        ok,
                        alarm,
                        insufficient,
                        warm_up: warm_up.map(|(minutes, only_after)| WarmUpConfiguration {
                            warm_up_period_duration_in_minutes: minutes,
                            only_start_evaluating_after_warm_up_period_ends: only_after,
                        }),
                        propagation: propagation.map(|(enabled, keys, include)| {
                            AlarmTagsPropagation {
                                enabled,
                                included_tag_keys: if include { keys.clone() } else { vec![] },
                                excluded_tag_keys: if include { vec![] } else { keys },
                            }
                        }),
                    }
                },
            )
    }

    /// The fields of a metric (not PromQL) alarm's condition.
    fn condition() -> impl Strategy<Value = (i32, Option<i32>, Option<TreatMissingData>, bool)> {
        (1..=5i32, 0..=5i32, any::<bool>()).prop_flat_map(|(periods, m, wall_clock)| {
            (
                Just(periods),
                proptest::option::of(Just(m.clamp(1, periods))),
                proptest::option::of(proptest::sample::select(vec![
                    TreatMissingData::Missing,
                    TreatMissingData::Ignore,
                    TreatMissingData::Breaching,
                    TreatMissingData::NotBreaching,
                ])),
                Just(wall_clock),
            )
        })
    }

    fn single_metric() -> impl Strategy<Value = AlarmSpec> {
        (
            "[A-Za-z]{1,12}",
            "(AWS|Custom)/[A-Za-z]{1,6}",
            dimensions(),
            prop_oneof![
                proptest::sample::select(vec![
                    Statistic::SampleCount,
                    Statistic::Average,
                    Statistic::Sum,
                    Statistic::Minimum,
                    Statistic::Maximum,
                ])
                .prop_map(|s| (Some(s), None)),
                prop_oneof![Just("p99"), Just("p99.9"), Just("tm90"), Just("IQM")]
                    .prop_map(|e| (None, Some(e.to_string()))),
            ],
            proptest::sample::select(vec![60, 300, 3600]),
            unit(),
            (-1e6..1e6f64, static_operator(), condition()),
            proptest::option::of(proptest::sample::select(vec![
                EvaluateLowSampleCountPercentile::Evaluate,
                EvaluateLowSampleCountPercentile::Ignore,
            ])),
        )
            .prop_map(
                |(
                    metric_name,
                    namespace,
                    dimensions,
                    (statistic, extended_statistic),
                    period,
                    unit,
                    (threshold, operator, (periods, datapoints, missing, wall_clock)),
                    low_samples,
                )| AlarmSpec {
                    evaluate_low_sample_count_percentile: extended_statistic
                        .as_ref()
                        .and(low_samples),
                    metric_name: Some(metric_name),
                    namespace: Some(namespace),
                    dimensions,
                    statistic,
                    extended_statistic,
                    period: Some(period),
                    unit,
                    threshold: Some(threshold),
                    comparison_operator: Some(operator),
                    evaluation_periods: Some(periods),
                    datapoints_to_alarm: datapoints,
                    treat_missing_data: missing,
                    evaluation_window: wall_clock.then(|| EvaluationWindow {
                        wall_clock_window: Some(WallClockWindow {
                            timezone: Some("Europe/Paris".into()),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )
    }

    fn metric_math() -> impl Strategy<Value = AlarmSpec> {
        (
            proptest::collection::vec(
                (
                    metric_stat(),
                    proptest::option::of("[ -~]{0,12}"),
                    proptest::option::of(Just("111122223333".to_string())),
                ),
                1..4,
            ),
            any::<bool>(),
            proptest::option::of(Just(60)),
            -1e6..1e6f64,
            static_operator(),
            condition(),
        )
            .prop_map(
                |(stats, anomaly, expression_period, threshold, operator, condition)| {
                    let (periods, datapoints, missing, _) = condition;
                    let mut metrics: Vec<MetricDataQuery> = stats
                        .into_iter()
                        .enumerate()
                        .map(|(i, (stat, label, account))| MetricDataQuery {
                            id: format!("m{i}"),
                            metric_stat: Some(stat),
                            label,
                            return_data: Some(false),
                            account_id: account,
                            ..Default::default()
                        })
                        .collect();
                    let (expression, operator, threshold, threshold_metric_id) = if anomaly {
                        (
                            "ANOMALY_DETECTION_BAND(m0, 2)",
                            ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold,
                            None,
                            Some("e1".to_string()),
                        )
                    } else {
                        ("SUM(METRICS())", operator, Some(threshold), None)
                    };
                    metrics.push(MetricDataQuery {
                        id: "e1".into(),
                        expression: Some(expression.into()),
                        // ReturnData left to its default (true) half of the time.
                        return_data: if periods % 2 == 0 { Some(true) } else { None },
                        period: expression_period,
                        ..Default::default()
                    });
                    AlarmSpec {
                        metrics,
                        threshold,
                        threshold_metric_id,
                        comparison_operator: Some(operator),
                        evaluation_periods: Some(periods),
                        datapoints_to_alarm: datapoints,
                        treat_missing_data: missing,
                        ..Default::default()
                    }
                },
            )
    }

    fn promql() -> impl Strategy<Value = AlarmSpec> {
        (
            "[a-z_]{1,12}",
            proptest::option::of(0..=3600i32),
            proptest::option::of(0..=3600i32),
            proptest::sample::select(vec![10, 30, 60, 120]),
        )
            .prop_map(|(metric, pending, recovery, interval)| AlarmSpec {
                evaluation_criteria: Some(EvaluationCriteria {
                    prom_ql_criteria: Some(PromQlCriteria {
                        query: format!("sum(rate({metric}[5m])) > 1"),
                        pending_period: pending,
                        recovery_period: recovery,
                    }),
                }),
                evaluation_interval: Some(interval),
                ..Default::default()
            })
    }

    fn alarm_spec() -> impl Strategy<Value = AlarmSpec> {
        (
            prop_oneof![single_metric(), metric_math(), promql()],
            common(),
        )
            .prop_map(|(shape, c)| AlarmSpec {
                description: c.description,
                actions_enabled: c.actions_enabled,
                ok_actions: c.ok,
                alarm_actions: c.alarm,
                insufficient_data_actions: c.insufficient,
                warm_up_configuration: c.warm_up,
                action_configuration: c.propagation.map(|p| ActionConfiguration {
                    alarm_tags_propagation: Some(p),
                }),
                ..shape
            })
    }

    fn round_trip(spec: &AlarmSpec, defaults: bool) -> (AlarmConfig, AlarmConfig) {
        let d = desired(spec, "a");
        let request = put_request(client().put_metric_alarm(), &d.name, &d.fields, None);
        (d, observed(&aws_after_put(&request, defaults)))
    }

    proptest! {
        #[test]
        fn an_alarm_just_put_reads_back_as_its_desired_configuration(
            spec in alarm_spec(),
            defaults in any::<bool>(),
        ) {
            let (d, o) = round_trip(&spec, defaults);
            prop_assert_eq!(&o, &d);
            prop_assert!(plan(&d, Some(&o), &BTreeMap::new(), None).is_empty());
        }

        #[test]
        fn a_field_changed_in_aws_reads_back_as_a_change(spec in single_metric()) {
            let d = desired(&spec, "a");
            let request = put_request(client().put_metric_alarm(), &d.name, &d.fields, None);
            let stored = aws_after_put(&request, true);
            let changed = cw::MetricAlarm::builder()
                .set_alarm_name(stored.alarm_name.clone())
                .set_threshold(stored.threshold.map(|t| t + 1.0))
                .set_metric_name(stored.metric_name.clone())
                .set_namespace(stored.namespace.clone())
                .set_statistic(stored.statistic.clone())
                .set_extended_statistic(stored.extended_statistic.clone())
                .set_dimensions(stored.dimensions.clone())
                .set_period(stored.period)
                .set_unit(stored.unit.clone())
                .set_evaluation_periods(stored.evaluation_periods)
                .set_datapoints_to_alarm(stored.datapoints_to_alarm)
                .set_comparison_operator(stored.comparison_operator.clone())
                .set_treat_missing_data(stored.treat_missing_data.clone())
                .set_evaluate_low_sample_count_percentile(
                    stored.evaluate_low_sample_count_percentile.clone(),
                )
                .set_evaluation_window(stored.evaluation_window.clone())
                .set_actions_enabled(stored.actions_enabled)
                .set_alarm_description(stored.alarm_description.clone())
                .set_ok_actions(stored.ok_actions.clone())
                .set_alarm_actions(stored.alarm_actions.clone())
                .set_insufficient_data_actions(stored.insufficient_data_actions.clone())
                .build();
            let p = plan(&d, Some(&observed(&changed)), &BTreeMap::new(), None);
            prop_assert_eq!(
                p.change,
                Some(crate::plan::Change::Update { fields: vec!["threshold".into()] })
            );
        }
    }
}
