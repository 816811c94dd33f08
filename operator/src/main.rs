//! The `cloudwatch-operator` binary: one subcommand per job the operator does.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use cloudwatch_operator::app::args::{RunArgs, init_logging};
use cloudwatch_operator::app::run;
use cloudwatch_operator::crds;

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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Crds(args) => run_crds(args),
        Command::Run(args) => run_operator(*args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cloudwatch-operator: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_operator(args: RunArgs) -> Result<(), String> {
    init_logging(args.log_format);
    // Written when `run` returns (SIGTERM), at the end of this function.
    #[cfg(feature = "heap-profile")]
    let _profile = dhat::Profiler::builder()
        .file_name(std::env::var_os("CWO_HEAP_PROFILE").unwrap_or_else(|| "dhat-heap.json".into()))
        .build();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(run(args)).map_err(|e| format!("{e:#}"))
}

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
