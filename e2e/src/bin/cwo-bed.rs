//! `cwo-bed`: starts the local test bed and keeps it running for a person until Ctrl-C.
//!
//! Stages, in order:
//! 1. Kubernetes: etcd, kube-apiserver and kube-controller-manager on loopback ports.
//! 2. The AWS emulator (in this process), its state kept in a file so a demo survives restarts.
//! 3. The CRDs from `crds/`.
//! 4. The operator (the real binary) against both.
//!
//! Each stage adds the variables a shell needs to reach it to one environment file; the bed
//! prints them and writes them to `<bed dir>/env`. `--bed-only` stops after stage 1.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use cwo_e2e::operator::{
    EmulatorHandle, OperatorOptions, OperatorProcess, REGION, install_crds_once,
};
use cwo_e2e::{Bed, ControlPlaneConfig, Tools};
use cwo_emulator::EmulatorConfig;

/// Start the local test bed (real kube-apiserver, etcd and kube-controller-manager) and keep it
/// running until Ctrl-C. Ignores KUBECONFIG: this command always starts its own control plane.
#[derive(Parser, Debug)]
#[command(name = "cwo-bed")]
struct Args {
    /// Do not run kube-controller-manager (namespaces then never finish deleting, and owned
    /// objects are not garbage-collected).
    #[arg(long)]
    no_controller_manager: bool,
    /// Keep the bed's directory (kubeconfig, certificates, etcd data, logs) after it stops.
    #[arg(long)]
    keep_dir: bool,
    /// Start only Kubernetes: no emulator, no CRDs, no operator.
    #[arg(long)]
    bed_only: bool,
    /// Port of the AWS emulator (the AWS CLI and SDKs reach it through AWS_ENDPOINT_URL).
    #[arg(long, default_value_t = 4566)]
    emulator_port: u16,
    /// File the emulator keeps its state in, so alarms survive a restart of the demo.
    /// Default: ~/.cache/cloudwatch-operator/demo-emulator-state.json.
    #[arg(long)]
    emulator_state: Option<std::path::PathBuf>,
    /// Extra flags for `cloudwatch-operator run` (repeat, e.g. --operator-arg=--resync-period=30s).
    #[arg(long = "operator-arg", allow_hyphen_values = true)]
    operator_args: Vec<String>,
}

/// Shell `export` lines, gathered from each stage.
#[derive(Default)]
struct Exports(Vec<(String, Value)>);

enum Value {
    Literal(String),
    Shell(String),
}

impl Exports {
    fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0
            .push((name.to_string(), Value::Literal(value.into())));
    }

    /// `expr` is shell text, written as is (e.g. `"/dir:$PATH"`).
    fn set_expr(&mut self, name: &str, expr: impl Into<String>) {
        self.0.push((name.to_string(), Value::Shell(expr.into())));
    }

    fn render(&self) -> String {
        self.0.iter().fold(String::new(), |mut out, (k, v)| {
            let v = match v {
                Value::Literal(s) => shell_quote(s),
                Value::Shell(s) => s.clone(),
            };
            let _ = writeln!(out, "export {k}={v}");
            out
        })
    }
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:=,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let tools = Tools::ensure()?;
    let bed = Bed::start_local(ControlPlaneConfig {
        controller_manager: !args.no_controller_manager,
        keep_dir: args.keep_dir || ControlPlaneConfig::default().keep_dir,
        ..ControlPlaneConfig::default()
    })?;
    let dir = bed.local_dir().context("a local bed has a directory")?;
    let version = cwo_e2e::checks::server_version(&bed)?;

    let mut exports = Exports::default();
    exports.set("KUBECONFIG", bed.kubeconfig_path().display().to_string());
    let tool_dirs = [&tools.kubectl, &tools.helm]
        .iter()
        .filter_map(|p| p.parent())
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    exports.set_expr("PATH", format!("\"{tool_dirs}:$PATH\""));

    // Stages 2 to 4: the emulator, the CRDs, the operator.
    let mut demo = None;
    if !args.bed_only {
        let state = match &args.emulator_state {
            Some(path) => path.clone(),
            None => cwo_e2e::tools::cache_dir().join("demo-emulator-state.json"),
        };
        let emulator = EmulatorHandle::start(EmulatorConfig {
            port: args.emulator_port,
            state_file: Some(state.clone()),
            ..EmulatorConfig::default()
        })
        .with_context(|| format!("starting the AWS emulator on port {}", args.emulator_port))?;
        exports.set("AWS_ENDPOINT_URL", emulator.endpoint());
        exports.set("AWS_ACCESS_KEY_ID", "test");
        exports.set("AWS_SECRET_ACCESS_KEY", "test");
        exports.set("AWS_DEFAULT_REGION", REGION);
        install_crds_once(&bed)?;
        let options = OperatorOptions {
            resync_period: Duration::from_secs(60),
            extra_args: args.operator_args.clone(),
            ..OperatorOptions::default()
        };
        let log = dir.join("operator.log");
        let operator = OperatorProcess::start(&bed, None, &emulator.endpoint(), &options, &log)?;
        println!(
            "cwo-bed: AWS emulator at {} (state in {})",
            emulator.endpoint(),
            state.display()
        );
        println!(
            "cwo-bed: CRDs installed; operator running (log: {})",
            log.display()
        );
        demo = Some((emulator, operator));
    }

    let env_file = dir.join("env");
    std::fs::write(&env_file, exports.render())
        .with_context(|| format!("writing {}", env_file.display()))?;

    println!("cwo-bed: kube-apiserver {version}: {}", bed.description());
    println!(
        "cwo-bed: run this in a shell to use it (or `source {}`):",
        env_file.display()
    );
    println!();
    print!("{}", exports.render());
    println!();
    println!(
        "cwo-bed: logs in {}; Ctrl-C stops the bed{}.",
        dir.display(),
        removal_note(&args)
    );

    let outcome = run_until_stopped(&bed, demo.as_mut().map(|(_, op)| op));
    if let Some((emulator, mut operator)) = demo {
        operator.terminate(Duration::from_secs(5));
        drop(emulator);
    }
    bed.stop();
    outcome
}

fn removal_note(args: &Args) -> &'static str {
    if args.keep_dir || ControlPlaneConfig::default().keep_dir {
        " (its directory is kept)"
    } else {
        " and removes its directory"
    }
}

/// Waits for Ctrl-C or SIGTERM, watching that the bed's processes (and the operator) stay up.
fn run_until_stopped(bed: &Bed, mut operator: Option<&mut OperatorProcess>) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = term.recv() => break,
                _ = tick.tick() => {
                    bed.check_running()?;
                    if let Some(status) = operator.as_mut().and_then(|op| op.exited()) {
                        anyhow::bail!("the operator exited ({status}); see its log in the bed directory");
                    }
                }
            }
        }
        eprintln!("cwo-bed: stopping");
        Ok(())
    })
}
