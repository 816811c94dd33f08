//! The Kubernetes side of the test bed: a local control plane, or an existing cluster named by
//! `KUBECONFIG`, behind one interface for tests and for the `cwo-bed` command.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result, bail};
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::control_plane::{Component, ControlPlane, ControlPlaneConfig, Stop};
use crate::kubectl::{self, KubectlOutput};
use crate::tools::Tools;

/// Setting this makes [`Bed::from_env`] start a local control plane even when `KUBECONFIG` is
/// set, so a developer whose shell points at a real cluster can still run the tests locally.
pub const FORCE_LOCAL_ENV: &str = "CWO_BED_LOCAL";

/// A Kubernetes API server to test against.
pub struct Bed {
    /// What kubectl, helm and kube-rs get as `KUBECONFIG`.
    kubeconfig_env: OsString,
    /// The (first) kubeconfig file.
    kubeconfig: PathBuf,
    kubectl: PathBuf,
    helm: PathBuf,
    /// Where kubectl and helm keep their caches for a local bed: every bed has a new port, so
    /// kubectl's default discovery cache under ~/.kube would only grow.
    client_cache: Option<PathBuf>,
    /// `None` for an existing cluster, and after [`Bed::stop`].
    local: Mutex<Option<ControlPlane>>,
    description: String,
}

impl Bed {
    /// An existing cluster if `KUBECONFIG` is set (and `CWO_BED_LOCAL` is not), else a new local
    /// control plane.
    pub fn from_env() -> Result<Bed> {
        match std::env::var_os("KUBECONFIG") {
            Some(kc) if !kc.is_empty() && std::env::var_os(FORCE_LOCAL_ENV).is_none() => {
                Bed::existing(kc)
            }
            _ => Bed::start_local(ControlPlaneConfig::default()),
        }
    }

    /// Starts a local control plane (building the binaries first if the cache lacks them).
    pub fn start_local(config: ControlPlaneConfig) -> Result<Bed> {
        let tools = Tools::ensure()?;
        let cp = ControlPlane::start(config)?;
        let description = format!(
            "local kube-apiserver at {} (ready in {:.1?}; state in {})",
            cp.server(),
            cp.started_in(),
            cp.dir().display()
        );
        Ok(Bed {
            kubeconfig_env: cp.kubeconfig_path().as_os_str().to_owned(),
            kubeconfig: cp.kubeconfig_path().to_path_buf(),
            kubectl: tools.kubectl.clone(),
            helm: tools.helm.clone(),
            client_cache: Some(cp.dir().join("client-cache")),
            local: Mutex::new(Some(cp)),
            description,
        })
    }

    /// An existing cluster; `kubeconfig` is a `KUBECONFIG` value (one file, or several joined by
    /// `:`). No process is started; kubectl and helm still come from the bed's build.
    pub fn existing(kubeconfig: OsString) -> Result<Bed> {
        let first = std::env::split_paths(&kubeconfig)
            .next()
            .context("KUBECONFIG names no file")?;
        if !first.is_file() {
            bail!("KUBECONFIG names {}, which is not a file", first.display());
        }
        let tools = Tools::ensure()?;
        Ok(Bed {
            description: format!(
                "existing cluster from KUBECONFIG={}",
                kubeconfig.to_string_lossy()
            ),
            kubeconfig_env: kubeconfig,
            kubeconfig: first,
            kubectl: tools.kubectl.clone(),
            helm: tools.helm.clone(),
            client_cache: None,
            local: Mutex::new(None),
        })
    }

    /// One bed for the whole test process, started on first use and stopped when the process
    /// exits. An API server per test would cost seconds of CPU each on a two-core machine.
    ///
    /// If start-up failed, every caller gets the same error (without trying again).
    pub fn shared() -> Result<&'static Bed> {
        static SHARED: OnceLock<Result<Bed, String>> = OnceLock::new();
        extern "C" fn stop_shared() {
            if let Some(Ok(bed)) = SHARED.get() {
                bed.stop();
            }
        }
        SHARED
            .get_or_init(|| {
                let bed = Bed::from_env().map_err(|e| format!("{e:#}"))?;
                // Statics are never dropped; stop the processes (and remove the directory)
                // from an exit handler, which runs when the test harness returns or exits.
                // SAFETY: registers a plain function; it only locks a mutex and kills children.
                unsafe {
                    libc::atexit(stop_shared);
                }
                report(&format!("cwo-bed: {}", bed.description()));
                Ok(bed)
            })
            .as_ref()
            .map_err(|e| anyhow::anyhow!("the shared bed did not start: {e}"))
    }

    /// The kubeconfig file: the local bed's, or the first file of `KUBECONFIG`.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// Whether this bed runs its own control plane (as opposed to an existing cluster).
    pub fn is_local(&self) -> bool {
        self.lock_local().is_some()
    }

    /// One line saying what this bed is, for logs.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The local control plane's directory (kubeconfig, certificates, logs), if local.
    pub fn local_dir(&self) -> Option<PathBuf> {
        self.lock_local().as_ref().map(|cp| cp.dir().to_path_buf())
    }

    /// Fails with the process's log if a local control plane process has died.
    pub fn check_running(&self) -> Result<()> {
        match self.lock_local().as_mut() {
            Some(cp) => cp.check_running(),
            None => Ok(()),
        }
    }

    /// Stops a server of the local control plane, keeping its data and ports (see
    /// [`ControlPlane::stop_component`]). Fails for an existing cluster.
    pub fn stop_component(&self, component: Component, how: Stop) -> Result<()> {
        match self.lock_local().as_mut() {
            Some(cp) => {
                cp.stop_component(component, how);
                Ok(())
            }
            None => bail!("{component:?} can only be stopped on a local bed"),
        }
    }

    /// Starts a stopped server again and waits until the API server is ready (see
    /// [`ControlPlane::start_component`]).
    pub fn start_component(&self, component: Component) -> Result<()> {
        match self.lock_local().as_mut() {
            Some(cp) => cp.start_component(component),
            None => bail!("{component:?} can only be started on a local bed"),
        }
    }

    /// A kubectl command for this bed, without arguments.
    pub fn kubectl_command(&self) -> Command {
        self.command(&self.kubectl)
    }

    /// A command running `program` against this bed (its kubeconfig in the environment),
    /// without arguments.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        self.set_env(&mut cmd);
        cmd
    }

    /// A helm command for this bed, without arguments.
    pub fn helm_command(&self) -> Command {
        let mut cmd = Command::new(&self.helm);
        self.set_env(&mut cmd);
        cmd
    }

    /// Runs kubectl with `args` and returns its output, whatever its exit status.
    pub fn kubectl<I, S>(&self, args: I) -> Result<KubectlOutput>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        kubectl::run(self.kubectl_command(), args, None)
    }

    /// Runs kubectl with `args` and `stdin` (for `-f -`).
    pub fn kubectl_with_stdin<I, S>(&self, args: I, stdin: &str) -> Result<KubectlOutput>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        kubectl::run(self.kubectl_command(), args, Some(stdin))
    }

    /// A kube-rs client for this bed, with the kubeconfig's current context.
    pub async fn client(&self) -> Result<kube::Client> {
        if self.lock_local().is_some() {
            return client_for_kubeconfig(&self.kubeconfig).await;
        }
        let mut merged: Option<Kubeconfig> = None;
        for path in std::env::split_paths(&self.kubeconfig_env) {
            let kc = Kubeconfig::read_from(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            merged = Some(match merged {
                Some(m) => m.merge(kc)?,
                None => kc,
            });
        }
        let config = kube::Config::from_custom_kubeconfig(
            merged.context("KUBECONFIG names no file")?,
            &KubeConfigOptions::default(),
        )
        .await?;
        Ok(kube::Client::try_from(config)?)
    }

    /// Stops a local control plane and removes its directory; nothing for an existing cluster.
    /// Idempotent.
    pub fn stop(&self) {
        if let Some(mut cp) = self.lock_local().take() {
            cp.stop();
        }
    }

    fn set_env(&self, cmd: &mut Command) {
        cmd.env("KUBECONFIG", &self.kubeconfig_env);
        if let Some(cache) = &self.client_cache {
            cmd.env("KUBECACHEDIR", cache);
            // helm keeps its cache, repositories and plugins under these; keep a throwaway
            // bed's out of the person's home too.
            cmd.env("HELM_CACHE_HOME", cache.join("helm/cache"));
            cmd.env("HELM_CONFIG_HOME", cache.join("helm/config"));
            cmd.env("HELM_DATA_HOME", cache.join("helm/data"));
        }
    }

    fn lock_local(&self) -> std::sync::MutexGuard<'_, Option<ControlPlane>> {
        // A panic while holding the lock leaves the control plane as usable as before.
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A kube-rs client from one kubeconfig file's current context.
pub async fn client_for_kubeconfig(path: &Path) -> Result<kube::Client> {
    let kc = Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?;
    Ok(kube::Client::try_from(config)?)
}

/// Writes a line to the process's stderr directly, past the test harness's output capture, so CI
/// logs show which bed ran and what was checked even when every test passes.
pub fn report(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}
