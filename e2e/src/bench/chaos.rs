//! `cwo-bench --chaos`: the randomized crash test of `cwo_e2e::chaos` at length, with the
//! release operator and a fleet of about the size users reported trouble with (165 objects of
//! every kind), in two runs: SIGKILLs alone, then SIGKILLs with the emulator answering with
//! throttling and 5xx errors as well. Each run gets its own control plane and emulator, and
//! prints its seed; `--seed` replays a run's operations and kill delays.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use cwo_e2e::chaos::fleet::Sizes;
use cwo_e2e::chaos::{self, Report, Settings, Target};
use cwo_e2e::checks::install_crds;
use cwo_e2e::manifests::Crd;
use cwo_e2e::operator::{EmulatorHandle, OperatorOptions, sdk_config};
use cwo_e2e::{Bed, ControlPlaneConfig, repo_root};
use cwo_emulator::FaultSettings;
use serde::Serialize;

/// The namespace the fleet lives in (and the only one the operator watches).
const NAMESPACE: &str = "cwo-chaos";

/// 80 alarms, 15 composites over them, 10 metric streams, 49 log subscriptions on 25 log
/// groups at the filter limit, 10 sampling rules: 164 objects.
const SIZES: Sizes = Sizes {
    alarms: 80,
    composite_alarms: 15,
    metric_streams: 10,
    log_groups: 25,
    sampling_rules: 10,
    metric_filters: 20,
    log_destinations: 5,
};

/// A tenth of it, for `--quick`.
const QUICK_SIZES: Sizes = Sizes {
    alarms: 12,
    composite_alarms: 3,
    metric_streams: 3,
    log_groups: 5,
    sampling_rules: 3,
    metric_filters: 4,
    log_destinations: 2,
};

/// What `--chaos` runs.
pub struct ChaosOptions {
    pub quick: bool,
    /// Replays this seed (every run uses it); otherwise each run takes a fresh one.
    pub seed: Option<u64>,
    /// Iterations per run; default 200 without faults and 100 with them (20 and 10 with `--quick`).
    pub iterations: Option<usize>,
    pub operator_args: Vec<String>,
    pub logs: PathBuf,
}

/// One run of the chaos.
#[derive(Serialize)]
struct Run {
    name: &'static str,
    description: &'static str,
    faults: Option<FaultSettings>,
    report: Option<Report>,
    error: Option<String>,
    replay: String,
}

/// Runs the chaos scenarios, writes `chaos.json` and `chaos.md` under `out`, and returns the
/// Markdown and whether every run passed.
pub async fn run(options: &ChaosOptions, out: &Path) -> Result<(String, bool)> {
    let faults = FaultSettings {
        throttle_rate: 0.15,
        internal_error_rate: 0.05,
        unavailable_rate: 0.05,
        ..Default::default()
    };
    let default_iterations = if options.quick { 20 } else { 200 };
    let plans: [(&'static str, &'static str, Option<FaultSettings>, usize); 2] = [
        (
            "chaos",
            "SIGKILL at random points while objects are created, edited and deleted",
            None,
            options.iterations.unwrap_or(default_iterations),
        ),
        (
            "chaos-faults",
            "the same, with 15% throttling, 5% HTTP 500 and 5% HTTP 503 answers on every AWS call",
            Some(faults),
            options.iterations.unwrap_or(default_iterations / 2),
        ),
    ];
    let mut runs = Vec::new();
    for (name, description, faults, iterations) in plans {
        let seed = options.seed.unwrap_or_else(chaos::fresh_seed);
        eprintln!("cwo-bench: {name}: seed {seed}, {iterations} iterations: {description}");
        let result = run_one(name, seed, iterations, faults.clone(), options).await;
        let (report, error) = match result {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(format!("{e:#}"))),
        };
        if let Some(r) = &report {
            eprintln!("cwo-bench: {name}: {}", r.summary());
        }
        if let Some(e) = &error {
            eprintln!("cwo-bench: {name}: could not finish: {e}");
        }
        runs.push(Run {
            name,
            description,
            faults,
            report,
            error,
            replay: format!(
                "cargo run --release -p cwo-e2e --bin cwo-bench -- --chaos --seed {seed} \
                 --chaos-iterations {iterations}{}",
                if options.quick { " --quick" } else { "" }
            ),
        });
    }
    let passed = runs
        .iter()
        .all(|r| r.error.is_none() && r.report.as_ref().is_some_and(Report::passed));
    let markdown = markdown(&runs, options.quick);
    std::fs::create_dir_all(out)?;
    let json = out.join("chaos.json");
    std::fs::write(&json, serde_json::to_string_pretty(&runs)?)
        .with_context(|| format!("writing {}", json.display()))?;
    let md = out.join("chaos.md");
    std::fs::write(&md, &markdown).with_context(|| format!("writing {}", md.display()))?;
    eprintln!(
        "cwo-bench: chaos: wrote {} and {}",
        json.display(),
        md.display()
    );
    Ok((markdown, passed))
}

async fn run_one(
    name: &str,
    seed: u64,
    iterations: usize,
    faults: Option<FaultSettings>,
    options: &ChaosOptions,
) -> Result<Report> {
    let sizes = if options.quick { QUICK_SIZES } else { SIZES };
    let bed = Bed::start_local(ControlPlaneConfig::default())?;
    eprintln!("cwo-bench:   {}", bed.description());
    install_crds(&bed, &Crd::read_dir(&repo_root().join("crds"))?)?;
    bed.kubectl(["create", "namespace", NAMESPACE])?.ok()?;
    let emulator = EmulatorHandle::start(chaos::emulator_config())?;
    let sdk = sdk_config(&emulator.endpoint());
    chaos::create_prerequisites(&sdk, &sizes)
        .await
        .context("creating the delivery stream and log groups")?;
    if let Some(f) = faults {
        emulator.inner().set_faults(f)?;
    }
    let logs = options.logs.join(name);
    // Logs of an earlier run would be mistaken for this one's.
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs)?;
    let settings = Settings {
        seed,
        iterations,
        sizes,
        check_every: 10,
        max_kill_delay: Duration::from_secs(3),
        settle_timeout: Duration::from_secs(300),
        operator: OperatorOptions {
            resync_period: Duration::from_secs(30),
            extra_args: options.operator_args.clone(),
            release: true,
            ..OperatorOptions::default()
        },
    };
    let target = Target {
        bed: &bed,
        namespace: NAMESPACE,
        emulator: &emulator,
        sdk: &sdk,
        logs: &logs,
    };
    chaos::run(&target, &settings).await
}

fn markdown(runs: &[Run], quick: bool) -> String {
    let mut out = String::new();
    let sizes = if quick { QUICK_SIZES } else { SIZES };
    let _ = writeln!(
        out,
        "## chaos\n\n{} objects kept alive: {} alarms, {} composite alarms, {} metric streams, {} \
         log subscriptions on {} log groups at the filter limit, {} metric filters on the same \
         groups, {} log destinations, {} sampling rules.\n",
        sizes.total(),
        sizes.alarms,
        sizes.composite_alarms,
        sizes.metric_streams,
        sizes.log_subscriptions(),
        sizes.log_groups,
        sizes.metric_filters,
        sizes.log_destinations,
        sizes.sampling_rules
    );
    let _ = writeln!(
        out,
        "| run | seed | iterations | kills | checks | creates | edits | deletes | orphans | duplicates | stuck | seconds | result |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for run in runs {
        match (&run.report, &run.error) {
            (Some(r), _) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {} |",
                    run.name,
                    r.seed,
                    r.iterations,
                    r.kills,
                    r.checks,
                    r.creates,
                    r.edits,
                    r.deletes,
                    r.orphans,
                    r.duplicates,
                    r.stuck,
                    r.seconds,
                    match &r.failed_at {
                        None => "passed".to_string(),
                        Some(at) => format!("failed at {at}"),
                    }
                );
            }
            (None, e) => {
                let _ = writeln!(
                    out,
                    "| {} | | | | | | | | | | | | could not finish: {} |",
                    run.name,
                    e.as_deref().unwrap_or_default()
                );
            }
        }
    }
    for run in runs {
        let _ = writeln!(
            out,
            "\n{}: {}. Replay: `{}`",
            run.name, run.description, run.replay
        );
        if let Some(r) = run.report.as_ref().filter(|r| !r.passed()) {
            let _ = writeln!(out, "\n```");
            for line in r.findings.stuck.iter().chain(&r.findings.differences) {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(out, "{}```", r.diagnosis);
        }
    }
    out
}
