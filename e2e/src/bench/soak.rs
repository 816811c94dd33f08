//! The churn of the soak scenario: once a period, a few objects are edited through the API server
//! and a few AWS objects are changed behind the operator's back (an alarm's threshold, an alarm
//! deleted, a metric stream stopped, a sampling rule's rate, a subscription filter deleted), as a
//! busy account sees. What was changed is remembered, so that the end of the soak can check that
//! every out-of-band change was put back and every edit reached AWS.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context, Result};
use aws_types::SdkConfig;
use serde_json::json;

use super::fleet::{
    COMPOSITE_CHILDREN, Cluster, Fleet, Kind, THRESHOLD, alarm_name, composite_name, log_group,
    log_subscription_name, metric_stream_name, sampling_rule_name,
};

/// How long a soak runs, and how often it changes things.
#[derive(Clone, Copy, Debug)]
pub struct Soak {
    pub duration: Duration,
    /// One round of edits and out-of-band changes per period.
    pub period: Duration,
}

impl Soak {
    /// Whole periods in the duration (at least one).
    pub fn periods(&self) -> usize {
        ((self.duration.as_secs_f64() / self.period.as_secs_f64()).round() as usize).max(1)
    }
}

/// The threshold written behind the operator's back.
const OUT_OF_BAND_THRESHOLD: f64 = 999_999.0;
/// The rate written behind the operator's back.
const OUT_OF_BAND_RATE: f64 = 0.99;
/// A sampling rule's rate in the fleet's manifests.
const RULE_RATE: f64 = 0.05;

/// What one period changed.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Changes {
    /// Objects edited through the API server.
    pub edits: usize,
    /// AWS objects changed or deleted out of band.
    pub out_of_band: usize,
    /// The benchmark's own AWS calls, `service:Operation` → calls: taken out of the operator's
    /// figures.
    pub aws_calls: BTreeMap<String, u64>,
}

/// The changes made so far and what each object should look like in AWS once the operator has
/// caught up.
pub struct Churn {
    fleet: Fleet,
    /// Alarm index → the threshold its spec holds, for every alarm touched.
    thresholds: BTreeMap<usize, f64>,
    /// Alarms deleted out of band.
    deleted_alarms: BTreeSet<usize>,
    /// Metric streams stopped out of band.
    stopped_streams: BTreeSet<usize>,
    /// Sampling rule index → the rate its spec holds, for every rule touched.
    rule_rates: BTreeMap<usize, f64>,
    /// Subscription filters deleted out of band.
    deleted_filters: BTreeSet<usize>,
}

impl Churn {
    pub fn new(fleet: Fleet) -> Churn {
        Churn {
            fleet,
            thresholds: BTreeMap::new(),
            deleted_alarms: BTreeSet::new(),
            stopped_streams: BTreeSet::new(),
            rule_rates: BTreeMap::new(),
            deleted_filters: BTreeSet::new(),
        }
    }

    /// Alarms no composite names: only those can be deleted out of band (AWS refuses to delete
    /// an alarm a composite's rule still names).
    fn unreferenced_alarms(&self) -> std::ops::Range<usize> {
        let referenced = (self.fleet.composite_alarms * COMPOSITE_CHILDREN).min(self.fleet.alarms);
        referenced..self.fleet.alarms
    }

    /// Period `k`'s changes: one alarm in a hundred gets a new threshold (at least one), one
    /// composite a new description and one sampling rule a new rate, through the API server;
    /// in AWS, one alarm's threshold is changed and one unreferenced alarm deleted, one metric
    /// stream stopped, one sampling rule's rate changed and one subscription filter deleted.
    pub async fn period(
        &mut self,
        k: usize,
        cluster: &Cluster,
        sdk: &SdkConfig,
    ) -> Result<Changes> {
        let mut changes = Changes::default();
        let f = self.fleet;
        if f.alarms > 0 {
            let n = (f.alarms / 100).max(1);
            let threshold = edited_threshold(k);
            let edited: Vec<usize> = (0..n).map(|j| (k * n + j) % f.alarms).collect();
            let names: Vec<String> = edited.iter().map(|i| alarm_name(*i)).collect();
            cluster.set_thresholds(&names, threshold).await?;
            for i in edited {
                self.thresholds.insert(i, threshold);
            }
            changes.edits += n;
        }
        if f.composite_alarms > 0 {
            let name = composite_name(k % f.composite_alarms);
            let patch = json!({"spec": {"description": format!("edited in period {k}")}});
            cluster
                .merge_patch(Kind::CompositeAlarm, &name, patch)
                .await?;
            changes.edits += 1;
        }
        if f.sampling_rules > 0 {
            let i = (k + 1) % f.sampling_rules;
            let rate = edited_rate(k);
            let patch = json!({"spec": {"fixedRate": rate}});
            cluster
                .merge_patch(Kind::SamplingRule, &sampling_rule_name(i), patch)
                .await?;
            self.rule_rates.insert(i, rate);
            changes.edits += 1;
        }
        self.out_of_band(k, sdk, &mut changes).await?;
        Ok(changes)
    }

    async fn out_of_band(
        &mut self,
        k: usize,
        sdk: &SdkConfig,
        changes: &mut Changes,
    ) -> Result<()> {
        let f = self.fleet;
        let mut call = |operation: &str| {
            *changes.aws_calls.entry(operation.to_string()).or_default() += 1;
        };
        let cw = aws_sdk_cloudwatch::Client::new(sdk);
        if f.alarms > 0 {
            // A threshold changed in the console: the alarm's whole configuration put back with
            // another threshold (PutMetricAlarm replaces everything).
            let i = (k * 7 + 3) % f.alarms;
            let name = alarm_name(i);
            call("cloudwatch:DescribeAlarms");
            let found = cw.describe_alarms().alarm_names(&name).send().await?;
            let a = found
                .metric_alarms()
                .first()
                .with_context(|| format!("alarm {name} is not in AWS"))?;
            call("cloudwatch:PutMetricAlarm");
            cw.put_metric_alarm()
                .alarm_name(&name)
                .set_alarm_description(a.alarm_description.clone())
                .set_actions_enabled(a.actions_enabled)
                .set_alarm_actions(Some(a.alarm_actions().to_vec()))
                .set_namespace(a.namespace.clone())
                .set_metric_name(a.metric_name.clone())
                .set_dimensions(Some(a.dimensions().to_vec()))
                .set_statistic(a.statistic.clone())
                .set_period(a.period)
                .set_evaluation_periods(a.evaluation_periods)
                .set_datapoints_to_alarm(a.datapoints_to_alarm)
                .set_comparison_operator(a.comparison_operator.clone())
                .set_treat_missing_data(a.treat_missing_data.clone())
                .threshold(OUT_OF_BAND_THRESHOLD)
                .send()
                .await
                .with_context(|| format!("changing alarm {name} out of band"))?;
            self.thresholds.entry(i).or_insert(THRESHOLD);
            changes.out_of_band += 1;
        }
        let free = self.unreferenced_alarms();
        if !free.is_empty() {
            let i = free.start + k % free.len();
            call("cloudwatch:DeleteAlarms");
            cw.delete_alarms()
                .alarm_names(alarm_name(i))
                .send()
                .await
                .with_context(|| format!("deleting alarm {} out of band", alarm_name(i)))?;
            self.deleted_alarms.insert(i);
            changes.out_of_band += 1;
        }
        if f.metric_streams > 0 {
            let i = k % f.metric_streams;
            call("cloudwatch:StopMetricStreams");
            cw.stop_metric_streams()
                .names(metric_stream_name(i))
                .send()
                .await
                .with_context(|| format!("stopping {} out of band", metric_stream_name(i)))?;
            self.stopped_streams.insert(i);
            changes.out_of_band += 1;
        }
        if f.sampling_rules > 0 {
            let i = k % f.sampling_rules;
            call("xray:UpdateSamplingRule");
            aws_sdk_xray::Client::new(sdk)
                .update_sampling_rule()
                .sampling_rule_update(
                    aws_sdk_xray::types::SamplingRuleUpdate::builder()
                        .rule_name(sampling_rule_name(i))
                        .fixed_rate(OUT_OF_BAND_RATE)
                        .build(),
                )
                .send()
                .await
                .with_context(|| format!("changing {} out of band", sampling_rule_name(i)))?;
            self.rule_rates.entry(i).or_insert(RULE_RATE);
            changes.out_of_band += 1;
        }
        if f.log_subscriptions > 0 {
            let i = k % f.log_subscriptions;
            call("logs:DeleteSubscriptionFilter");
            aws_sdk_cloudwatchlogs::Client::new(sdk)
                .delete_subscription_filter()
                .log_group_name(log_group(i))
                .filter_name(log_subscription_name(i))
                .send()
                .await
                .with_context(|| format!("deleting {} out of band", log_subscription_name(i)))?;
            self.deleted_filters.insert(i);
            changes.out_of_band += 1;
        }
        Ok(())
    }

    /// What AWS does not show as the specs say, among everything the churn touched: a threshold
    /// or a rate not put back (or an edit not applied), an alarm or a filter not recreated, a
    /// stream not running. Empty once the operator has caught up.
    pub async fn not_put_back(&self, sdk: &SdkConfig) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let cw = aws_sdk_cloudwatch::Client::new(sdk);
        let mut alarms: BTreeSet<usize> = self.thresholds.keys().copied().collect();
        alarms.extend(&self.deleted_alarms);
        let alarms: Vec<usize> = alarms.into_iter().collect();
        for chunk in alarms.chunks(100) {
            // DescribeAlarms answers 50 alarms a page unless asked for more.
            let mut thresholds: BTreeMap<String, Option<f64>> = BTreeMap::new();
            let mut pages = cw
                .describe_alarms()
                .set_alarm_names(Some(chunk.iter().map(|i| alarm_name(*i)).collect()))
                .max_records(100)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                thresholds.extend(
                    page?
                        .metric_alarms()
                        .iter()
                        .map(|a| (a.alarm_name.clone().unwrap_or_default(), a.threshold)),
                );
            }
            for i in chunk {
                let want = self.thresholds.get(i).copied().unwrap_or(THRESHOLD);
                match thresholds.get(&alarm_name(*i)) {
                    None => out.push(format!("alarm {} missing", alarm_name(*i))),
                    Some(t) if *t != Some(want) => out.push(format!(
                        "alarm {} threshold {t:?}, spec {want}",
                        alarm_name(*i)
                    )),
                    Some(_) => {}
                }
            }
        }
        for i in &self.stopped_streams {
            let name = metric_stream_name(*i);
            let state = cw
                .get_metric_stream()
                .name(&name)
                .send()
                .await
                .ok()
                .and_then(|s| s.state);
            if !state
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("running"))
            {
                out.push(format!("metric stream {name} is {state:?}"));
            }
        }
        if !self.rule_rates.is_empty() {
            let mut rates = BTreeMap::new();
            let mut pages = aws_sdk_xray::Client::new(sdk)
                .get_sampling_rules()
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for rule in page?.sampling_rule_records() {
                    if let Some(r) = rule.sampling_rule() {
                        rates.insert(r.rule_name.clone().unwrap_or_default(), r.fixed_rate);
                    }
                }
            }
            for (i, want) in &self.rule_rates {
                let name = sampling_rule_name(*i);
                match rates.get(&name) {
                    Some(rate) if (rate - want).abs() < 1e-9 => {}
                    rate => out.push(format!("sampling rule {name} rate {rate:?}, spec {want}")),
                }
            }
        }
        let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
        for i in &self.deleted_filters {
            let name = log_subscription_name(*i);
            let found = logs
                .describe_subscription_filters()
                .log_group_name(log_group(*i))
                .filter_name_prefix(&name)
                .send()
                .await?;
            if !found
                .subscription_filters()
                .iter()
                .any(|f| f.filter_name.as_deref() == Some(name.as_str()))
            {
                out.push(format!("subscription filter {name} missing"));
            }
        }
        Ok(out)
    }
}

/// The threshold period `k` gives the alarms it edits, and the rate it gives a sampling rule:
/// values no earlier period set, since an edit that repeats a value is no edit at all (the
/// generation does not move).
fn edited_threshold(k: usize) -> f64 {
    THRESHOLD + 1.0 + k as f64
}

fn edited_rate(k: usize) -> f64 {
    RULE_RATE + 0.001 * (k + 1) as f64
}

/// `end - begin` per operation, less the benchmark's own calls: the operator's AWS calls over a
/// period.
pub fn operator_calls(
    begin: &BTreeMap<String, u64>,
    end: &BTreeMap<String, u64>,
    benchmark: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    end.iter()
        .filter_map(|(op, n)| {
            let d = n
                .saturating_sub(begin.get(op).copied().unwrap_or_default())
                .saturating_sub(benchmark.get(op).copied().unwrap_or_default());
            (d > 0).then(|| (op.clone(), d))
        })
        .collect()
}

/// The alarm names a fleet's composites name, for a check of the churn's choice.
#[cfg(test)]
fn referenced(f: &Fleet) -> BTreeSet<String> {
    f.manifests()
        .iter()
        .filter(|(k, _)| *k == Kind::CompositeAlarm)
        .flat_map(|(_, m)| {
            m["spec"]["rule"]["anyOf"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["alarm"]["alarmRef"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_alarms_no_composite_names_are_deleted_out_of_band() {
        for fleet in [
            super::super::scenario::soak_fleet(false),
            super::super::scenario::soak_fleet(true),
        ] {
            let churn = Churn::new(fleet);
            let free = churn.unreferenced_alarms();
            assert!(!free.is_empty(), "{fleet:?}");
            let named = referenced(&fleet);
            for i in free {
                assert!(
                    !named.contains(&alarm_name(i)),
                    "{} is a child",
                    alarm_name(i)
                );
            }
            assert!(named.contains(&alarm_name(churn.unreferenced_alarms().start - 1)));
        }
    }

    #[test]
    fn every_period_edits_to_values_no_earlier_period_set() {
        let periods = Soak {
            duration: Duration::from_secs(1800),
            period: Duration::from_secs(60),
        }
        .periods();
        let thresholds: BTreeSet<u64> = (0..periods).map(|k| edited_threshold(k) as u64).collect();
        let rates: BTreeSet<u64> = (0..periods)
            .map(|k| (edited_rate(k) * 1e6).round() as u64)
            .collect();
        assert_eq!((thresholds.len(), rates.len()), (periods, periods));
        assert!(!thresholds.contains(&(THRESHOLD as u64)));
        assert!((0..periods).all(|k| edited_rate(k) != RULE_RATE && edited_rate(k) <= 1.0));
    }

    #[tokio::test]
    async fn the_check_after_the_soak_reads_every_alarm_it_touched() {
        // DescribeAlarms answers 50 alarms a page by default: a check that read one page would
        // call the other 70 missing.
        let emulator =
            cwo_e2e::operator::EmulatorHandle::start(cwo_emulator::EmulatorConfig::default())
                .unwrap();
        let sdk = cwo_e2e::operator::sdk_config(&emulator.endpoint());
        let cw = aws_sdk_cloudwatch::Client::new(&sdk);
        let mut churn = Churn::new(Fleet::alarms(120));
        for i in 0..120 {
            cw.put_metric_alarm()
                .alarm_name(alarm_name(i))
                .namespace("Bench/Service")
                .metric_name("Latency")
                .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
                .period(60)
                .evaluation_periods(1)
                .threshold(THRESHOLD)
                .comparison_operator(
                    aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold,
                )
                .send()
                .await
                .unwrap();
            churn.thresholds.insert(i, THRESHOLD);
        }
        assert_eq!(
            churn.not_put_back(&sdk).await.unwrap(),
            Vec::<String>::new()
        );
        churn.thresholds.insert(119, THRESHOLD + 1.0);
        churn.deleted_alarms.insert(120);
        assert_eq!(
            churn.not_put_back(&sdk).await.unwrap(),
            [
                format!("alarm {} threshold Some(100.0), spec 101", alarm_name(119)),
                format!("alarm {} missing", alarm_name(120)),
            ]
        );
    }

    #[test]
    fn the_benchmarks_own_calls_are_taken_out() {
        let begin = BTreeMap::from([("cloudwatch:DescribeAlarms".to_string(), 10)]);
        let end = BTreeMap::from([
            ("cloudwatch:DescribeAlarms".to_string(), 17),
            ("cloudwatch:PutMetricAlarm".to_string(), 3),
        ]);
        let bench = BTreeMap::from([
            ("cloudwatch:DescribeAlarms".to_string(), 1),
            ("cloudwatch:PutMetricAlarm".to_string(), 1),
        ]);
        assert_eq!(
            operator_calls(&begin, &end, &bench),
            BTreeMap::from([
                ("cloudwatch:DescribeAlarms".to_string(), 6),
                ("cloudwatch:PutMetricAlarm".to_string(), 2)
            ])
        );
    }
}
