//! Cost and scale on the real API server and the emulator: reads batch (a hundred alarms
//! reconciled together cost one DescribeAlarms), an idle fleet makes no writes, a restart
//! rewrites nothing, and two operators
//! with disjoint label selectors never touch each other's objects.

use anyhow::Result;
use cwo_e2e::operator::{OperatorOptions, OperatorProcess, Scenario};
use cwo_emulator::EmulatorConfig;
use std::time::Duration;

pub(crate) fn alarms(prefix: &str, count: usize, labels: &str) -> String {
    (0..count)
        .map(|i| {
            format!(
                r#"apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: {prefix}-{i:03}
  labels: {{{labels}}}
spec:
  metricName: Latency
  namespace: App
  statistic: Average
  period: 60
  evaluationPeriods: 2
  threshold: {i}
  comparisonOperator: GreaterThanThreshold
"#
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Objects of `kind` in the scenario's namespace that are Ready for their current generation.
pub(crate) fn ready_count(s: &Scenario, kind: &str) -> Result<usize> {
    let out = s.kubectl(["get", kind, "-o", "json"])?.ok()?;
    let list: serde_json::Value = serde_json::from_str(&out.stdout)?;
    Ok(list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|o| {
                    o["status"]["conditions"].as_array().is_some_and(|cs| {
                        cs.iter().any(|c| {
                            c["type"] == "Ready"
                                && c["status"] == "True"
                                && c["observedGeneration"] == o["metadata"]["generation"]
                        })
                    })
                })
                .count()
        })
        .unwrap_or(0))
}

/// Waits up to two minutes until `count` objects of `kind` (plural, as kubectl takes it) are
/// Ready in the scenario's namespace.
pub(crate) async fn wait_ready_count(s: &Scenario, kind: &str, count: usize) -> Result<()> {
    s.wait_for(
        &format!("{count} {kind} Ready"),
        Duration::from_secs(120),
        || Ok((ready_count(s, kind)? >= count).then_some(())),
    )
    .await
}

pub(crate) async fn wait_all_ready(s: &Scenario, count: usize) -> Result<()> {
    wait_ready_count(s, "alarms", count).await
}

/// Reconciles of `kind` the operator has started (`cwo_reconciles_total`).
fn reconciles(s: &Scenario, kind: &str) -> Result<f64> {
    s.operator_scrape()?
        .value("cwo_reconciles_total", &[("kind", kind)])
}

#[tokio::test]
async fn a_hundred_alarms_reconciled_together_cost_one_describe_alarms_call_and_deletions_batch()
-> Result<()> {
    let resync = Duration::from_secs(5);
    let mut s = Scenario::start_with(
        "scale-batch",
        EmulatorConfig::default(),
        OperatorOptions {
            resync_period: resync,
            ..Default::default()
        },
    )
    .await?;
    s.apply_yaml(&alarms("lat", 100, ""))?;
    wait_all_ready(&s, 100).await?;

    // The drift resync reconciles the hundred together, after one read of all of them.
    tokio::time::sleep(resync).await;
    s.emulator.reset_calls();
    let reconciles_before = reconciles(&s, "Alarm")?;
    tokio::time::sleep(resync * 2).await;
    let calls = s.emulator.calls();
    let reconciled = reconciles(&s, "Alarm")? - reconciles_before;
    let describes = calls.total_of("cloudwatch", "DescribeAlarms");
    cwo_e2e::report(&format!(
        "drift resync of 100 alarms over two periods: {reconciled} reconciles, {describes} DescribeAlarms"
    ));
    assert!(
        reconciled >= 100.0,
        "the resync reconciled the alarms: {reconciled}"
    );
    let sweeps = (reconciled / 100.0).ceil() as u64;
    assert!(
        describes <= 2 * sweeps,
        "{describes} DescribeAlarms for {sweeps} sweeps of 100 alarms"
    );
    assert_eq!(calls.writes(), 0, "idle resyncs write nothing: {calls:?}");

    // A restart reconciles all hundred at once; their reads batch.
    s.operator().kill();
    s.emulator.reset_calls();
    s.start_operator()?;
    s.wait_for(
        "the restarted operator reconciled the alarms",
        Duration::from_secs(60),
        || Ok((reconciles(&s, "Alarm")? >= 100.0).then_some(())),
    )
    .await?;
    let describes = s.emulator.calls().total_of("cloudwatch", "DescribeAlarms");
    cwo_e2e::report(&format!(
        "restart with 100 Ready alarms: {describes} DescribeAlarms"
    ));
    assert!(
        describes <= 2,
        "100 alarms reconciled together at start-up cost {describes} DescribeAlarms"
    );
    assert_eq!(s.aws_writes(), 0, "a restart writes nothing");

    // Deleting them all at once: the deletions share DeleteAlarms calls (up to 100 names each).
    // kubectl marks the objects one after the other, so the batches are smaller than 100 and
    // their number depends on the machine's load (10 to 16 on two busy cores); without batching
    // it would be 100 calls, so at most half that proves the deletions share calls.
    s.emulator.reset_calls();
    s.kubectl(["delete", "alarms", "--all", "--wait=false"])?
        .ok()?;
    s.wait_for("every alarm deleted", Duration::from_secs(120), || {
        let out = s.kubectl(["get", "alarms", "-o", "name"])?.ok()?;
        Ok(out.stdout.trim().is_empty().then_some(()))
    })
    .await?;
    let deletes = s.emulator.calls().operation("cloudwatch", "DeleteAlarms");
    cwo_e2e::report(&format!(
        "deleting 100 alarms: {} DeleteAlarms",
        deletes.total
    ));
    assert_eq!(deletes.ok, deletes.total, "{deletes:?}");
    assert!(
        deletes.total <= 50,
        "100 deletions took {} DeleteAlarms calls",
        deletes.total
    );
    Ok(())
}

/// `count` composites, each over ten of the `alarms(prefix, ..)` objects through `alarmRef`.
pub(crate) fn composites_over(prefix: &str, count: usize) -> String {
    (0..count)
        .map(|i| {
            let refs: String = (0..10)
                .map(|j| format!("      - alarm: {{alarmRef: {prefix}-{:03}}}\n", i * 10 + j))
                .collect();
            format!(
                "apiVersion: cwo.dev/v1alpha1\nkind: CompositeAlarm\nmetadata:\n  name: {prefix}-any-{i:02}\n\
                 spec:\n  rule:\n    anyOf:\n{refs}"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

#[tokio::test]
async fn a_restart_keeps_composites_over_alarm_refs_ready_and_writes_no_status() -> Result<()> {
    // After a restart the Alarm cache fills page by page while the composites are
    // already being reconciled; a composite that resolved its alarmRefs against the half-filled
    // cache would report DependencyNotReady (and flip back at the next resync): two status
    // writes and a false alarm for every composite.
    let mut s = Scenario::start_with(
        "scale-restart-composites",
        EmulatorConfig::default(),
        OperatorOptions {
            // The restart's own reconciles are under test, not the resync's.
            resync_period: Duration::from_secs(600),
            // 400 creates at the default PutMetricAlarm share (2.85/s) would take minutes.
            extra_args: vec!["--no-aws-rate-limits".into()],
            ..Default::default()
        },
    )
    .await?;
    s.apply_yaml(&alarms("svc", 400, ""))?;
    s.apply_yaml(&composites_over("svc", 40))?;
    wait_all_ready(&s, 400).await?;
    wait_ready_count(&s, "compositealarms", 40).await?;

    s.operator().kill();
    s.emulator.reset_calls();
    s.start_operator()?;
    s.wait_for(
        "the restarted operator reconciled the composites",
        Duration::from_secs(60),
        || Ok((reconciles(&s, "CompositeAlarm")? >= 40.0).then_some(())),
    )
    .await?;
    let scrape = s.operator_scrape()?;
    let status_writes = scrape.value(
        "cwo_kube_writes_total",
        &[("kind", "CompositeAlarm"), ("write", "status")],
    )?;
    let errors = scrape.sum("cwo_reconcile_errors_total", &[("kind", "CompositeAlarm")])?;
    cwo_e2e::report(&format!(
        "restart with 400 alarms and 40 composites: {} composite status writes, {} composite \
         reconcile errors",
        status_writes as u64, errors as u64
    ));
    assert_eq!(status_writes, 0.0, "a restart rewrote composite statuses");
    assert_eq!(errors, 0.0, "a restart failed composite reconciles");
    assert_eq!(ready_count(&s, "compositealarms")?, 40);
    assert_eq!(
        s.emulator.calls().writes(),
        0,
        "a restart writes nothing to AWS"
    );
    Ok(())
}

#[tokio::test]
async fn two_operators_with_disjoint_selectors_never_touch_each_others_objects() -> Result<()> {
    let shard = |name: &str| OperatorOptions {
        extra_args: vec!["--label-selector".into(), format!("shard={name}")],
        ..Default::default()
    };
    let mut s = Scenario::without_operator("scale-shards", EmulatorConfig::default(), shard("a"))?;
    s.start_operator()?;
    let log = std::env::temp_dir().join(format!("cwo-shard-b-{}.log", std::process::id()));
    let mut b = OperatorProcess::start(
        s.bed,
        Some(s.namespace()),
        &s.emulator.endpoint(),
        &shard("b"),
        &log,
    )?;

    s.apply_yaml(&alarms("a", 5, "shard: a"))?;
    s.apply_yaml(&alarms("b", 7, "shard: b"))?;
    s.apply_yaml(&alarms("none", 1, "shard: c"))?;
    wait_all_ready(&s, 12).await?;

    let ready_alarms = |operator: &OperatorProcess| -> Result<f64> {
        operator
            .scrape()?
            .value("cwo_objects", &[("kind", "Alarm"), ("ready", "true")])
    };
    assert_eq!(
        ready_alarms(s.operator())?,
        5.0,
        "operator a manages shard a only"
    );
    assert_eq!(ready_alarms(&b)?, 7.0, "operator b manages shard b only");
    let a_log = s.operator_logs();
    assert!(
        !a_log.contains("b-00"),
        "operator a never reconciled a shard b object"
    );
    assert!(
        !b.log().contains("a-00"),
        "operator b never reconciled a shard a object"
    );
    let untouched = s.get("alarm", "none-000")?.unwrap();
    // What the CRD's default gives an object no operator has reconciled.
    assert_eq!(
        untouched["status"],
        serde_json::json!({ "observedGeneration": 0 }),
        "an object neither selects is left alone: {untouched}"
    );
    assert!(
        untouched["metadata"]["finalizers"].is_null(),
        "no finalizer on it either"
    );
    b.kill();
    let _ = std::fs::remove_file(log);
    Ok(())
}
