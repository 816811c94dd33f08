//! End-to-end scenarios with the real operator: each test gets its own namespace on the shared
//! bed, its own in-process AWS emulator, and the real `cloudwatch-operator` binary watching only
//! that namespace, so tests run in parallel without seeing each other's objects or AWS calls.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use cwo_e2e::operator::Scenario;
//! let s = Scenario::start("alarm-create").await?;
//! s.apply_yaml("apiVersion: cwo.dev/v1alpha1\nkind: Alarm\n...")?;
//! s.wait_ready("alarm", "cpu").await?;
//! assert_eq!(s.emulator.calls().total_of("cloudwatch", "PutMetricAlarm"), 1);
//! # Ok(()) }
//! ```

use crate::checks::TestNamespace;
use crate::process::{ServerProcess, tail, wait_for_listener};
use crate::prometheus::Scrape;
use crate::{Bed, KubectlOutput, repo_root, report};
use anyhow::{Context, Result, bail};
use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_types::SdkConfig;
use aws_types::region::Region;
use cwo_emulator::{CallCounts, EmulatorConfig, RunningEmulator};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The region every scenario's objects and SDK clients use.
pub const REGION: &str = "us-east-1";

/// The operator binary, built once per test process (`cargo build` is a no-op when it is up to
/// date), so the tests run the real binary rather than the library.
pub fn operator_binary() -> Result<&'static Path> {
    static BINARY: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| build_binary(false, None).map_err(|e| format!("{e:#}")))
        .as_deref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The operator binary built with `--release`, once per process: what users run, and what the
/// benchmark measures (a debug build is several times slower and larger).
pub fn operator_binary_release() -> Result<&'static Path> {
    static BINARY: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| build_binary(true, None).map_err(|e| format!("{e:#}")))
        .as_deref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The release build with the `heap-profile` feature (dhat records every allocation and writes
/// its profile to the file `CWO_HEAP_PROFILE` names when `run` ends), once per process: for the
/// benchmark's `--heap-profile`.
pub fn operator_binary_heap_profile() -> Result<&'static Path> {
    static BINARY: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| build_binary(true, Some("heap-profile")).map_err(|e| format!("{e:#}")))
        .as_deref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

fn build_binary(release: bool, feature: Option<&str>) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    // What `cargo run` and `cargo test` tell the process they start about its own package: a
    // dependency's build script (ring's) reruns when one of them differs from the last build,
    // and so would every crate above it, in this build and again in the next one from a shell.
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(names_the_running_package) {
            command.env_remove(&name);
        }
    }
    command.current_dir(repo_root()).args([
        "build",
        "--quiet",
        "-p",
        "cloudwatch-operator",
        "--bin",
        "cloudwatch-operator",
        "--message-format=json",
    ]);
    if release {
        command.arg("--release");
    }
    if let Some(feature) = feature {
        command.args(["--features", feature]);
    }
    let out = command
        .output()
        .context("running cargo build for the operator binary")?;
    if !out.status.success() {
        bail!(
            "cargo build of the operator failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let built = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact" && m["target"]["name"] == "cloudwatch-operator"
        })
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo build did not report the operator executable")?;
    private_copy(&built, feature.unwrap_or_default())
}

/// Whether `name` is a variable Cargo sets for a binary, test or build script it runs, naming
/// that package or its output (`CARGO_TARGET_DIR`, `CARGO_HOME` and the like are kept).
fn names_the_running_package(name: &str) -> bool {
    const PREFIXES: [&str; 4] = [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_BIN_",
        "CARGO_CRATE_",
    ];
    const NAMES: [&str; 4] = [
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name)
}

/// A copy of the operator executable that only this checkout uses. Cargo puts every checkout's
/// build at the same path of a shared target directory (`CARGO_TARGET_DIR`), so without it a
/// build in another checkout would replace the binary under a running test.
fn private_copy(built: &Path, feature: &str) -> Result<PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    repo_root().hash(&mut hasher);
    feature.hash(&mut hasher);
    let dir = built
        .parent()
        .context("the operator executable has a directory")?
        .join("e2e-operator")
        .join(format!("{:016x}", hasher.finish()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let target = dir.join("cloudwatch-operator");
    let partial = dir.join(format!("cloudwatch-operator.{}", std::process::id()));
    std::fs::copy(built, &partial).with_context(|| format!("copying {}", built.display()))?;
    std::fs::rename(&partial, &target).with_context(|| format!("moving {}", target.display()))?;
    Ok(target)
}

/// An SDK configuration for the emulator at `endpoint` (static test credentials, plain HTTP).
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new().build_http();
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                "test", "test", None, None, "e2e",
            )),
        )
        .http_client(http)
        .build()
}

/// Creates the Firehose delivery stream `name` (direct put, into S3): the destination metric
/// streams and subscription filters point at, which the operator only reads.
pub async fn create_delivery_stream(sdk: &SdkConfig, name: &str) -> Result<()> {
    use aws_sdk_firehose::types::{DeliveryStreamType, ExtendedS3DestinationConfiguration};
    aws_sdk_firehose::Client::new(sdk)
        .create_delivery_stream()
        .delivery_stream_name(name)
        .delivery_stream_type(DeliveryStreamType::DirectPut)
        .extended_s3_destination_configuration(
            ExtendedS3DestinationConfiguration::builder()
                .role_arn(format!(
                    "arn:aws:iam::{}:role/firehose-delivery",
                    cwo_emulator::DEFAULT_ACCOUNT
                ))
                .bucket_arn(format!("arn:aws:s3:::{name}-archive"))
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// Creates the CloudWatch Logs log group `name`.
pub async fn create_log_group(sdk: &SdkConfig, name: &str) -> Result<()> {
    aws_sdk_cloudwatchlogs::Client::new(sdk)
        .create_log_group()
        .log_group_name(name)
        .send()
        .await?;
    Ok(())
}

/// An emulator running on its own thread and runtime, so it keeps answering while a test blocks
/// (for example on `kubectl`) and can be started and stopped from sync or async code alike.
pub struct EmulatorHandle {
    emulator: Option<RunningEmulator>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EmulatorHandle {
    /// Starts an emulator with `config` (port 0 by default: a free port).
    pub fn start(config: EmulatorConfig) -> Result<EmulatorHandle> {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("emulator".into())
            .spawn(move || {
                // Named threads let a benchmark tell the emulator's CPU time from its own.
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("emulator-worker")
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = started_tx.send(Err(anyhow::Error::from(e)));
                        return;
                    }
                };
                let started = runtime
                    .block_on(cwo_emulator::start(config))
                    .map_err(anyhow::Error::from);
                let _ = started_tx.send(started);
                // Serve until the handle is dropped.
                let _ = stop_rx.recv();
                runtime.shutdown_timeout(Duration::from_secs(2));
            })?;
        let emulator = started_rx.recv().context("the emulator thread died")??;
        Ok(EmulatorHandle {
            emulator: Some(emulator),
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    fn running(&self) -> &RunningEmulator {
        self.emulator.as_ref().expect("emulator is running")
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.running().endpoint()
    }

    /// AWS calls so far, per service, operation and outcome.
    pub fn calls(&self) -> CallCounts {
        self.running().calls()
    }

    /// Zeroes the call counts.
    pub fn reset_calls(&self) {
        self.running().reset_calls()
    }

    /// The emulator itself, for faults and quotas.
    pub fn inner(&self) -> &RunningEmulator {
        self.running()
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        // Dropping the emulator stops its server; then its runtime ends.
        drop(self.emulator.take());
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The label that gives an AWSAccount to the operator of one scenario: by default it serves the
/// AWSAccounts labelled with the scenario's namespace name.
pub const E2E_OPERATOR_LABEL: &str = "cwo-e2e/operator";

/// How to run the operator in a scenario.
#[derive(Clone, Debug)]
pub struct OperatorOptions {
    /// Drift resync period (short in tests so drift is found quickly).
    pub resync_period: Duration,
    /// Further `run` flags.
    pub extra_args: Vec<String>,
    /// Further environment variables.
    pub env: Vec<(String, String)>,
    /// Run with this kubeconfig instead of the bed's admin one (e.g. a ServiceAccount token).
    pub kubeconfig: Option<PathBuf>,
    /// Elect a leader through this Lease (namespace, name); off when `None`.
    pub leader_election: Option<(String, String)>,
    /// Watch every namespace instead of the scenario's own (narrow it with `--label-selector` in
    /// `extra_args`: other tests share the cluster).
    pub all_namespaces: bool,
    /// Run the release build ([`operator_binary_release`]) instead of the debug one.
    pub release: bool,
    /// Run the release build with a heap profiler ([`operator_binary_heap_profile`]), which
    /// writes its profile to this file when the operator stops.
    pub heap_profile: Option<PathBuf>,
}

impl Default for OperatorOptions {
    fn default() -> Self {
        OperatorOptions {
            resync_period: Duration::from_secs(3),
            extra_args: Vec::new(),
            env: Vec::new(),
            kubeconfig: None,
            leader_election: None,
            all_namespaces: false,
            release: false,
            heap_profile: None,
        }
    }
}

/// How long the operator may take to listen and become ready.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The operator binary running against the bed and an emulator.
pub struct OperatorProcess {
    process: ServerProcess,
    metrics: String,
}

impl OperatorProcess {
    /// Starts `cloudwatch-operator run` watching `namespace` (all namespaces when `None`), with
    /// AWS at `endpoint`.
    pub fn start(
        bed: &Bed,
        namespace: Option<&str>,
        endpoint: &str,
        options: &OperatorOptions,
        log: &Path,
    ) -> Result<OperatorProcess> {
        let binary = if options.heap_profile.is_some() {
            operator_binary_heap_profile()?
        } else if options.release {
            operator_binary_release()?
        } else {
            operator_binary()?
        };
        let mut command = Command::new(binary);
        command.arg("run");
        if let Some(namespace) = namespace {
            command.arg("--watch-namespace").arg(namespace);
        }

        command
            .arg("--aws-endpoint-url")
            .arg(endpoint)
            .arg("--default-region")
            .arg(REGION)
            .arg("--cluster-id")
            .arg("e2e")
            // Port 0: the kernel picks a port no other process holds, learned once it listens.
            .arg("--metrics-address")
            .arg("127.0.0.1:0")
            .arg("--resync-period")
            .arg(format!("{}ms", options.resync_period.as_millis()))
            .args(&options.extra_args)
            .env(
                "KUBECONFIG",
                options
                    .kubeconfig
                    .as_deref()
                    .unwrap_or(bed.kubeconfig_path()),
            )
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env(
                "RUST_LOG",
                std::env::var("CWO_E2E_LOG").unwrap_or_else(|_| "info".into()),
            )
            .env("NO_COLOR", "1");
        match &options.leader_election {
            Some((namespace, lease)) => {
                command
                    .arg("--leader-election=true")
                    .arg("--leader-election-namespace")
                    .arg(namespace)
                    .arg("--lease-name")
                    .arg(lease);
            }
            None => {
                command.arg("--leader-election=false");
            }
        }
        for (k, v) in &options.env {
            command.env(k, v);
        }
        if let Some(profile) = &options.heap_profile {
            command.env("CWO_HEAP_PROFILE", profile);
        }
        let mut process = ServerProcess::spawn("cloudwatch-operator", command, log)?;
        let deadline = Instant::now() + START_TIMEOUT;
        let addr = wait_for_listener(&mut process, START_TIMEOUT).with_context(|| {
            format!("the operator's metrics address:\n{}", process.log_tail(40))
        })?;
        let metrics = format!("http://{addr}");
        let mut op = OperatorProcess { process, metrics };
        op.wait_until_serving(deadline)?;
        Ok(op)
    }

    fn wait_until_serving(&mut self, deadline: Instant) -> Result<()> {
        while Instant::now() < deadline {
            if let Some(status) = self.process.exited() {
                bail!(
                    "the operator exited with {status} at start-up:\n{}",
                    self.process.log_tail(40)
                );
            }
            if http_get(&format!("{}/readyz", self.metrics)).is_ok_and(|(code, _)| code == 200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "the operator did not become ready within {START_TIMEOUT:?}:\n{}",
            self.process.log_tail(40)
        )
    }

    /// The operator's process id (for reading its memory and CPU time from `/proc`).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The operator's `/metrics` text.
    pub fn metrics(&self) -> Result<String> {
        let (code, body) = http_get(&format!("{}/metrics", self.metrics))?;
        if code != 200 {
            bail!("/metrics answered {code}");
        }
        Ok(body)
    }

    /// The operator's `/metrics`, parsed (see [`crate::prometheus`]: a series a check reads
    /// must be there).
    pub fn scrape(&self) -> Result<Scrape> {
        Scrape::parse(&self.metrics()?).context("parsing the operator's /metrics")
    }

    /// Status writes this operator process has made for `kind`
    /// (`cwo_kube_writes_total{kind, write="status"}`); fails when the series is missing.
    pub fn status_writes(&self, kind: &str) -> Result<u64> {
        let writes = self.scrape()?.value(
            "cwo_kube_writes_total",
            &[("kind", kind), ("write", "status")],
        )?;
        Ok(writes as u64)
    }

    /// `kill -9`: no chance to finish anything.
    pub fn kill(&mut self) {
        self.process.stop();
    }

    /// SIGTERM; waits up to `grace` for a clean exit. Returns the exit status if it exited.
    pub fn terminate(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        self.process.terminate(grace)
    }

    /// `Some` once the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.process.exited()
    }

    /// The operator's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.process.log_path()).unwrap_or_default()
    }
}

/// A plain HTTP GET on loopback; returns status code and body.
fn http_get(url: &str) -> Result<(u16, String)> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .context("http:// URL expected")?;
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let code = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("malformed HTTP response")?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((code, body))
}

/// One end-to-end scenario: a namespace, an emulator and the operator.
pub struct Scenario {
    pub bed: &'static Bed,
    pub emulator: EmulatorHandle,
    pub sdk: SdkConfig,
    namespace: TestNamespace<'static>,
    operator: Option<OperatorProcess>,
    options: OperatorOptions,
    dir: tempfile::TempDir,
    starts: usize,
    // Dropped last: the namespace above is deleted while its API server still runs.
    _own_bed: Option<OwnBed>,
}

/// A control plane started for one scenario, stopped (and its directory removed) when the
/// scenario ends. The [`Bed`] value itself is leaked to give it the `'static` lifetime the
/// shared bed has: a few hundred bytes per scenario that restarts its API server.
struct OwnBed(&'static Bed);

impl Drop for OwnBed {
    fn drop(&mut self) {
        self.0.stop();
    }
}

impl Scenario {
    /// A scenario with the default emulator and operator options.
    pub async fn start(name: &str) -> Result<Scenario> {
        Self::start_with(name, EmulatorConfig::default(), OperatorOptions::default()).await
    }

    /// A scenario with these emulator and operator settings.
    pub async fn start_with(
        name: &str,
        emulator: EmulatorConfig,
        options: OperatorOptions,
    ) -> Result<Scenario> {
        let mut s = Self::without_operator(name, emulator, options)?;
        s.start_operator()?;
        Ok(s)
    }

    /// A scenario whose operator is not started yet (see [`Scenario::start_operator`]).
    pub fn without_operator(
        name: &str,
        emulator: EmulatorConfig,
        options: OperatorOptions,
    ) -> Result<Scenario> {
        Self::without_operator_in(None, name, emulator, options)
    }

    /// As [`Scenario::without_operator`], in a namespace named with exactly
    /// `namespace_length` characters.
    pub fn without_operator_in_namespace_of_length(
        namespace_length: usize,
        name: &str,
        emulator: EmulatorConfig,
        options: OperatorOptions,
    ) -> Result<Scenario> {
        Self::without_operator_in(Some(namespace_length), name, emulator, options)
    }

    fn without_operator_in(
        namespace_length: Option<usize>,
        name: &str,
        emulator: EmulatorConfig,
        options: OperatorOptions,
    ) -> Result<Scenario> {
        let bed = Bed::shared()?;
        install_crds_once(bed)?;
        let namespace = match namespace_length {
            Some(len) => TestNamespace::create_with_length(bed, name, len)?,
            None => TestNamespace::create(bed, name)?,
        };
        Self::on_bed(bed, None, namespace, emulator, options)
    }

    /// A scenario on a local control plane of its own, for tests that stop and start its
    /// servers ([`Bed::stop_component`]); the shared bed must keep serving the other tests.
    pub async fn start_on_own_bed(
        name: &str,
        emulator: EmulatorConfig,
        options: OperatorOptions,
    ) -> Result<Scenario> {
        let bed: &'static Bed = Box::leak(Box::new(Bed::start_local(
            crate::ControlPlaneConfig::default(),
        )?));
        let own = OwnBed(bed);
        crate::checks::install_crds(
            bed,
            &crate::manifests::Crd::read_dir(&repo_root().join("crds"))?,
        )?;
        report(&format!("cwo-bed for {name}: {}", bed.description()));
        let namespace = TestNamespace::create(bed, name)?;
        let mut s = Self::on_bed(bed, Some(own), namespace, emulator, options)?;
        s.start_operator()?;
        Ok(s)
    }

    fn on_bed(
        bed: &'static Bed,
        own_bed: Option<OwnBed>,
        namespace: TestNamespace<'static>,
        emulator: EmulatorConfig,
        options: OperatorOptions,
    ) -> Result<Scenario> {
        let emulator = EmulatorHandle::start(emulator)?;
        let sdk = sdk_config(&emulator.endpoint());
        Ok(Scenario {
            bed,
            emulator,
            sdk,
            namespace,
            operator: None,
            options,
            dir: tempfile::Builder::new().prefix("cwo-e2e-").tempdir()?,
            starts: 0,
            _own_bed: own_bed,
        })
    }

    /// The scenario's namespace.
    pub fn namespace(&self) -> &str {
        self.namespace.name()
    }

    /// Starts (or restarts) the operator.
    pub fn start_operator(&mut self) -> Result<()> {
        self.starts += 1;
        let log = self
            .dir
            .path()
            .join(format!("operator-{}.log", self.starts));
        // AWSAccounts are cluster-scoped, and tests run side by side on one cluster: a scenario's
        // operator serves only the AWSAccounts labelled for it, unless the test says otherwise.
        let mut options = self.options.clone();
        if !options
            .extra_args
            .iter()
            .any(|a| a.starts_with("--account-label-selector"))
        {
            options.extra_args.extend([
                "--account-label-selector".to_string(),
                format!("{E2E_OPERATOR_LABEL}={}", self.namespace.name()),
            ]);
        }
        let op = OperatorProcess::start(
            self.bed,
            (!options.all_namespaces).then(|| self.namespace.name()),
            &self.emulator.endpoint(),
            &options,
            &log,
        )?;
        self.operator = Some(op);
        Ok(())
    }

    /// Replaces the operator options used by the next [`Scenario::start_operator`].
    pub fn set_operator_options(&mut self, options: OperatorOptions) {
        self.options = options;
    }

    /// The running operator.
    pub fn operator(&mut self) -> &mut OperatorProcess {
        self.operator.as_mut().expect("the operator was started")
    }

    /// The running operator's `/metrics`, parsed.
    pub fn operator_scrape(&self) -> Result<Scrape> {
        self.running_operator()?.scrape()
    }

    /// Status writes the running operator has made for `kind` (see
    /// [`OperatorProcess::status_writes`]).
    pub fn status_writes(&self, kind: &str) -> Result<u64> {
        self.running_operator()?.status_writes(kind)
    }

    fn running_operator(&self) -> Result<&OperatorProcess> {
        self.operator
            .as_ref()
            .context("the operator was not started")
    }

    /// Waits up to `timeout` for the operator process to exit by itself (for example at a crash
    /// point set with `CWO_TEST_CRASH_AFTER`) and returns its exit status.
    pub async fn wait_operator_exit(
        &mut self,
        timeout: Duration,
    ) -> Result<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.operator().exited() {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                bail!(
                    "the operator did not exit within {timeout:?}:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every operator log of this scenario, oldest first.
    pub fn operator_logs(&self) -> String {
        let mut out = String::new();
        for i in 1..=self.starts {
            let path = self.dir.path().join(format!("operator-{i}.log"));
            out.push_str(&format!("----- operator start {i} -----\n"));
            out.push_str(&std::fs::read_to_string(path).unwrap_or_default());
        }
        out
    }

    /// The last lines of the current operator log (for assertion messages).
    pub fn log_tail(&self) -> String {
        tail(
            &self
                .dir
                .path()
                .join(format!("operator-{}.log", self.starts)),
            60,
        )
    }

    /// `kubectl` in the scenario's namespace.
    pub fn kubectl<I, S>(&self, args: I) -> Result<crate::KubectlOutput>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["-n".into(), self.namespace.name().into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self.bed.kubectl(all)
    }

    /// Runs the operator binary with `args` (a one-shot command such as `plan`) as a person
    /// would from a shell: the bed's kubeconfig, the scenario's emulator as AWS, its region and
    /// cluster id in the environment. Feeds `stdin` if given; returns the output whatever the
    /// exit status.
    pub fn operator_command<I, S>(&self, args: I, stdin: Option<&str>) -> Result<KubectlOutput>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = self.bed.command(operator_binary()?);
        self.set_cli_env(&mut command);
        crate::kubectl::run(command, args, stdin)
    }

    /// As [`Scenario::operator_command`], through kubectl: the binary installed as the kubectl
    /// plugin `kubectl-cwo` (a copy in a directory put first on `PATH`), run as
    /// `kubectl cwo ARGS`.
    pub fn kubectl_cwo<I, S>(&self, args: I, stdin: Option<&str>) -> Result<KubectlOutput>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let plugins = self.dir.path().join("plugins");
        let plugin = plugins.join("kubectl-cwo");
        if !plugin.exists() {
            std::fs::create_dir_all(&plugins)?;
            std::fs::copy(operator_binary()?, &plugin)
                .with_context(|| format!("installing {}", plugin.display()))?;
        }
        let mut command = self.bed.kubectl_command();
        self.set_cli_env(&mut command);
        let path = std::env::var_os("PATH").unwrap_or_default();
        let paths = std::iter::once(plugins).chain(std::env::split_paths(&path));
        command.env("PATH", std::env::join_paths(paths)?);
        let mut all: Vec<std::ffi::OsString> = vec!["cwo".into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        crate::kubectl::run(command, all, stdin)
    }

    fn set_cli_env(&self, command: &mut Command) {
        command
            .env("CWO_AWS_ENDPOINT_URL", self.emulator.endpoint())
            .env("CWO_DEFAULT_REGION", REGION)
            .env("CWO_CLUSTER_ID", "e2e")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1");
    }

    /// `kubectl apply -f -` of `yaml` in the scenario's namespace.
    pub fn apply_yaml(&self, yaml: &str) -> Result<()> {
        self.bed
            .kubectl_with_stdin(["apply", "-n", self.namespace.name(), "-f", "-"], yaml)?
            .ok()?;
        Ok(())
    }

    /// `kubectl apply -f <repo>/<path>` in the scenario's namespace.
    pub fn apply_file(&self, path: &str) -> Result<()> {
        let full = repo_root().join(path);
        self.kubectl(["apply", "-f", full.to_str().context("path is UTF-8")?])?
            .ok()?;
        Ok(())
    }

    /// An object as JSON (`kind` as kubectl accepts it, e.g. `alarm`), or `None` if it does not
    /// exist.
    pub fn get(&self, kind: &str, name: &str) -> Result<Option<Value>> {
        let out = self.kubectl(["get", kind, name, "-o", "json"])?;
        if !out.success() {
            if out.stderr.contains("NotFound") || out.stderr.contains("not found") {
                return Ok(None);
            }
            bail!("kubectl get {kind} {name}: {}", out.combined());
        }
        Ok(Some(serde_json::from_str(&out.stdout)?))
    }

    /// The condition `type_` of an object: (status, reason, message).
    pub fn condition(
        &self,
        kind: &str,
        name: &str,
        type_: &str,
    ) -> Result<Option<(String, String, String)>> {
        let Some(obj) = self.get(kind, name)? else {
            return Ok(None);
        };
        Ok(obj["status"]["conditions"].as_array().and_then(|cs| {
            cs.iter().find(|c| c["type"] == type_).map(|c| {
                (
                    c["status"].as_str().unwrap_or_default().to_string(),
                    c["reason"].as_str().unwrap_or_default().to_string(),
                    c["message"].as_str().unwrap_or_default().to_string(),
                )
            })
        }))
    }

    /// Waits until `check` returns `Some`, polling every 200 ms, up to `timeout`.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        let mut last_error = None;
        loop {
            match check() {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => last_error = Some(e),
            }
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {timeout:?} waiting for {what}{}\n--- operator log (tail) ---\n{}",
                    last_error
                        .map(|e| format!(" (last error: {e:#})"))
                        .unwrap_or_default(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the async `check` returns `Some` (for checks that call AWS through the SDK),
    /// polling every 200 ms, up to `timeout`.
    pub async fn wait_until<T, F>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut() -> F,
    ) -> Result<T>
    where
        F: std::future::Future<Output = Result<Option<T>>>,
    {
        let deadline = Instant::now() + timeout;
        let mut last_error = None;
        loop {
            match check().await {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => last_error = Some(e),
            }
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {timeout:?} waiting for {what}{}\n--- operator log (tail) ---\n{}",
                    last_error
                        .map(|e| format!(" (last error: {e:#})"))
                        .unwrap_or_default(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the object's Ready condition has `status` (`"True"`/`"False"`) and, if
    /// given, `reason`, for its current generation. Returns the condition's message.
    pub async fn wait_condition(
        &self,
        kind: &str,
        name: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<String> {
        self.wait_for(
            &format!("{kind}/{name} Ready={status} reason={reason:?}"),
            Duration::from_secs(60),
            || {
                let Some(obj) = self.get(kind, name)? else {
                    return Ok(None);
                };
                let generation = obj["metadata"]["generation"].as_i64();
                let ready = obj["status"]["conditions"]
                    .as_array()
                    .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready").cloned());
                Ok(ready
                    .filter(|c| {
                        c["status"] == status
                            && reason.is_none_or(|r| c["reason"] == r)
                            && c["observedGeneration"].as_i64() == generation
                    })
                    .map(|c| c["message"].as_str().unwrap_or_default().to_string()))
            },
        )
        .await
    }

    /// Waits until the object is Ready (True) for its current generation.
    pub async fn wait_ready(&self, kind: &str, name: &str) -> Result<String> {
        self.wait_condition(kind, name, "True", None).await
    }

    /// Waits until the object is gone from the cluster.
    pub async fn wait_gone(&self, kind: &str, name: &str) -> Result<()> {
        self.wait_for(
            &format!("{kind}/{name} to be deleted"),
            Duration::from_secs(60),
            || Ok(self.get(kind, name)?.is_none().then_some(())),
        )
        .await
    }

    /// Event reasons recorded for an object (any type), oldest first.
    pub fn event_reasons(&self, name: &str) -> Result<Vec<String>> {
        let out = self
            .kubectl([
                "get",
                "events.events.k8s.io",
                "--field-selector",
                &format!("regarding.name={name}"),
                "-o",
                "json",
            ])?
            .ok()?;
        let v: Value = serde_json::from_str(&out.stdout)?;
        let mut items: Vec<(String, String)> = v["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|e| {
                        (
                            e["eventTime"].as_str().unwrap_or_default().to_string(),
                            e["reason"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        items.sort();
        Ok(items.into_iter().map(|(_, r)| r).collect())
    }

    /// Number of AWS write calls the emulator has answered so far (any outcome).
    pub fn aws_writes(&self) -> u64 {
        self.emulator.calls().writes()
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- operator logs of the failed scenario in {} ---\n{}",
                self.namespace.name(),
                self.operator_logs()
            );
        }
        if let Some(mut op) = self.operator.take() {
            op.kill();
        }
    }
}

/// Installs the CRDs from `crds/` (once per process) and waits until they are Established.
pub fn install_crds_once(bed: &Bed) -> Result<()> {
    static INSTALLED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let crds = crate::manifests::Crd::read_dir(&repo_root().join("crds"))
                .map_err(|e| format!("{e:#}"))?;
            crate::checks::install_crds(bed, &crds).map_err(|e| format!("{e:#}"))
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("installing the CRDs: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operators_build_forgets_only_what_names_the_running_package() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
            "OUT_DIR",
        ] {
            assert!(names_the_running_package(name), "{name} kept");
        }
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_PROFILE_RELEASE_LTO",
            "CARGO_BUILD_JOBS",
            "CARGO_INCREMENTAL",
            "PATH",
        ] {
            assert!(!names_the_running_package(name), "{name} dropped");
        }
    }
}
