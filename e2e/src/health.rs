//! What GitOps tools see of an object, computed by `cwo-health` (e2e/bed/cwo-health, built by
//! `e2e/bed/build-tools.sh`): kstatus, as Flux's health checks and Helm 4's `--wait` compute it,
//! and Argo CD's health, by running the Argo CD health scripts the chart renders in gopher-lua,
//! the Lua VM Argo CD embeds, set up as Argo CD sets it up.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let object = serde_json::json!({"apiVersion": "cwo.dev/v1alpha1", "kind": "Alarm",
//!     "metadata": {"name": "cpu", "generation": 1}, "status": {"observedGeneration": 0}});
//! assert_eq!(cwo_e2e::health::kstatus(&object)?.status, "InProgress");
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;
use tempfile::TempDir;

use crate::Tools;
use crate::manifests::helm_template;

/// The kinds the operator serves, each with one Argo CD health script: the namespaced kinds and
/// the cluster-scoped AWSAccount.
pub const KINDS: [&str; 8] = [
    "AWSAccount",
    "Alarm",
    "CompositeAlarm",
    "LogDestination",
    "LogSubscription",
    "MetricFilter",
    "MetricStream",
    "SamplingRule",
];

/// The template of the Argo CD health scripts: the chart renders it once per kind (one source).
pub const ARGOCD_SCRIPT_TEMPLATE: &str = "charts/cloudwatch-operator/argocd/health.lua.tpl";

/// The chart's template that renders every kind's script into a ConfigMap.
const ARGOCD_HEALTH_TEMPLATE: &str = "templates/argocd-health.yaml";

/// A health verdict: kstatus's status (`Current`, `InProgress`, `Failed`, ...) or Argo CD's
/// (`Healthy`, `Progressing`, `Degraded`, `Suspended`, ...), and its message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Health {
    pub status: String,
    pub message: String,
}

/// The `argocd-cm` key Argo CD reads a kind's health script from.
pub fn argocd_key(kind: &str) -> String {
    format!("resource.customizations.health.cwo.dev_{kind}")
}

/// The Argo CD health scripts by `argocd-cm` key, as the chart renders them with
/// `argocd.healthChecks.enabled`, each also written to a file for `cwo-health`. Rendered once per
/// process.
struct RenderedScripts {
    by_key: BTreeMap<String, String>,
    dir: TempDir,
}

fn rendered_scripts() -> Result<&'static RenderedScripts> {
    static SCRIPTS: OnceLock<std::result::Result<RenderedScripts, String>> = OnceLock::new();
    SCRIPTS
        .get_or_init(|| render_scripts().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow::anyhow!("rendering the chart's Argo CD health scripts: {e}"))
}

fn render_scripts() -> Result<RenderedScripts> {
    let docs = helm_template(&[
        "--set",
        "argocd.healthChecks.enabled=true",
        "--show-only",
        ARGOCD_HEALTH_TEMPLATE,
    ])?;
    let [config_map] = docs.as_slice() else {
        bail!("{ARGOCD_HEALTH_TEMPLATE} rendered {} documents", docs.len());
    };
    let by_key: BTreeMap<String, String> = serde_json::from_value(config_map["data"].clone())
        .context("the health ConfigMap's data")?;
    let dir = tempfile::Builder::new()
        .prefix("cwo-argocd-health-")
        .tempdir()?;
    for (key, body) in &by_key {
        std::fs::write(dir.path().join(format!("{key}.lua")), body)?;
    }
    Ok(RenderedScripts { by_key, dir })
}

/// Every Argo CD health script by `argocd-cm` key, as the chart renders them.
pub fn argocd_scripts() -> Result<&'static BTreeMap<String, String>> {
    Ok(&rendered_scripts()?.by_key)
}

/// A file holding the Argo CD health script of `kind`, as the chart renders it.
pub fn argocd_script(kind: &str) -> Result<PathBuf> {
    let scripts = rendered_scripts()?;
    let key = argocd_key(kind);
    if !scripts.by_key.contains_key(&key) {
        bail!("the chart renders no Argo CD health script for {kind}");
    }
    Ok(scripts.dir.path().join(format!("{key}.lua")))
}

/// kstatus of `object` (one object as the API server returns it).
pub fn kstatus(object: &Value) -> Result<Health> {
    run(&["kstatus".as_ref()], object)
}

/// What the Argo CD health script at `script` says of `object`.
pub fn argocd(script: &Path, object: &Value) -> Result<Health> {
    run(&["argocd".as_ref(), script.as_os_str()], object)
}

fn run(args: &[&std::ffi::OsStr], object: &Value) -> Result<Health> {
    let tool = &Tools::ensure()?.cwo_health;
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", tool.display()))?;
    let input = serde_json::to_vec(object)?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(&input)
        .context("writing the object to cwo-health")?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "cwo-health {:?} failed ({}): {}",
            args,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "cwo-health printed {:?}, not a status and message",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
