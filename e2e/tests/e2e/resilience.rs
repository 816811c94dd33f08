//! Failures the operator must ride out on the real API server and the emulator: a storm of
//! throttling and 5xx answers from AWS, a leader killed with a standby waiting, and a namespace
//! deleted with many managed objects in it.

use std::time::{Duration, Instant};

use anyhow::Result;
use aws_sdk_cloudwatch::types::AlarmType;
use cwo_e2e::operator::{OperatorOptions, OperatorProcess, Scenario};
use cwo_emulator::{EmulatorConfig, FaultSettings};

use crate::scale::{alarms, composites_over, ready_count, wait_all_ready, wait_ready_count};

/// Every alarm (metric and composite) in the emulator's default account and region.
async fn aws_alarm_names(s: &Scenario) -> Result<Vec<String>> {
    let cw = aws_sdk_cloudwatch::Client::new(&s.sdk);
    let mut names = Vec::new();
    let mut pages = cw
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page?;
        names.extend(
            page.metric_alarms()
                .iter()
                .filter_map(|a| a.alarm_name.clone()),
        );
        names.extend(
            page.composite_alarms()
                .iter()
                .filter_map(|a| a.alarm_name.clone()),
        );
    }
    names.sort();
    Ok(names)
}

/// `(reason, count)` of every reconcile error the operator counted, from its metrics.
fn error_reasons(s: &Scenario) -> Result<Vec<(String, f64)>> {
    let by_reason =
        s.operator_scrape()?
            .grouped("cwo_reconcile_errors_total", &["reason"], |_| true)?;
    Ok(by_reason
        .into_iter()
        .filter(|(_, count)| *count > 0.0)
        .collect())
}

#[tokio::test]
async fn a_storm_of_throttling_and_5xx_answers_delays_but_never_fails_or_duplicates() -> Result<()>
{
    let resync = Duration::from_secs(3);
    let s = Scenario::start_with(
        "resilience-storm",
        EmulatorConfig::default(),
        OperatorOptions {
            resync_period: resync,
            ..Default::default()
        },
    )
    .await?;
    // One call in two fails: a quarter throttled, a quarter HTTP 500 or 503, on every operation
    // the operator makes (reads, writes, tags, deletes).
    s.emulator.inner().set_faults(FaultSettings {
        throttle_rate: 0.25,
        internal_error_rate: 0.125,
        unavailable_rate: 0.125,
        ..Default::default()
    })?;
    s.apply_yaml(&alarms("storm", 30, ""))?;
    s.apply_yaml(&composites_over("storm", 3))?;
    wait_all_ready(&s, 30).await?;
    wait_ready_count(&s, "compositealarms", 3).await?;

    let calls = s.emulator.calls();
    let injected: u64 = calls
        .services
        .values()
        .flat_map(|ops| ops.values())
        .map(|c| c.injected)
        .sum();
    let reasons = error_reasons(&s)?;
    cwo_e2e::report(&format!(
        "storm: {} AWS calls, {injected} answered with injected faults; reconcile errors {reasons:?}",
        calls.total()
    ));
    assert!(
        injected >= 20,
        "the storm reached the operator: {injected} faults in {calls:?}"
    );
    // Throttling and server errors are recoverable: whatever ran out of SDK retries requeued,
    // nothing ended in a terminal reason.
    for (reason, count) in &reasons {
        assert!(
            ["Throttled", "AwsUnavailable", "DependencyNotReady"].contains(&reason.as_str()),
            "{count} reconciles ended in {reason}, which is not a recoverable reason"
        );
    }

    // The storm passes: the fleet is exactly what was applied, and idle resyncs write nothing.
    s.emulator.inner().set_faults(FaultSettings::default())?;
    let names = aws_alarm_names(&s).await?;
    assert_eq!(
        names.len(),
        33,
        "30 alarms and 3 composites in AWS: {names:?}"
    );
    tokio::time::sleep(resync * 2).await;
    s.emulator.reset_calls();
    tokio::time::sleep(resync * 3).await;
    let calls = s.emulator.calls();
    assert_eq!(
        calls.writes(),
        0,
        "idle resyncs after the storm write nothing: {calls:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_standby_replica_takes_over_when_the_leader_is_killed() -> Result<()> {
    let mut s = Scenario::without_operator(
        "resilience-failover",
        EmulatorConfig::default(),
        OperatorOptions::default(),
    )?;
    let options = OperatorOptions {
        leader_election: Some((s.namespace().to_string(), "cwo-failover".to_string())),
        ..Default::default()
    };
    s.set_operator_options(options.clone());
    s.start_operator()?;
    s.wait_for("the first replica to lead", Duration::from_secs(60), || {
        Ok(s.operator_logs().contains("became leader").then_some(()))
    })
    .await?;
    let standby_log = std::env::temp_dir().join(format!("cwo-standby-{}.log", std::process::id()));
    let mut standby = OperatorProcess::start(
        s.bed,
        Some(s.namespace()),
        &s.emulator.endpoint(),
        &options,
        &standby_log,
    )?;

    s.apply_yaml(&alarms("before", 3, ""))?;
    wait_all_ready(&s, 3).await?;
    let log = standby.log();
    assert!(
        log.contains("waiting for leadership") && !log.contains("became leader"),
        "the standby waits while the leader lives:\n{log}"
    );
    let standby_metrics = standby.scrape()?;
    assert_eq!(
        standby_metrics.sum("cwo_reconciles_total", &[])?,
        0.0,
        "the standby reconciles nothing while it waits"
    );
    assert_eq!(
        standby_metrics.sum("cwo_aws_calls_total", &[])?,
        0.0,
        "the standby calls AWS for nothing while it waits"
    );

    // kill -9: the leader cannot release its Lease; the standby takes over once it expires.
    s.operator().kill();
    let killed = Instant::now();
    s.emulator.reset_calls();
    s.apply_yaml(&alarms("after", 1, ""))?;
    s.wait_ready("alarm", "after-000").await?;
    let took = killed.elapsed();
    cwo_e2e::report(&format!(
        "leader killed: the standby made a new alarm Ready {:.1} s later (Lease 15 s)",
        took.as_secs_f64()
    ));
    assert!(
        standby.log().contains("became leader"),
        "the standby took the lead"
    );
    assert_eq!(ready_count(&s, "alarms")?, 4, "every alarm stays Ready");
    let puts = s.emulator.calls().total_of("cloudwatch", "PutMetricAlarm");
    assert_eq!(
        puts, 1,
        "the new leader writes the new alarm only, not the three it found Ready"
    );
    standby.kill();
    let _ = std::fs::remove_file(standby_log);
    Ok(())
}

#[tokio::test]
async fn deleting_a_namespace_removes_every_aws_object_composites_first_then_completes()
-> Result<()> {
    let s = Scenario::start_with(
        "resilience-namespace",
        EmulatorConfig::default(),
        OperatorOptions {
            extra_args: vec!["--no-aws-rate-limits".into()],
            ..Default::default()
        },
    )
    .await?;
    s.apply_yaml(&alarms("fleet", 60, ""))?;
    s.apply_yaml(&composites_over("fleet", 6))?;
    wait_all_ready(&s, 60).await?;
    wait_ready_count(&s, "compositealarms", 6).await?;
    assert_eq!(aws_alarm_names(&s).await?.len(), 66);

    // The namespace controller deletes every object at once; composites must still go before
    // the alarms they name, and the operator must cope with a namespace that refuses new Events.
    let namespace = s.namespace().to_string();
    let started = Instant::now();
    s.bed
        .kubectl(["delete", "namespace", &namespace, "--wait=false"])?
        .ok()?;
    s.wait_for(
        "the namespace to be deleted",
        Duration::from_secs(180),
        || {
            let out = s
                .bed
                .kubectl(["get", "namespace", &namespace, "-o", "name"])?;
            Ok((!out.success() && out.stderr.contains("NotFound")).then_some(()))
        },
    )
    .await?;
    cwo_e2e::report(&format!(
        "namespace with 66 alarms deleted in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let left = aws_alarm_names(&s).await?;
    assert!(left.is_empty(), "alarms left in AWS: {left:?}");
    let refused = s
        .emulator
        .calls()
        .operation("cloudwatch", "DeleteAlarms")
        .errors;
    assert!(
        refused.is_empty(),
        "no deletion was refused for naming a child before its composite: {refused:?}"
    );
    Ok(())
}
