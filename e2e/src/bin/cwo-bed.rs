//! `cwo-bed`: starts the local test bed and keeps it running for a person until Ctrl-C.
//!
//! Stages, in order:
//! 1. Kubernetes: etcd, kube-apiserver and kube-controller-manager on loopback ports.
//!
//! Each stage adds the variables a shell needs to reach it to one environment file; the bed
//! prints them and writes them to `<bed dir>/env`. Stages still to come slot in after the first,
//! in this order: the AWS emulator (`cwo_emulator::Emulator`, exporting its endpoint), the CRDs
//! from `crds/`, then the operator running against both.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use cwo_e2e::{Bed, ControlPlaneConfig, Tools};

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

    let outcome = run_until_stopped(&bed);
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

/// Waits for Ctrl-C or SIGTERM, watching that the bed's processes stay up.
fn run_until_stopped(bed: &Bed) -> Result<()> {
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
                _ = tick.tick() => bed.check_running()?,
            }
        }
        eprintln!("cwo-bed: stopping");
        Ok(())
    })
}
