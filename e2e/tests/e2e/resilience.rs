//! Failures the operator must ride out on the real API server and the emulator: a storm of
//! throttling and 5xx answers from AWS, a leader killed with a standby waiting, a namespace
//! deleted with many managed objects in it, and the API server and etcd restarting under it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use aws_sdk_cloudwatch::types::AlarmType;
use cwo_e2e::operator::{OperatorOptions, OperatorProcess, Scenario};
use cwo_e2e::{Component, Stop};
use cwo_emulator::{EmulatorConfig, FaultSettings};
use serde_json::Value;

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

/// A custom SamplingRule (X-Ray's create is not an upsert: a create repeated after a lost status
/// write would fail or duplicate).
fn sampling_rule(name: &str, priority: u32) -> String {
    format!(
        "apiVersion: cwo.dev/v1alpha1\nkind: SamplingRule\nmetadata:\n  name: {name}\nspec:\n  \
         priority: {priority}\n  fixedRate: 0.05\n  reservoirSize: 1\n  serviceName: {name}\n"
    )
}

/// `status` of every object of `kind` (plural) in the scenario's namespace, by name.
fn statuses(s: &Scenario, kind: &str) -> Result<BTreeMap<String, Value>> {
    let out = s.kubectl(["get", kind, "-o", "json"])?.ok()?;
    let list: Value = serde_json::from_str(&out.stdout)?;
    Ok(list["items"]
        .as_array()
        .context("a list")?
        .iter()
        .map(|o| {
            (
                o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                o["status"].clone(),
            )
        })
        .collect())
}

/// Names of the X-Ray sampling rules in the emulator's default region, Default included.
async fn sampling_rule_names(s: &Scenario) -> Result<Vec<String>> {
    let xr = aws_sdk_xray::Client::new(&s.sdk);
    let mut names = Vec::new();
    let mut pages = xr.get_sampling_rules().into_paginator().send();
    while let Some(page) = pages.next().await {
        names.extend(
            page?
                .sampling_rule_records()
                .iter()
                .filter_map(|r| r.sampling_rule()?.rule_name.clone()),
        );
    }
    names.sort();
    Ok(names)
}

/// Raises the threshold of the alarm `name` (a new generation to converge).
fn edit_threshold(s: &Scenario, name: &str, threshold: u32) -> Result<()> {
    s.kubectl([
        "patch",
        "alarm",
        name,
        "--type=merge",
        "-p",
        &format!("{{\"spec\":{{\"threshold\":{threshold}}}}}"),
    ])?
    .ok()?;
    Ok(())
}

/// Status writes of the kinds under test, by kind.
fn status_writes(s: &Scenario) -> Result<BTreeMap<&'static str, u64>> {
    ["Alarm", "CompositeAlarm", "SamplingRule"]
        .into_iter()
        .map(|kind| Ok((kind, s.status_writes(kind)?)))
        .collect()
}

#[tokio::test]
async fn the_api_server_and_etcd_restart_under_a_running_operator_which_converges_without_duplicates_or_spurious_status()
-> Result<()> {
    let resync = Duration::from_secs(3);
    // With leader election, as the chart runs it: the Lease cannot be renewed during the
    // outages either.
    let mut s = Scenario::start_on_own_bed(
        "resilience-control-plane",
        EmulatorConfig::default(),
        OperatorOptions {
            resync_period: resync,
            leader_election: Some(("kube-system".into(), "cwo-restarts".into())),
            ..Default::default()
        },
    )
    .await?;
    s.apply_yaml(&alarms("before", 20, ""))?;
    s.apply_yaml(&composites_over("before", 2))?;
    s.apply_yaml(&sampling_rule("rule-before", 100))?;
    wait_all_ready(&s, 20).await?;
    wait_ready_count(&s, "compositealarms", 2).await?;
    wait_ready_count(&s, "samplingrules", 1).await?;
    // One resync settles whatever the creates left to say.
    tokio::time::sleep(resync * 2).await;
    let untouched_before = (
        statuses(&s, "alarms")?,
        statuses(&s, "compositealarms")?,
        statuses(&s, "samplingrules")?,
    );
    let writes_before = status_writes(&s)?;
    s.emulator.reset_calls();

    // kube-apiserver killed while the operator works on new objects and an edit: their
    // finalizer and status writes fail, the watches break mid-stream.
    s.apply_yaml(&alarms("during-apiserver", 3, ""))?;
    s.apply_yaml(&sampling_rule("rule-during-apiserver", 101))?;
    edit_threshold(&s, "before-000", 500)?;
    s.bed.stop_component(Component::ApiServer, Stop::Kill)?;
    tokio::time::sleep(resync * 4).await;
    let outage = Instant::now();
    s.bed.start_component(Component::ApiServer)?;
    cwo_e2e::report(&format!(
        "kube-apiserver killed for {:.0} s; ready again {:.1} s after its start",
        (resync * 4).as_secs_f64(),
        outage.elapsed().as_secs_f64()
    ));
    wait_all_ready(&s, 23).await?;
    let log = s.operator_logs();
    assert!(
        !log.contains("lost leadership"),
        "the operator gave up its lead over a short API server restart:\n{}",
        s.log_tail()
    );
    wait_ready_count(&s, "samplingrules", 2).await?;
    assert!(
        s.operator().exited().is_none(),
        "the operator exited with the API server:\n{}",
        s.log_tail()
    );

    // etcd stopped the same way: the API server stays up but serves nothing.
    s.apply_yaml(&alarms("during-etcd", 3, ""))?;
    s.apply_yaml(&sampling_rule("rule-during-etcd", 102))?;
    edit_threshold(&s, "before-001", 501)?;
    s.bed.stop_component(Component::Etcd, Stop::Graceful)?;
    tokio::time::sleep(resync * 4).await;
    s.bed.start_component(Component::Etcd)?;
    wait_all_ready(&s, 26).await?;
    wait_ready_count(&s, "samplingrules", 3).await?;

    // After both: new objects and edits converge as on any day.
    s.apply_yaml(&alarms("after", 2, ""))?;
    edit_threshold(&s, "before-002", 502)?;
    wait_all_ready(&s, 28).await?;
    for (name, threshold) in [
        ("before-000", 500.0),
        ("before-001", 501.0),
        ("before-002", 502.0),
    ] {
        s.wait_ready("alarm", name).await?;
        let cw = aws_sdk_cloudwatch::Client::new(&s.sdk);
        let alarm = cw.describe_alarms().alarm_names(name).send().await?;
        assert_eq!(
            alarm.metric_alarms()[0].threshold,
            Some(threshold),
            "{name}'s edit reached AWS"
        );
    }
    assert!(
        s.operator().exited().is_none(),
        "the operator exited with etcd:\n{}",
        s.log_tail()
    );

    // Nothing duplicated: AWS holds exactly what was applied, and each sampling rule was
    // created once (X-Ray refuses a second create of a name; a retry must look it up first).
    let mut expected: Vec<String> = (0..20)
        .map(|i| format!("before-{i:03}"))
        .chain((0..2).map(|i| format!("before-any-{i:02}")))
        .chain((0..3).map(|i| format!("during-apiserver-{i:03}")))
        .chain((0..3).map(|i| format!("during-etcd-{i:03}")))
        .chain((0..2).map(|i| format!("after-{i:03}")))
        .collect();
    expected.sort();
    assert_eq!(aws_alarm_names(&s).await?, expected);
    assert_eq!(
        sampling_rule_names(&s).await?,
        [
            "Default",
            "rule-before",
            "rule-during-apiserver",
            "rule-during-etcd"
        ]
    );
    assert_eq!(
        s.emulator.calls().total_of("xray", "CreateSamplingRule"),
        2,
        "one create per new sampling rule"
    );

    // No spurious status: the objects nobody touched kept their status to the byte (conditions,
    // transition times, observed generation), and the status writes since the settle are the
    // new and edited objects' own.
    let untouched_after = (
        statuses(&s, "alarms")?,
        statuses(&s, "compositealarms")?,
        statuses(&s, "samplingrules")?,
    );
    for name in (3..20).map(|i| format!("before-{i:03}")) {
        assert_eq!(
            untouched_after.0.get(&name),
            untouched_before.0.get(&name),
            "the status of {name}, untouched, changed"
        );
    }
    assert_eq!(
        untouched_after.1, untouched_before.1,
        "composite statuses changed"
    );
    assert_eq!(
        untouched_after.2.get("rule-before"),
        untouched_before.2.get("rule-before"),
        "the status of rule-before changed"
    );
    let writes = status_writes(&s)?;
    cwo_e2e::report(&format!(
        "API server and etcd restarted: status writes before {writes_before:?}, after {writes:?}"
    ));
    assert_eq!(
        writes["CompositeAlarm"], writes_before["CompositeAlarm"],
        "composites, untouched, had their status written"
    );

    // And once converged, idle resyncs write nothing, to AWS or to the API server.
    s.emulator.reset_calls();
    let settled = status_writes(&s)?;
    tokio::time::sleep(resync * 3).await;
    assert_eq!(s.emulator.calls().writes(), 0, "{:?}", s.emulator.calls());
    assert_eq!(status_writes(&s)?, settled, "idle resyncs wrote status");
    Ok(())
}
