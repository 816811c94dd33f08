//! What GitOps tools see of an object, computed by `cwo-health` (e2e/bed/cwo-health, built by
//! `e2e/bed/build-tools.sh`): kstatus, as Flux's health checks and Helm 4's `--wait` compute it,
//! and Argo CD's health, by running the project's Argo CD health scripts in gopher-lua, the Lua
//! VM Argo CD embeds, set up as Argo CD sets it up.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let object = serde_json::json!({"apiVersion": "cwo.dev/v1alpha1", "kind": "Alarm",
//!     "metadata": {"name": "cpu", "generation": 1}, "status": {"observedGeneration": 0}});
//! assert_eq!(cwo_e2e::health::kstatus(&object)?.status, "InProgress");
//! # Ok(())
//! # }
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

use crate::{Tools, repo_root};

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

/// The directory of the Argo CD health scripts: in the chart, which renders them (one source).
pub const ARGOCD_SCRIPTS_DIR: &str = "charts/cloudwatch-operator/argocd";

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

/// The Argo CD health script of `kind`.
pub fn argocd_script(kind: &str) -> PathBuf {
    repo_root()
        .join(ARGOCD_SCRIPTS_DIR)
        .join(format!("cwo.dev_{kind}.lua"))
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
