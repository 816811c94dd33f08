//! The Helm chart on the real API server with the real `helm`: it lints, installs (every object
//! it renders is accepted), and its RBAC is enough — and no more than enough — for the operator:
//! the operator binary runs with the chart's ServiceAccount token, elects a leader in the
//! release namespace, and reconciles an object of every kind to Ready.

use anyhow::{Context, Result, bail};
use cwo_e2e::operator::{OperatorOptions, Scenario, create_delivery_stream, create_log_group};
use cwo_e2e::repo_root;
use cwo_emulator::EmulatorConfig;
use std::path::Path;

const RELEASE: &str = "cwo-chart-test";

fn helm(s: &Scenario, args: &[&str]) -> Result<String> {
    let out = s
        .bed
        .helm_command()
        .args(args)
        .output()
        .context("running helm")?;
    if !out.status.success() {
        bail!(
            "helm {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A kubeconfig that authenticates as `namespace/service_account` with a fresh token.
fn service_account_kubeconfig(
    s: &Scenario,
    namespace: &str,
    service_account: &str,
    path: &Path,
) -> Result<()> {
    let token = s
        .bed
        .kubectl([
            "create",
            "token",
            "-n",
            namespace,
            service_account,
            "--duration=1h",
        ])?
        .ok()?
        .stdout
        .trim()
        .to_string();
    let admin = s
        .bed
        .kubectl(["config", "view", "--minify", "--raw", "-o", "json"])?
        .ok()?
        .stdout;
    let admin: serde_json::Value = serde_json::from_str(&admin)?;
    let cluster = &admin["clusters"][0]["cluster"];
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "bed", "cluster": cluster}],
        "users": [{"name": service_account, "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "bed", "user": service_account}}],
        "current-context": "sa",
    });
    std::fs::write(path, serde_yaml::to_string(&config)?)?;
    Ok(())
}

#[tokio::test]
async fn the_chart_installs_and_its_rbac_runs_every_kind() -> Result<()> {
    let mut s = Scenario::without_operator(
        "chart",
        EmulatorConfig::default(),
        OperatorOptions::default(),
    )?;
    let chart = repo_root().join("charts/cloudwatch-operator");
    let chart = chart.to_str().unwrap();
    let release_ns = format!("{}-system", s.namespace());
    helm(&s, &["lint", chart, "--strict"])?;
    helm(
        &s,
        &[
            "install",
            RELEASE,
            chart,
            "--namespace",
            &release_ns,
            "--create-namespace",
            "--set",
            "aws.region=us-east-1",
            "--set",
            "metrics.serviceMonitor.enabled=false",
            "--wait=false",
        ],
    )?;
    // The chart's full name: release name, then chart name.
    let sa = format!("{RELEASE}-cloudwatch-operator");
    for (kind, name) in [
        ("deployment", sa.as_str()),
        ("serviceaccount", sa.as_str()),
        ("service", &format!("{sa}-metrics")),
        ("role", &format!("{sa}-leader-election")),
        ("rolebinding", &format!("{sa}-leader-election")),
    ] {
        s.bed
            .kubectl(["get", kind, name, "-n", &release_ns])?
            .ok()
            .with_context(|| format!("{kind}/{name} was installed"))?;
    }
    s.bed.kubectl(["get", "clusterrole", &sa])?.ok()?;

    // Least privilege: the ServiceAccount cannot read Secrets or touch other resources.
    let who = format!("system:serviceaccount:{release_ns}:{sa}");
    for (verb, resource, expected) in [
        ("list", "secrets", "no"),
        ("create", "deployments", "no"),
        ("delete", "alarms.cwo.dev", "no"),
        ("patch", "alarms.cwo.dev", "yes"),
        ("patch", "samplingrules.cwo.dev/status", "yes"),
        ("watch", "metricfilters.cwo.dev", "yes"),
        ("patch", "logdestinations.cwo.dev/status", "yes"),
        ("create", "events.events.k8s.io", "yes"),
        // AWSAccounts are the cluster admin's grants: the operator reads them and keeps its
        // finalizer and status on them, but cannot create or delete one.
        ("watch", "awsaccounts.cwo.dev", "yes"),
        ("patch", "awsaccounts.cwo.dev/status", "yes"),
        ("create", "awsaccounts.cwo.dev", "no"),
        ("delete", "awsaccounts.cwo.dev", "no"),
    ] {
        let out = s
            .bed
            .kubectl(["auth", "can-i", verb, resource, "--as", &who, "-A"])?;
        assert_eq!(out.stdout.trim(), expected, "{who} can-i {verb} {resource}");
    }

    // The operator, running as the chart's ServiceAccount with leader election in the release
    // namespace, reconciles an object of every kind.
    let kubeconfig =
        std::env::temp_dir().join(format!("cwo-chart-{}.kubeconfig", std::process::id()));
    service_account_kubeconfig(&s, &release_ns, &sa, &kubeconfig)?;
    s.set_operator_options(OperatorOptions {
        kubeconfig: Some(kubeconfig.clone()),
        leader_election: Some((release_ns.clone(), sa.clone())),
        ..Default::default()
    });
    s.start_operator()?;
    for stream in ["cloudwatch-metrics", "central-logs"] {
        create_delivery_stream(&s.sdk, stream).await?;
    }
    for group in ["/aws/lambda/checkout", "/ecs/orders"] {
        create_log_group(&s.sdk, group).await?;
    }
    for file in [
        "examples/composite-alarm.yaml",
        "examples/metric-stream.yaml",
        "examples/log-subscription.yaml",
        "examples/sampling-rule.yaml",
        "examples/log-error-alarm.yaml",
        "examples/central-logging.yaml",
    ] {
        s.apply_file(file)?;
    }
    for (kind, name) in [
        ("alarm", "checkout-latency-p99"),
        ("compositealarm", "checkout-degraded"),
        ("metricstream", "observability-export"),
        ("logsubscription", "checkout-errors"),
        ("samplingrule", "checkout-orders"),
        ("metricfilter", "checkout-error-lines"),
        ("logdestination", "central-logs"),
    ] {
        s.wait_ready(kind, name).await?;
    }
    let lease = s
        .bed
        .kubectl([
            "get",
            "lease",
            &sa,
            "-n",
            &release_ns,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ])?
        .ok()?;
    assert!(
        !lease.stdout.is_empty(),
        "the operator holds the Lease in the release namespace"
    );
    let _ = std::fs::remove_file(kubeconfig);

    helm(&s, &["uninstall", RELEASE, "--namespace", &release_ns])?;
    let _ = s
        .bed
        .kubectl(["delete", "namespace", &release_ns, "--wait=false"]);
    Ok(())
}
