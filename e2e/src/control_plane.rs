//! A local Kubernetes control plane: etcd, kube-apiserver and kube-controller-manager on free
//! loopback ports, with certificates generated for it, the way controller-runtime's envtest runs
//! one, but with a controller-manager too so namespace deletion and garbage collection work.
//!
//! There is no scheduler and no kubelet: Pods are stored but never run.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::kubeconfig;
use crate::pki::{Pki, PkiFiles};
use crate::process::{ServerProcess, free_port, log_shows_port_conflict, wait_for_port};
use crate::tools::Tools;

/// The Service CIDR. Nothing routes to it; the API server needs one to allocate ClusterIPs.
const SERVICE_CLUSTER_IP_RANGE: &str = "10.96.0.0/16";
/// Service-account token issuer, as on a kubeadm cluster.
const SERVICE_ACCOUNT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
/// The controllers a test of an operator relies on: namespace deletion (which deletes every
/// object in the namespace), garbage collection of owned objects, service accounts and their
/// tokens, aggregated ClusterRoles (a chart's `aggregate-to-edit` roles), and Deployments down to
/// Pods so a chart's workload is expanded as on a cluster. The rest (nodes, volumes, cloud, ...)
/// has nothing to act on here and would only cost CPU.
const CONTROLLERS: &str = "namespace-controller,garbage-collector-controller,\
serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,\
clusterrole-aggregation-controller,deployment-controller,replicaset-controller";

/// How long etcd and kube-controller-manager may take to bind their ports.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Generous: a cold API server on a loaded two-core machine takes far longer than the usual few
/// seconds.
const APISERVER_READY_TIMEOUT: Duration = Duration::from_secs(120);
const START_ATTEMPTS: usize = 3;

/// How to start a [`ControlPlane`].
#[derive(Debug, Clone)]
pub struct ControlPlaneConfig {
    /// Also run kube-controller-manager (namespace deletion, garbage collection). Default: yes.
    pub controller_manager: bool,
    /// Keep the state directory (logs, etcd data, kubeconfig) after the control plane stops.
    /// Default: when `CWO_BED_KEEP_DIR` is set.
    pub keep_dir: bool,
    /// Extra kube-apiserver flags (feature gates, audit policy, ...), after the bed's own (a
    /// flag given twice takes its last value). Default: `CWO_BED_APISERVER_ARGS`, split at
    /// whitespace (e.g. `--profiling=true` to profile the API server of a benchmark run).
    pub apiserver_args: Vec<String>,
}

impl Default for ControlPlaneConfig {
    fn default() -> Self {
        ControlPlaneConfig {
            controller_manager: true,
            keep_dir: std::env::var_os("CWO_BED_KEEP_DIR").is_some(),
            apiserver_args: std::env::var("CWO_BED_APISERVER_ARGS")
                .map(|args| args.split_whitespace().map(String::from).collect())
                .unwrap_or_default(),
        }
    }
}

/// A server of the control plane that a test can stop and start again (see
/// [`ControlPlane::stop_component`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    Etcd,
    ApiServer,
}

/// How [`ControlPlane::stop_component`] stops a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM: the server drains and closes its connections (a rolling upgrade).
    Graceful,
    /// SIGKILL: connections are cut mid-stream (a crash, a node lost).
    Kill,
}

/// A running local control plane. Dropping it kills the processes and removes its directory.
pub struct ControlPlane {
    // Field order is drop order: processes stop before their directory is removed.
    controller_manager: Option<ServerProcess>,
    apiserver: ServerProcess,
    etcd: ServerProcess,
    /// What [`ControlPlane::start_component`] needs to start a server again as it was.
    restart: Restart,
    /// Servers stopped on purpose, until started again.
    stopped: Vec<Component>,
    server: String,
    kubeconfig: PathBuf,
    dir_path: PathBuf,
    dir: Option<TempDir>,
    started_in: Duration,
}

/// Ports, certificates and flags of the running servers.
struct Restart {
    tools: &'static Tools,
    config: ControlPlaneConfig,
    files: PkiFiles,
    etcd_port: u16,
    etcd_peer_port: u16,
    apiserver_port: u16,
}

impl ControlPlane {
    /// Builds the binaries if needed, then starts etcd, kube-apiserver and (by default)
    /// kube-controller-manager and waits until the API server's `/readyz` says ok.
    pub fn start(config: ControlPlaneConfig) -> Result<ControlPlane> {
        let tools = Tools::ensure()?;
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            match Self::start_once(tools, &config) {
                Ok(mut cp) => {
                    cp.started_in = started.elapsed();
                    return Ok(cp);
                }
                // Free ports are picked before the servers bind them; another process may win,
                // and only the servers themselves listening counts as started.
                Err(StartError::PortTaken(e)) if attempt < START_ATTEMPTS => {
                    eprintln!("cwo-bed: a port was taken during start-up, retrying: {e:#}");
                    attempt += 1;
                }
                Err(StartError::PortTaken(e) | StartError::Other(e)) => return Err(e),
            }
        }
    }

    fn start_once(
        tools: &'static Tools,
        config: &ControlPlaneConfig,
    ) -> Result<ControlPlane, StartError> {
        let dir = tempfile::Builder::new()
            .prefix("cwo-bed-")
            .tempdir()
            .context("creating the bed's directory")?;
        // Kept from the start when asked, so the logs of a failed start-up survive too.
        let (dir, root) = if config.keep_dir {
            (None, dir.keep())
        } else {
            let root = dir.path().to_path_buf();
            (Some(dir), root)
        };
        let pki = Pki::generate()?;
        let files = pki.write_to(&root.join("pki"))?;

        let etcd_port = free_port()?;
        let etcd_peer_port = free_port()?;
        let apiserver_port = free_port()?;
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");

        let mut etcd = ServerProcess::spawn(
            "etcd",
            etcd_command(tools, &root, etcd_port, etcd_peer_port),
            &root.join("etcd.log"),
        )?;
        let addr: SocketAddr = ([127, 0, 0, 1], etcd_port).into();
        wait_for_port(&mut etcd, addr, LISTEN_TIMEOUT)
            .map_err(|e| StartError::from_failure(e, &[&etcd]))?;

        let mut apiserver = ServerProcess::spawn(
            "kube-apiserver",
            apiserver_command(tools, &root, &files, apiserver_port, &etcd_url, config),
            &root.join("kube-apiserver.log"),
        )?;
        let server = format!("https://127.0.0.1:{apiserver_port}");
        let kubeconfig_path = root.join("kubeconfig");
        kubeconfig::write(&kubeconfig_path, &server, &pki)?;
        wait_ready(&kubeconfig_path, &mut apiserver, APISERVER_READY_TIMEOUT)
            .map_err(|e| StartError::from_failure(e, &[&etcd, &apiserver]))?;

        let controller_manager = if config.controller_manager {
            let port = free_port()?;
            let mut kcm = ServerProcess::spawn(
                "kube-controller-manager",
                controller_manager_command(tools, &root, &files, &kubeconfig_path, port),
                &root.join("kube-controller-manager.log"),
            )?;
            // It binds its port once its flags and configuration are accepted; waiting for that
            // catches a controller-manager that will never run. Its controllers then start
            // within a second or two, without holding up the bed.
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            wait_for_port(&mut kcm, addr, LISTEN_TIMEOUT)
                .map_err(|e| StartError::from_failure(e, &[&kcm]))?;
            Some(kcm)
        } else {
            None
        };

        Ok(ControlPlane {
            controller_manager,
            apiserver,
            etcd,
            restart: Restart {
                tools,
                config: config.clone(),
                files: files.clone(),
                etcd_port,
                etcd_peer_port,
                apiserver_port,
            },
            stopped: Vec::new(),
            server,
            kubeconfig: kubeconfig_path,
            dir_path: root,
            dir,
            started_in: Duration::ZERO,
        })
    }

    /// The kubeconfig file (admin user, `system:masters`).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The API server's URL, `https://127.0.0.1:<port>`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The directory holding the kubeconfig, certificates, etcd's data and the processes' logs.
    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    /// Time from the first process started to `/readyz` ok (the binaries already built).
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The server processes, for their logs and pids.
    pub fn processes(&self) -> impl Iterator<Item = &ServerProcess> {
        [
            Some(&self.etcd),
            Some(&self.apiserver),
            self.controller_manager.as_ref(),
        ]
        .into_iter()
        .flatten()
    }

    /// Fails, naming the process and showing its log, if any server process has exited.
    pub fn check_running(&mut self) -> Result<()> {
        let procs = [
            (!self.stopped.contains(&Component::Etcd)).then_some(&mut self.etcd),
            (!self.stopped.contains(&Component::ApiServer)).then_some(&mut self.apiserver),
            self.controller_manager.as_mut(),
        ];
        for p in procs.into_iter().flatten() {
            if let Some(status) = p.exited() {
                bail!(
                    "{} exited ({status}); last lines of {}:\n{}",
                    p.name(),
                    p.log_path().display(),
                    p.log_tail(40)
                );
            }
        }
        Ok(())
    }

    /// Stops `component`, keeping its data, ports and certificates, so that
    /// [`ControlPlane::start_component`] brings it back as it was: what clients see when the
    /// API server or etcd restarts under them. The other servers keep running.
    pub fn stop_component(&mut self, component: Component, how: Stop) {
        let process = self.process_mut(component);
        match how {
            Stop::Graceful => {
                process.terminate(Duration::from_secs(30));
            }
            Stop::Kill => process.stop(),
        }
        if !self.stopped.contains(&component) {
            self.stopped.push(component);
        }
    }

    /// Starts a component stopped by [`ControlPlane::stop_component`] again, on the same ports
    /// with the same data, and waits until the API server is ready (for etcd too: the API
    /// server serves nothing until it has reconnected).
    pub fn start_component(&mut self, component: Component) -> Result<()> {
        if !self.stopped.contains(&component) {
            bail!("{component:?} is running: stop it first");
        }
        let r = &self.restart;
        let etcd_url = format!("http://127.0.0.1:{}", r.etcd_port);
        match component {
            Component::Etcd => {
                // Its log continues in a new file: the first start's log stays readable.
                let log = next_log(&self.dir_path, "etcd");
                self.etcd = ServerProcess::spawn(
                    "etcd",
                    etcd_command(r.tools, &self.dir_path, r.etcd_port, r.etcd_peer_port),
                    &log,
                )?;
                let addr: SocketAddr = ([127, 0, 0, 1], r.etcd_port).into();
                wait_for_port(&mut self.etcd, addr, LISTEN_TIMEOUT)?;
            }
            Component::ApiServer => {
                let log = next_log(&self.dir_path, "kube-apiserver");
                self.apiserver = ServerProcess::spawn(
                    "kube-apiserver",
                    apiserver_command(
                        r.tools,
                        &self.dir_path,
                        &r.files,
                        r.apiserver_port,
                        &etcd_url,
                        &r.config,
                    ),
                    &log,
                )?;
            }
        }
        self.stopped.retain(|c| *c != component);
        if !self.stopped.contains(&Component::ApiServer) {
            wait_ready(
                &self.kubeconfig,
                &mut self.apiserver,
                APISERVER_READY_TIMEOUT,
            )
            .with_context(|| {
                format!(
                    "after starting {component:?} again; last lines of the kube-apiserver log:\n{}",
                    self.apiserver.log_tail(30)
                )
            })?;
        }
        Ok(())
    }

    fn process_mut(&mut self, component: Component) -> &mut ServerProcess {
        match component {
            Component::Etcd => &mut self.etcd,
            Component::ApiServer => &mut self.apiserver,
        }
    }

    /// Stops every process and removes the directory (unless kept). Idempotent; Drop does the
    /// same.
    pub fn stop(&mut self) {
        if let Some(kcm) = self.controller_manager.as_mut() {
            kcm.stop();
        }
        self.apiserver.stop();
        self.etcd.stop();
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}

enum StartError {
    PortTaken(anyhow::Error),
    Other(anyhow::Error),
}

impl StartError {
    /// Adds the tail of each process's log to the error, and classifies a lost port race.
    fn from_failure(err: anyhow::Error, processes: &[&ServerProcess]) -> StartError {
        let port_taken = processes
            .iter()
            .any(|p| log_shows_port_conflict(p.log_path()));
        let mut msg = format!("{err:#}");
        for p in processes {
            msg.push_str(&format!(
                "\n--- last lines of {} ({}):\n{}",
                p.name(),
                p.log_path().display(),
                p.log_tail(30)
            ));
        }
        let err = anyhow::anyhow!(msg);
        if port_taken {
            StartError::PortTaken(err)
        } else {
            StartError::Other(err)
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for StartError {
    fn from(e: E) -> Self {
        StartError::Other(e.into())
    }
}

/// `<dir>/<name>-<n>.log` for the n-th restart (the first start logs to `<name>.log`).
fn next_log(dir: &Path, name: &str) -> PathBuf {
    (2..)
        .map(|n| dir.join(format!("{name}-{n}.log")))
        .find(|p| !p.exists())
        .expect("an unused log name")
}

fn etcd_command(tools: &Tools, root: &Path, port: u16, peer_port: u16) -> Command {
    let client = format!("http://127.0.0.1:{port}");
    let peer = format!("http://127.0.0.1:{peer_port}");
    let mut cmd = Command::new(&tools.etcd);
    cmd.current_dir(root).args([
        "--name=bed".to_string(),
        format!("--data-dir={}", root.join("etcd").display()),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=bed={peer}"),
        // The data is thrown away with the bed; fsync would only slow every write.
        "--unsafe-no-fsync".to_string(),
        "--log-level=warn".to_string(),
    ]);
    cmd
}

fn apiserver_command(
    tools: &Tools,
    root: &Path,
    files: &PkiFiles,
    port: u16,
    etcd_url: &str,
    config: &ControlPlaneConfig,
) -> Command {
    let mut cmd = Command::new(&tools.kube_apiserver);
    cmd.current_dir(root).args([
        "--advertise-address=127.0.0.1".to_string(),
        "--bind-address=127.0.0.1".to_string(),
        format!("--secure-port={port}"),
        format!("--cert-dir={}", root.join("apiserver").display()),
        format!("--tls-cert-file={}", files.serving_cert.display()),
        format!("--tls-private-key-file={}", files.serving_key.display()),
        format!("--client-ca-file={}", files.ca_cert.display()),
        format!("--etcd-servers={etcd_url}"),
        format!("--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}"),
        format!("--service-account-issuer={SERVICE_ACCOUNT_ISSUER}"),
        format!(
            "--service-account-key-file={}",
            files.service_account_public_key.display()
        ),
        format!(
            "--service-account-signing-key-file={}",
            files.service_account_key.display()
        ),
        // RBAC alone, as on a production cluster, so the operator's least-privilege Role can be
        // tested. The admin client certificate is in system:masters.
        "--authorization-mode=RBAC".to_string(),
        "--allow-privileged=true".to_string(),
        // The endpoint reconciler would publish 127.0.0.1 as the `kubernetes` Service's endpoint,
        // which validation refuses (loopback), and log that every few seconds.
        "--endpoint-reconciler-type=none".to_string(),
        "--profiling=false".to_string(),
    ]);
    if !config.controller_manager {
        // Without the service-account controller no namespace gets its `default` service account,
        // and this plugin would refuse every Pod for lack of it.
        cmd.arg("--disable-admission-plugins=ServiceAccount");
    }
    cmd.args(&config.apiserver_args);
    cmd
}

fn controller_manager_command(
    tools: &Tools,
    root: &Path,
    files: &PkiFiles,
    kubeconfig: &Path,
    port: u16,
) -> Command {
    let mut cmd = Command::new(&tools.kube_controller_manager);
    cmd.current_dir(root).args([
        format!("--kubeconfig={}", kubeconfig.display()),
        "--bind-address=127.0.0.1".to_string(),
        format!("--secure-port={port}"),
        format!("--cert-dir={}", root.join("controller-manager").display()),
        // One instance: taking the Lease first would only delay the controllers.
        "--leader-elect=false".to_string(),
        format!("--controllers={CONTROLLERS}"),
        format!(
            "--service-account-private-key-file={}",
            files.service_account_key.display()
        ),
        format!("--root-ca-file={}", files.ca_cert.display()),
        "--profiling=false".to_string(),
    ]);
    cmd
}

/// Polls `/readyz` with the admin credentials until it answers `ok`, failing early if the API
/// server exits. Runs its own single-threaded runtime on a scoped thread, so it works whether or
/// not the caller is inside a Tokio runtime.
fn wait_ready(kubeconfig: &Path, apiserver: &mut ServerProcess, timeout: Duration) -> Result<()> {
    thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let client = crate::bed::client_for_kubeconfig(kubeconfig).await?;
                let deadline = Instant::now() + timeout;
                loop {
                    let req = http::Request::get("/readyz").body(Vec::new())?;
                    let last = match client.request_text(req).await {
                        Ok(body) if body.trim() == "ok" => return Ok(()),
                        Ok(body) => body,
                        Err(e) => e.to_string(),
                    };
                    if let Some(status) = apiserver.exited() {
                        bail!("kube-apiserver exited ({status}) before it was ready");
                    }
                    if Instant::now() > deadline {
                        bail!("kube-apiserver was not ready within {timeout:?}: {last}");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        })
        .join()
        .unwrap_or_else(|_| bail!("the readiness check panicked"))
    })
}
