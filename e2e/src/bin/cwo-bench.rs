//! `cwo-bench`: the operator's benchmark. Each scenario starts a local control plane, the AWS
//! emulator and the release build of the operator, drives a fleet of objects through the API
//! server and measures the operator from outside (`/proc`, its `/metrics`, the emulator's call
//! counts, the API server's request counts). Results go to `<target dir>/bench/` as one JSON and
//! one Markdown file per scenario, plus `summary.md`; the tables are also printed at the end.
//!
//! ```sh
//! cargo run --release -p cwo-e2e --bin cwo-bench -- [--scenario alarms,mixed] [--quick]
//! cargo run --release -p cwo-e2e --bin cwo-bench -- --chaos [--seed N] [--chaos-iterations N]
//! ```

// The benchmark's modules live in `src/bench/` and are compiled into this binary only, not into
// the library the end-to-end tests link.
#[path = "../bench/mod.rs"]
mod bench;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use clap::builder::PossibleValuesParser;

use bench::scenario::{self, NAMES, RunOptions};

/// Benchmark cloudwatch-operator on a local API server and the AWS emulator.
#[derive(Parser, Debug)]
#[command(name = "cwo-bench")]
struct Args {
    /// Scenarios to run, comma-separated or repeated. Default: all of them but `soak` (half an
    /// hour; `--quick`: three minutes), which runs only when named.
    #[arg(long, value_delimiter = ',', value_parser = PossibleValuesParser::new(NAMES))]
    scenario: Vec<String>,
    /// Reduced sizes (200 alarms, a tenth of the mixed fleet, ...): a smoke run of a few minutes.
    /// Results go to `bench/quick/`.
    #[arg(long)]
    quick: bool,
    /// Run the operator built with its heap profiler (`--features heap-profile`): each operator
    /// process writes a dhat profile next to its log. Much slower: the times and CPU figures of
    /// such a run mean nothing; the heap profile says where memory goes.
    #[arg(long)]
    heap_profile: bool,
    /// Directory for the results. Default: `<target dir>/bench` (`CARGO_TARGET_DIR` is honoured).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Extra flag for `cloudwatch-operator run` in every scenario (repeat; for experiments such as
    /// `--operator-arg=--concurrency=16`).
    #[arg(long = "operator-arg", allow_hyphen_values = true)]
    operator_args: Vec<String>,
    /// Instead of the scenarios: the randomized crash test at length (the operator SIGKILLed at
    /// random points while a mixed fleet is created, edited and deleted; then with throttling
    /// and 5xx answers too), checking for orphans, duplicates and stuck objects.
    #[arg(long, conflicts_with = "scenario")]
    chaos: bool,
    /// With --chaos: the seed to replay (printed by every run). Default: a fresh one per run.
    #[arg(long, requires = "chaos")]
    seed: Option<u64>,
    /// With --chaos: iterations of each run. Default: 200 without faults, 100 with them (20 and
    /// 10 with --quick).
    #[arg(long, requires = "chaos")]
    chaos_iterations: Option<usize>,
    /// Measure what the bed's API server itself takes to delete 1,000 alarms holding the
    /// operator's finalizer (100 with --quick), with no operator: the DeleteCollection, the
    /// finalizer removals, the Events, each alone. Writes apiserver-floor.json and .md.
    #[arg(long, conflicts_with_all = ["scenario", "chaos"])]
    apiserver_floor: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cwo-bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cwo-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the chosen scenarios; false when one of them could not finish.
async fn run(args: Args) -> Result<bool> {
    let out = match args.out {
        Some(dir) => dir,
        None => {
            let bench = target_dir()?.join("bench");
            if args.quick {
                bench.join("quick")
            } else {
                bench
            }
        }
    };
    let logs = out.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    if args.apiserver_floor {
        let floor = bench::floor::run(if args.quick { 100 } else { 1_000 }).await?;
        let (json, md) = floor.write(&out)?;
        eprintln!("cwo-bench: wrote {} and {}", json.display(), md.display());
        println!("{}", floor.markdown());
        return Ok(true);
    }
    eprintln!("cwo-bench: building the operator (release)");
    let binary = if args.heap_profile {
        cwo_e2e::operator::operator_binary_heap_profile()?
    } else {
        cwo_e2e::operator::operator_binary_release()?
    };
    eprintln!("cwo-bench: operator {}", binary.display());
    if args.chaos {
        let options = bench::chaos::ChaosOptions {
            quick: args.quick,
            seed: args.seed,
            iterations: args.chaos_iterations,
            operator_args: args.operator_args,
            logs,
        };
        let (markdown, passed) = bench::chaos::run(&options, &out).await?;
        println!("{markdown}");
        return Ok(passed);
    }
    let options = RunOptions {
        quick: args.quick,
        heap_profile: args.heap_profile,
        operator_args: args.operator_args,
        logs,
    };
    let chosen: Vec<scenario::Scenario> = scenario::all(args.quick)
        .into_iter()
        .filter(|s| {
            if args.scenario.is_empty() {
                !s.by_name_only
            } else {
                args.scenario.iter().any(|n| n == s.name)
            }
        })
        .collect();
    let mut tables = Vec::new();
    let mut finished = true;
    for s in &chosen {
        let report = scenario::run(s, &options).await;
        finished &= report.error.is_none();
        let (json, md) = report.write(&out)?;
        eprintln!(
            "cwo-bench: {}: wrote {} and {}",
            s.name,
            json.display(),
            md.display()
        );
        tables.push(report.markdown());
    }
    let summary = out.join("summary.md");
    std::fs::write(&summary, tables.join("\n"))
        .with_context(|| format!("writing {}", summary.display()))?;
    println!("{}", tables.join("\n"));
    eprintln!("cwo-bench: tables in {}", summary.display());
    Ok(finished)
}

/// The workspace's target directory as cargo sees it (`CARGO_TARGET_DIR`, `build.target-dir`,
/// else `target/` in the workspace).
fn target_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return Ok(if dir.is_absolute() {
            dir
        } else {
            cwo_e2e::repo_root().join(dir)
        });
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = std::process::Command::new(cargo)
        .current_dir(cwo_e2e::repo_root())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output();
    let from_metadata = out.ok().filter(|o| o.status.success()).and_then(|o| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
        v["target_directory"].as_str().map(PathBuf::from)
    });
    Ok(from_metadata.unwrap_or_else(|| cwo_e2e::repo_root().join("target")))
}
