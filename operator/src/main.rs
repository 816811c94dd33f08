//! The `cloudwatch-operator` binary: one subcommand per job the operator does. Installed under
//! the name `kubectl-cwo` it is a kubectl plugin too (`kubectl cwo plan -f ...`), with the same
//! subcommands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use cloudwatch_operator::app::args::{LogFormat, RunArgs, init_logging};
use cloudwatch_operator::app::import::{ImportArgs, run_import};
use cloudwatch_operator::app::plan::{PlanArgs, PlanOutput, plan};
use cloudwatch_operator::app::run;
use cloudwatch_operator::crds;

/// The executable name under which kubectl runs the binary as its `cwo` plugin.
const KUBECTL_PLUGIN: &str = "kubectl-cwo";

/// Manage AWS CloudWatch alarms, composite alarms, metric streams, CloudWatch Logs subscription
/// filters, metric filters and destinations, and X-Ray sampling rules from Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "cloudwatch-operator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the controllers: make AWS match every object and report back in status.
    Run(Box<RunArgs>),
    /// Print the CustomResourceDefinitions as one YAML stream, or write one file per kind.
    Crds(CrdsArgs),
    /// Show what the operator would do in AWS for each object of the manifests, without doing
    /// it. Reads AWS and the cluster, never writes either. Exit code: 0 nothing would change,
    /// 2 something would, 1 an object would be refused or could not be planned (or an error).
    Plan(Box<PlanArgs>),
    /// Write manifests for existing AWS objects, to bring them under management: `adoption:
    /// IfUnowned` and `deletionPolicy: Retain` by default, AWS's defaults left out. Objects an
    /// operator already owns are skipped with a note on standard error. Reads AWS only.
    Import(Box<ImportArgs>),
}

#[derive(Debug, Args)]
struct CrdsArgs {
    /// Write one file per kind into this directory (for example `crds`) instead of printing.
    /// Repeat to write several directories (the repository keeps `crds` and the Helm chart's
    /// `charts/cloudwatch-operator/crds` identical).
    #[arg(long, value_name = "DIR")]
    out: Vec<PathBuf>,
}

/// With the `heap-profile` feature (for the benchmark only), every allocation is recorded.
#[cfg(feature = "heap-profile")]
#[global_allocator]
static HEAP: dhat::Alloc = dhat::Alloc;

fn main() -> ExitCode {
    let invoked_as = std::env::args_os()
        .next()
        .map(PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    let mut command = Cli::command();
    if invoked_as.as_deref() == Some(KUBECTL_PLUGIN) {
        command = command.name("kubectl cwo").bin_name("kubectl cwo");
    }
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Crds(args) => run_crds(args).map(|()| ExitCode::SUCCESS),
        Command::Run(args) => run_operator(*args).map(|()| ExitCode::SUCCESS),
        Command::Plan(args) => run_plan(&args),
        Command::Import(args) => run_import_command(&args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("cloudwatch-operator: {message}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn run_plan(args: &PlanArgs) -> Result<ExitCode, String> {
    init_logging(LogFormat::Text, "warn");
    let plan = runtime()?
        .block_on(plan(args))
        .map_err(|e| format!("{e:#}"))?;
    match args.output {
        PlanOutput::Text => print!("{}", plan.text()),
        PlanOutput::Json => println!(
            "{}",
            serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())?
        ),
    }
    Ok(ExitCode::from(plan.exit_code()))
}

fn run_import_command(args: &ImportArgs) -> Result<(), String> {
    init_logging(LogFormat::Text, "warn");
    let result = runtime()?
        .block_on(run_import(args))
        .map_err(|e| format!("{e:#}"))?;
    match &args.out {
        None => print!("{}", result.stream()),
        Some(dir) => {
            for path in result.write_files(dir).map_err(|e| format!("{e:#}"))? {
                eprintln!("wrote {}", path.display());
            }
        }
    }
    eprint!("{}", result.notes());
    Ok(())
}

fn run_operator(args: RunArgs) -> Result<(), String> {
    limit_malloc_arenas();
    init_logging(args.log_format, "info");
    // Written when `run` returns (SIGTERM), at the end of this function.
    #[cfg(feature = "heap-profile")]
    let _profile = dhat::Profiler::builder()
        .file_name(std::env::var_os("CWO_HEAP_PROFILE").unwrap_or_else(|| "dhat-heap.json".into()))
        .build();
    runtime()?.block_on(run(args)).map_err(|e| format!("{e:#}"))
}

/// How many malloc arenas the operator's threads share (glibc; `MALLOC_ARENA_MAX` or
/// `GLIBC_TUNABLES` in the environment take precedence).
const MALLOC_ARENAS: i32 = 2;

/// glibc gives a thread that finds the arenas busy one of its own, up to eight per core, and
/// memory freed into an arena is reused only from it: the runtime's threads, taking turns at the
/// work, each kept a heap of their own. Two arenas hold the operator's resident set to what it
/// uses (10,000 alarms: 95.2 MiB at the deletion's peak instead of 98.5, 2-4 MiB less in every
/// phase); a few threads contending for one is cheap next to the operator's I/O waits.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some()
        || std::env::var_os("GLIBC_TUNABLES").is_some()
    {
        return;
    }
    // SAFETY: mallopt sets one of malloc's parameters and touches no memory of ours; it is
    // called before the runtime starts any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn run_crds(args: CrdsArgs) -> Result<(), String> {
    if args.out.is_empty() {
        print!("{}", crds::render_stream().map_err(|e| e.to_string())?);
    }
    for dir in &args.out {
        for path in crds::write_files(dir).map_err(|e| e.to_string())? {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
