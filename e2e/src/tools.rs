//! The bed's binaries (kube-apiserver, kube-controller-manager, kubectl, etcd, helm), built from
//! upstream Go modules by `e2e/bed/build-tools.sh` and cached by version, and the project's own
//! `cwo-health` (see [`crate::health`]) built by the same script.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

/// Absolute paths of the bed's binaries.
#[derive(Debug, Clone)]
pub struct Tools {
    pub kube_apiserver: PathBuf,
    pub kube_controller_manager: PathBuf,
    pub kubectl: PathBuf,
    pub etcd: PathBuf,
    pub helm: PathBuf,
    /// `cwo-health`: kstatus and Argo CD health scripts (e2e/bed/cwo-health).
    pub cwo_health: PathBuf,
}

/// The repository root (the workspace holding `crds/`, `examples/` and `e2e/`).
pub fn repo_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the e2e crate lives one level below the repository root")
            .to_path_buf()
    })
}

/// The project's cache directory: `$CWO_CACHE_DIR`, else `~/.cache/cloudwatch-operator` (the
/// same place `e2e/bed/build-tools.sh` caches the binaries).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CWO_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("cloudwatch-operator")
}

impl Tools {
    /// The binaries, built first if the cache lacks them. A cold build takes minutes; a warm one
    /// only checks the cache. The script is run once per process.
    pub fn ensure() -> Result<&'static Tools> {
        static TOOLS: OnceLock<Result<Tools, String>> = OnceLock::new();
        TOOLS
            .get_or_init(|| Self::build().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    fn build() -> Result<Tools> {
        let script = repo_root().join("e2e/bed/build-tools.sh");
        // Build progress goes to stderr as it happens, so a cold build does not look like a hang.
        let out = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("running {}", script.display()))?;
        if !out.status.success() {
            bail!("{} failed ({})", script.display(), out.status);
        }
        Self::parse(&String::from_utf8_lossy(&out.stdout))
    }

    /// Parses the script's `KEY=path` lines.
    fn parse(stdout: &str) -> Result<Tools> {
        let get = |key: &str| -> Result<PathBuf> {
            let path = stdout
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .with_context(|| format!("build-tools.sh printed no {key}="))?;
            let path = PathBuf::from(path);
            if !path.is_file() {
                bail!(
                    "build-tools.sh named {} for {key}, which does not exist",
                    path.display()
                );
            }
            Ok(path)
        };
        Ok(Tools {
            kube_apiserver: get("KUBE_APISERVER")?,
            kube_controller_manager: get("KUBE_CONTROLLER_MANAGER")?,
            kubectl: get("KUBECTL")?,
            etcd: get("ETCD")?,
            helm: get("HELM")?,
            cwo_health: get("CWO_HEALTH")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reports_the_missing_key() {
        let err = Tools::parse("KUBECTL=/bin/sh\n").unwrap_err();
        assert!(format!("{err:#}").contains("KUBE_APISERVER"), "{err:#}");
    }

    #[test]
    fn repo_root_holds_the_workspace_manifest() {
        assert!(repo_root().join("Cargo.toml").is_file());
        assert!(repo_root().join("e2e/bed/build-tools.sh").is_file());
    }
}
