//! Figures of one phase, from snapshots at its start and end: AWS calls (the emulator's counts,
//! reset at the start), the operator's CPU time, memory and own counters, the API server's count
//! of the writes it received, and the CPU time of every process on the machine that the bed runs.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result};
use cwo_e2e::operator::{EmulatorHandle, OperatorProcess};
use cwo_e2e::prometheus::{Scrape, delta};
use cwo_emulator::CallCounts;
use serde::Serialize;

use super::procfs::{self, MachineCpu, RssSampler};

/// Counters read at one moment.
pub struct Snapshot {
    at: Instant,
    operator_pid: u32,
    operator: OperatorCounters,
    apiserver_writes: BTreeMap<String, f64>,
    /// name → (pid, CPU seconds so far).
    cpu: BTreeMap<String, (u32, f64)>,
    machine: MachineCpu,
    bench_writes: u64,
}

#[derive(Default)]
struct OperatorCounters {
    kube_writes: BTreeMap<String, f64>,
    reconciles: BTreeMap<String, f64>,
    reconcile_seconds: BTreeMap<String, f64>,
    aws_throttled: f64,
    deletion_calls: BTreeMap<String, f64>,
}

impl OperatorCounters {
    /// Reads the counters from the operator's `/metrics`. A counter that is missing fails the
    /// phase: read as zero, it would meet every "= 0" budget without measuring anything.
    fn read(operator: &OperatorProcess) -> Result<OperatorCounters> {
        let s = operator.scrape()?;
        // The operator creates every kind's write series at zero when it starts.
        s.sum("cwo_kube_writes_total", &[("write", "status")])?;
        let calls_by_outcome = s.grouped("cwo_aws_calls_total", &["outcome"], |_| true)?;
        Ok(OperatorCounters {
            kube_writes: s.grouped("cwo_kube_writes_total", &["kind", "write"], |_| true)?,
            reconciles: s.grouped("cwo_reconciles_total", &["kind"], |_| true)?,
            reconcile_seconds: s.grouped(
                "cwo_reconcile_duration_seconds_sum",
                &["kind"],
                |_| true,
            )?,
            // Every operation's series exists at zero from the start, so a missing one fails.
            deletion_calls: s.grouped("cwo_deletion_aws_calls_total", &["operation"], |_| true)?,
            // The operator creates every outcome's series at zero when it starts.
            aws_throttled: calls_by_outcome
                .get("throttled")
                .copied()
                .context("the operator exports no cwo_aws_calls_total{outcome=\"throttled\"}")?,
        })
    }
}

/// Reconciles the operator has finished so far, over every kind (the duration histogram counts
/// a reconcile when it ends).
pub fn reconciles_finished(operator: &OperatorProcess) -> Result<f64> {
    operator
        .scrape()?
        .sum("cwo_reconcile_duration_seconds_count", &[])
}

/// The writes the API server has received for the operator's kinds and for Events, keyed
/// `resource[/subresource] VERB`. Reads (GET, LIST, WATCH) are left out.
async fn apiserver_writes(client: &kube::Client) -> Result<BTreeMap<String, f64>> {
    let request = http::Request::get("/metrics").body(Vec::new())?;
    let text = client
        .request_text(request)
        .await
        .context("reading the API server's /metrics")?;
    let scrape = Scrape::parse_metric(&text, "apiserver_request_total")?;
    // Fails when the API server stops publishing the metric: no count is not zero writes.
    scrape.total("apiserver_request_total")?;
    let mut out = BTreeMap::new();
    for s in scrape.samples("apiserver_request_total") {
        let relevant = s.label("group") == "cwo.dev" || s.label("resource") == "events";
        if !relevant || matches!(s.label("verb"), "GET" | "LIST" | "WATCH" | "CONNECT") {
            continue;
        }
        let resource = match s.label("subresource") {
            "" => s.label("resource").to_string(),
            sub => format!("{}/{sub}", s.label("resource")),
        };
        *out.entry(format!("{resource} {}", s.label("verb")))
            .or_default() += s.value;
    }
    Ok(out)
}

impl Snapshot {
    /// Reads every counter now. `bench_writes` is the benchmark's own count of its writes.
    /// Fails when a counter cannot be read.
    pub async fn take(
        client: &kube::Client,
        operator: Option<&OperatorProcess>,
        bench_writes: u64,
    ) -> Result<Snapshot> {
        let mut cpu: BTreeMap<String, (u32, f64)> = procfs::children()
            .into_iter()
            .filter_map(|(name, pid)| Some((name, (pid, procfs::cpu_seconds(pid)?))))
            .collect();
        let (emulator, bench) = procfs::own_cpu_split();
        cpu.insert("emulator".into(), (std::process::id(), emulator));
        cpu.insert("benchmark".into(), (std::process::id(), bench));
        // The operator by its pid: its process name depends on where the binary was copied.
        if let Some(op) = operator {
            let seconds = procfs::cpu_seconds(op.pid()).with_context(|| {
                format!("reading the CPU time of the operator (pid {})", op.pid())
            })?;
            cpu.insert("operator".into(), (op.pid(), seconds));
        }
        Ok(Snapshot {
            at: Instant::now(),
            operator_pid: operator.map(OperatorProcess::pid).unwrap_or(0),
            operator: match operator {
                Some(op) => OperatorCounters::read(op)?,
                None => OperatorCounters::default(),
            },
            apiserver_writes: apiserver_writes(client).await?,
            cpu,
            machine: MachineCpu::read(),
            bench_writes,
        })
    }
}

/// AWS calls of a phase, from the emulator.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AwsFigures {
    /// `service:Operation` → calls (any outcome).
    pub per_operation: BTreeMap<String, u64>,
    pub reads: u64,
    pub writes: u64,
    /// Calls the emulator answered with a throttling error.
    pub throttled: u64,
    /// The emulator's full counts (ok, throttled, errors by code).
    pub calls: CallCounts,
    /// Account id → `service:Operation` → calls, for a fleet spread over several accounts (the
    /// account whose state a call addressed; STS AssumeRole counts in the caller's). Empty for
    /// a fleet in one account.
    pub per_account: BTreeMap<String, BTreeMap<String, u64>>,
}

/// `service:Operation` → calls (any outcome).
fn per_operation(calls: &CallCounts) -> BTreeMap<String, u64> {
    calls
        .services
        .iter()
        .flat_map(|(service, ops)| {
            ops.iter()
                .map(move |(op, c)| (format!("{service}:{op}"), c.total))
        })
        .collect()
}

impl AwsFigures {
    pub fn from_calls(calls: CallCounts) -> AwsFigures {
        let throttled = calls
            .services
            .values()
            .flat_map(|ops| ops.values())
            .map(|c| c.throttled)
            .sum();
        let writes = calls.writes();
        AwsFigures {
            reads: calls.total() - writes,
            writes,
            throttled,
            per_operation: per_operation(&calls),
            calls,
            per_account: BTreeMap::new(),
        }
    }

    /// The emulator's counts now: all calls, and the calls in each of `accounts`.
    pub fn read(emulator: &EmulatorHandle, accounts: &[String]) -> AwsFigures {
        let mut figures = AwsFigures::from_calls(emulator.calls());
        figures.per_account = accounts
            .iter()
            .map(|a| (a.clone(), per_operation(&emulator.inner().calls_in(a))))
            .collect();
        figures
    }

    /// Calls to `operation` of any service in `account`; `None` when the account's calls were
    /// not recorded.
    pub fn of_in(&self, account: &str, operation: &str) -> Option<u64> {
        let calls = self.per_account.get(account)?;
        Some(
            calls
                .iter()
                .filter(|(k, _)| k.split_once(':').is_some_and(|(_, op)| op == operation))
                .map(|(_, v)| v)
                .sum(),
        )
    }

    /// Calls to `operation` of any service.
    pub fn of(&self, operation: &str) -> u64 {
        self.per_operation
            .iter()
            .filter(|(k, _)| k.split_once(':').is_some_and(|(_, op)| op == operation))
            .map(|(_, v)| v)
            .sum()
    }
}

/// The operator process during a phase.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OperatorFigures {
    pub pid: u32,
    /// CPU seconds (user + system) used during the phase.
    pub cpu_seconds: f64,
    /// `VmHWM` at the end of the phase: the peak resident set over the process's life.
    pub peak_rss_bytes: u64,
    /// The largest resident set sampled (every 100 ms) during the phase.
    pub phase_max_rss_bytes: u64,
    /// Reconciles started during the phase, by kind.
    pub reconciles: BTreeMap<String, u64>,
    /// Mean reconcile duration in seconds, by kind.
    pub mean_reconcile_seconds: BTreeMap<String, f64>,
    /// `cwo_kube_writes_total` during the phase, keyed `kind/write`.
    pub kube_writes: BTreeMap<String, u64>,
    pub kube_writes_total: u64,
    /// The operator's count of calls that ended throttled after the SDK's retries.
    pub aws_throttled: u64,
    /// AWS calls the deletions of objects made themselves, by operation over every service
    /// (`cwo_deletion_aws_calls_total`; calls shared through a batch are not in it).
    pub deletion_aws_calls: BTreeMap<String, u64>,
}

impl OperatorFigures {
    /// Operator writes of one type (`status`, `finalizer`, `event`), all kinds.
    pub fn writes_of(&self, write: &str) -> u64 {
        self.kube_writes
            .iter()
            .filter(|(k, _)| k.rsplit_once('/').is_some_and(|(_, w)| w == write))
            .map(|(_, v)| v)
            .sum()
    }
}

/// The API server's own count of writes to the operator's kinds and to Events.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ApiServerFigures {
    /// `resource[/subresource] VERB` → requests.
    pub writes: BTreeMap<String, u64>,
    pub total: u64,
    /// Writes the benchmark itself sent (creates, edits, deletes).
    pub by_benchmark: u64,
    /// The rest: the operator's (nothing else writes these resources).
    pub by_operator: u64,
}

/// Everything measured over one phase.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PhaseFigures {
    /// Wall time between the two snapshots.
    pub window_seconds: f64,
    pub aws: AwsFigures,
    pub operator: OperatorFigures,
    pub apiserver: ApiServerFigures,
    /// CPU seconds during the phase: operator, kube-apiserver, etcd, kube-controller-manager,
    /// emulator (in this process) and benchmark (the rest of this process).
    pub cpu_seconds: BTreeMap<String, f64>,
    /// Share of all the machine's CPUs busy during the phase (any process, including other
    /// users of the machine).
    pub machine_busy: f64,
    pub load_average_end: [f64; 3],
}

/// Starts measuring a phase: zeroes the emulator's counts, points the memory sampler at the
/// operator and takes the first snapshot.
pub async fn begin(
    client: &kube::Client,
    emulator: &EmulatorHandle,
    operator: Option<&OperatorProcess>,
    rss: &RssSampler,
    bench_writes: u64,
) -> Result<Snapshot> {
    emulator.reset_calls();
    if let Some(op) = operator {
        rss.watch(op.pid());
    }
    Snapshot::take(client, operator, bench_writes).await
}

/// Ends a phase begun with [`begin`]; the AWS calls in each of `accounts` are recorded too.
pub async fn end(
    client: &kube::Client,
    emulator: &EmulatorHandle,
    accounts: &[String],
    operator: &OperatorProcess,
    rss: &RssSampler,
    start: &Snapshot,
    bench_writes: u64,
) -> Result<PhaseFigures> {
    let aws = AwsFigures::read(emulator, accounts);
    let stop = Snapshot::take(client, Some(operator), bench_writes).await?;
    let same_operator = start.operator_pid == stop.operator_pid;
    let none = OperatorCounters::default();
    let before = if same_operator {
        &start.operator
    } else {
        &none
    };
    let reconciles = delta(&before.reconciles, &stop.operator.reconciles);
    let seconds = delta_f(&before.reconcile_seconds, &stop.operator.reconcile_seconds);
    let kube_writes = delta(&before.kube_writes, &stop.operator.kube_writes);
    let deletion_aws_calls = delta(&before.deletion_calls, &stop.operator.deletion_calls);
    let mut cpu_seconds = BTreeMap::new();
    for (name, (pid, cpu)) in &stop.cpu {
        let before = start
            .cpu
            .get(name)
            .filter(|(p, _)| p == pid)
            .map(|(_, c)| *c)
            .unwrap_or(0.0);
        cpu_seconds.insert(name.clone(), cpu - before);
    }
    let writes = delta(&start.apiserver_writes, &stop.apiserver_writes);
    let total: u64 = writes.values().sum();
    let by_benchmark = stop.bench_writes - start.bench_writes;
    let (_, hwm) = procfs::memory(operator.pid()).with_context(|| {
        format!(
            "reading the memory of the operator (pid {})",
            operator.pid()
        )
    })?;
    Ok(PhaseFigures {
        window_seconds: stop.at.duration_since(start.at).as_secs_f64(),
        aws,
        operator: OperatorFigures {
            pid: operator.pid(),
            cpu_seconds: cpu_seconds
                .get("operator")
                .copied()
                .context("the operator's CPU time was not measured")?,
            peak_rss_bytes: hwm,
            phase_max_rss_bytes: rss.max(),
            mean_reconcile_seconds: reconciles
                .iter()
                .map(|(k, n)| {
                    (
                        k.clone(),
                        seconds.get(k).copied().unwrap_or_default() / *n as f64,
                    )
                })
                .collect(),
            reconciles,
            kube_writes_total: kube_writes.values().sum(),
            kube_writes,
            deletion_aws_calls,
            aws_throttled: (stop.operator.aws_throttled - before.aws_throttled)
                .max(0.0)
                .round() as u64,
        },
        apiserver: ApiServerFigures {
            writes,
            total,
            by_benchmark,
            by_operator: total.saturating_sub(by_benchmark),
        },
        cpu_seconds,
        machine_busy: start.machine.busy_since(&stop.machine),
        load_average_end: procfs::load_average(),
    })
}

fn delta_f(begin: &BTreeMap<String, f64>, end: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    end.iter()
        .map(|(k, v)| (k.clone(), v - begin.get(k).copied().unwrap_or_default()))
        .collect()
}
