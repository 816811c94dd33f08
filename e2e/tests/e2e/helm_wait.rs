//! `helm install --wait` (Helm 4, whose `--wait` watches kstatus) of a small chart of our
//! objects, `tests/fixtures/helm-wait/`: it succeeds once every object is Ready, and when one
//! object has a terminal reason it fails at once with the operator's message, not at its
//! timeout.

use std::process::Output;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, ensure};
use cwo_e2e::operator::Scenario;
use k8s_openapi::jiff::Timestamp;

/// The `--timeout` given to helm: far above what either install needs.
const HELM_TIMEOUT: Duration = Duration::from_secs(300);
/// The bound: helm fails within this long of the operator seeing a terminal reason.
const FAIL_WITHIN: Duration = Duration::from_secs(30);

fn chart() -> String {
    cwo_e2e::repo_root()
        .join("e2e/tests/fixtures/helm-wait")
        .display()
        .to_string()
}

/// `helm install --wait` of the chart into the scenario's namespace, run on a blocking thread
/// so the emulator and the operator keep answering. Returns helm's output and how long it took.
async fn helm_install_wait(s: &Scenario, extra: &[&str]) -> Result<(Output, Duration)> {
    let mut command = s.bed.helm_command();
    command
        .args([
            "install",
            "checkout",
            &chart(),
            "--namespace",
            s.namespace(),
        ])
        .arg("--wait=watcher")
        .arg(format!("--timeout={}s", HELM_TIMEOUT.as_secs()))
        .args(extra);
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || command.output())
        .await?
        .context("running helm")?;
    Ok((out, started.elapsed()))
}

fn shown(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn helm_install_wait_succeeds_once_every_object_is_ready() -> Result<()> {
    let s = Scenario::start("helm-wait-ready").await?;
    let (out, took) = helm_install_wait(&s, &[]).await?;
    ensure!(
        out.status.success(),
        "helm install --wait failed:\n{}",
        shown(&out)
    );
    // helm returned only once every object was Ready for its generation.
    for (kind, name) in [
        ("alarm", "checkout-5xx"),
        ("compositealarm", "checkout-degraded"),
        ("samplingrule", "checkout-orders"),
    ] {
        let (status, _, _) = s
            .condition(kind, name, "Ready")?
            .with_context(|| format!("{kind}/{name} has no Ready condition"))?;
        ensure!(
            status == "True",
            "{kind}/{name} is not Ready after helm returned"
        );
    }
    cwo_e2e::report(&format!(
        "  ok  helm install --wait returned after {took:.1?}, every object Ready"
    ));
    Ok(())
}

#[tokio::test]
async fn helm_install_wait_fails_on_a_terminal_object_with_its_message_well_before_the_timeout()
-> Result<()> {
    let s = Scenario::start("helm-wait-terminal").await?;
    // An alarm in AWS that no object owns, which the chart then names.
    {
        use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
        aws_sdk_cloudwatch::Client::new(&s.sdk)
            .put_metric_alarm()
            .alarm_name("taken")
            .metric_name("Errors")
            .namespace("App")
            .statistic(Statistic::Sum)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .send()
            .await?;
    }
    let (out, took) = helm_install_wait(&s, &["--set", "takenAlarmName=taken"]).await?;
    let returned = SystemTime::now();
    let output = shown(&out);
    ensure!(
        !out.status.success(),
        "helm install --wait succeeded:\n{output}"
    );

    let obj = s.get("alarm", "taken")?.context("alarm/taken exists")?;
    let stalled = obj["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Stalled"))
        .with_context(|| format!("alarm/taken has no Stalled condition: {}", obj["status"]))?;
    ensure!(stalled["reason"] == "AlreadyExistsUnowned", "{stalled}");
    let message = stalled["message"]
        .as_str()
        .context("Stalled has a message")?;
    // helm names the object, kstatus's verdict, the reason and the operator's message.
    ensure!(message.starts_with("AlreadyExistsUnowned: "), "{message}");
    for wanted in [
        format!("Alarm/{}/taken", s.namespace()),
        "status: Failed".to_string(),
        message.to_string(),
    ] {
        ensure!(
            output.contains(&wanted),
            "helm's output lacks {wanted:?}:\n{output}"
        );
    }

    // How long after the operator wrote Stalled helm gave up (lastTransitionTime has whole
    // seconds, so this may read up to a second long).
    let seen: Timestamp = stalled["lastTransitionTime"]
        .as_str()
        .context("Stalled has a lastTransitionTime")?
        .parse()?;
    let seen = SystemTime::UNIX_EPOCH + Duration::from_secs(seen.as_second().try_into()?);
    let after_seen = returned.duration_since(seen).unwrap_or_default();
    cwo_e2e::report(&format!(
        "  ok  helm install --wait failed after {took:.1?}, {after_seen:.1?} after the operator \
         wrote Stalled (timeout {HELM_TIMEOUT:?}): {message}"
    ));
    ensure!(
        after_seen < FAIL_WITHIN,
        "helm failed {after_seen:?} after the operator reported the terminal reason"
    );
    ensure!(
        took < HELM_TIMEOUT / 5,
        "helm took {took:?} of its {HELM_TIMEOUT:?} timeout"
    );
    Ok(())
}
