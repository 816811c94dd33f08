//! The scenarios and the phases they run. Each scenario gets a control plane, an emulator and an
//! operator of its own, so no scenario pays for what an earlier one left in etcd or in the API
//! server's watch cache.
//!
//! Phases, in order (each scenario runs some of them):
//! 1. create: the operator (release build, default 10-minute resync) is running; the fleet is
//!    created through the API server; the clock runs from the first create until a LIST shows
//!    every object Ready for its current generation.
//! 2. restart: that operator is stopped and one with a short resync period started; the phase
//!    lasts until it has reconciled every object once (what a restart or a failover costs).
//!    The idle, edit and soak phases run with this operator.
//! 3. idle: five resync periods of nothing but drift resyncs.
//! 4. edit: the threshold of every tenth alarm is raised; until those are Ready again.
//! 5. soak: a long run of periods, each with a few edits through the API server and a few AWS
//!    objects changed behind the operator's back; then until everything is Ready and every
//!    out-of-band change is put back.
//! 6. delete: one DeleteCollection per kind; until no object is left and AWS holds nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_types::SdkConfig;
use cwo_e2e::checks::install_crds;
use cwo_e2e::manifests::Crd;
use cwo_e2e::operator::{EmulatorHandle, OperatorOptions, OperatorProcess, sdk_config};
use cwo_e2e::{Bed, ControlPlaneConfig, repo_root};
use cwo_emulator::sts::iam::{Role, Trust};
use cwo_emulator::{DEFAULT_ACCOUNT, EmulatorConfig};
use serde_json::{Value, json};

use super::aws::{self, Leftovers};
use super::fleet::{self, Cluster, Fleet, Kind, thousands};
use super::measure::{self, PhaseFigures};
use super::procfs::{self, RssSampler};
use super::report::{Phase, ScenarioReport, Target};
use super::soak::{self, Churn, Soak};

/// The namespace the fleet lives in (and the only one the operator watches).
const NAMESPACE: &str = "cwo-bench";

/// AWS accounts the `mixed-accounts` fleet is spread over.
const ACCOUNTS: usize = 3;

const MIB: f64 = 1024.0 * 1024.0;

/// AWS's default PutMetricAlarm (and PutCompositeAlarm, DeleteAlarms) quota, calls per second.
const PUT_QUOTA_TPS: f64 = 3.0;

/// The operator's default `--aws-quota-share`.
pub const DEFAULT_SHARE: f64 = 0.95;

/// Resync period of the operator that creates the fleet: the operator's default, so no drift
/// resync mixes into the creation figures.
const CREATE_RESYNC: Duration = Duration::from_secs(600);

/// Resync periods measured in the idle phase.
const IDLE_PERIODS: u32 = 5;

/// The operator's default tag resync period is six times its default resync period (1 h and
/// 10 min); the idle phase keeps that ratio so tag reads per resync period are what a default
/// deployment sees.
const TAG_RESYNC_RATIO: u32 = 6;

/// Every scenario, in the order a run takes them. A plain run leaves out those only run by name
/// ([`Scenario::by_name_only`]).
pub const NAMES: [&str; 9] = [
    "alarms",
    "alarms-default-limits",
    "quotas",
    "quotas-full-share",
    "mixed",
    "mixed-accounts",
    "quotas-mixed",
    "alarms-large",
    "soak",
];

/// Client-side AWS rate limits of the operator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limits {
    /// `--no-aws-rate-limits`.
    Off,
    /// `--aws-quota-share <share>`.
    Share(f64),
}

impl Limits {
    fn args(self) -> Vec<String> {
        match self {
            Limits::Off => vec!["--no-aws-rate-limits".into()],
            Limits::Share(share) => vec!["--aws-quota-share".into(), share.to_string()],
        }
    }
}

/// One scenario: what to create, against which emulator and operator settings, and which phases.
pub struct Scenario {
    pub name: &'static str,
    pub description: String,
    pub fleet: Fleet,
    pub quotas: bool,
    pub limits: Limits,
    pub idle: bool,
    pub edit: bool,
    /// Delete everything at the end (scenarios that only repeat another's creation under other
    /// limits skip it: their control plane is thrown away anyway).
    pub delete: bool,
    /// The resync period of the operator of the restart, idle, edit and soak phases.
    pub idle_resync: Duration,
    /// Run a soak phase of this length after the restart.
    pub soak: Option<Soak>,
    /// Run only when named with `--scenario` (a plain run would take half an hour longer).
    pub by_name_only: bool,
}

/// The soak scenario's fleet: a thousand objects of the kinds its out-of-band changes cover (a
/// hundred with `quick`; no metric filters or log destinations), with alarms no composite names
/// so that some can be deleted out of band.
pub fn soak_fleet(quick: bool) -> Fleet {
    let size = |full: usize| if quick { full / 10 } else { full };
    Fleet {
        alarms: size(720),
        composite_alarms: size(70),
        metric_streams: size(50),
        log_subscriptions: size(140),
        sampling_rules: size(20),
        metric_filters: 0,
        log_destinations: 0,
        accounts: 0,
    }
}

/// The scenarios at full size, or reduced for `--quick`.
pub fn all(quick: bool) -> Vec<Scenario> {
    let size = |full: usize, reduced: usize| if quick { reduced } else { full };
    let short = if quick {
        Duration::from_secs(5)
    } else {
        Duration::from_secs(10)
    };
    let alarms = |name: &'static str,
                  n: usize,
                  quotas: bool,
                  limits: Limits,
                  phases: bool,
                  resync: Duration| Scenario {
        name,
        description: String::new(),
        fleet: Fleet::alarms(n),
        quotas,
        limits,
        idle: phases,
        edit: phases,
        delete: true,
        idle_resync: resync,
        soak: None,
        by_name_only: false,
    };
    let mixed = Fleet {
        alarms: size(1_000, 100),
        composite_alarms: size(100, 10),
        metric_streams: size(50, 5),
        log_subscriptions: size(200, 20),
        sampling_rules: size(20, 2),
        metric_filters: size(100, 10),
        log_destinations: size(10, 2),
        accounts: 0,
    };
    let mut out = vec![
        Scenario {
            description: "alarms without quotas or client-side limits: create, idle, edit 10%, delete".into(),
            ..alarms("alarms", size(1_000, 200), false, Limits::Off, true, short)
        },
        Scenario {
            description: "alarms without quotas, the operator's default client-side limits: create".into(),
            delete: false,
            ..alarms("alarms-default-limits", size(1_000, 30), false, Limits::Share(DEFAULT_SHARE), false, short)
        },
        Scenario {
            description: "alarms with the emulator enforcing AWS's default quotas, default --aws-quota-share 0.95: create, delete".into(),
            ..alarms("quotas", size(1_000, 60), true, Limits::Share(DEFAULT_SHARE), false, short)
        },
        Scenario {
            description: "alarms with the emulator enforcing AWS's default quotas, --aws-quota-share 1.0: create".into(),
            delete: false,
            ..alarms("quotas-full-share", size(1_000, 60), true, Limits::Share(1.0), false, short)
        },
        Scenario {
            name: "mixed",
            description: "every kind, composites over the alarms, without quotas or client-side limits: create, idle, delete".into(),
            fleet: mixed,
            quotas: false,
            limits: Limits::Off,
            idle: true,
            edit: false,
            delete: true,
            idle_resync: short,
            soak: None,
            by_name_only: false,
        },
        Scenario {
            name: "mixed-accounts",
            description: format!("the mixed fleet spread over {ACCOUNTS} AWS accounts (AWSAccounts the operator assumes a role in), without quotas or client-side limits: create, idle, delete"),
            fleet: Fleet {
                accounts: ACCOUNTS,
                ..mixed
            },
            quotas: false,
            limits: Limits::Off,
            idle: true,
            edit: false,
            delete: true,
            idle_resync: short,
            soak: None,
            by_name_only: false,
        },
        Scenario {
            name: "quotas-mixed",
            description: "every kind, composites over the alarms, with the emulator enforcing AWS's default quotas, default --aws-quota-share 0.95: create, delete".into(),
            fleet: mixed,
            quotas: true,
            limits: Limits::Share(DEFAULT_SHARE),
            idle: false,
            edit: false,
            delete: true,
            idle_resync: short,
            soak: None,
            by_name_only: false,
        },
        Scenario {
            description: "alarms without quotas or client-side limits: create, idle, edit 10%, delete".into(),
            ..alarms(
                "alarms-large",
                size(10_000, 500),
                false,
                Limits::Off,
                true,
                if quick { short } else { Duration::from_secs(30) },
            )
        },
        Scenario {
            name: "soak",
            description: if quick {
                "of every kind, 3 minutes with edits and out-of-band AWS changes every minute, then delete".into()
            } else {
                "of every kind, 30 minutes with edits and out-of-band AWS changes every minute, then delete".into()
            },
            fleet: soak_fleet(quick),
            quotas: false,
            limits: Limits::Off,
            idle: false,
            edit: false,
            delete: true,
            // A resync a minute: each period's out-of-band changes are found within the period.
            idle_resync: if quick {
                Duration::from_secs(20)
            } else {
                Duration::from_secs(60)
            },
            soak: Some(Soak {
                duration: Duration::from_secs(if quick { 180 } else { 1800 }),
                period: Duration::from_secs(60),
            }),
            by_name_only: true,
        },
    ];
    for s in &mut out {
        s.description = format!("{} {}", thousands(s.fleet.total() as u64), s.description);
    }
    out
}

/// Settings shared by every scenario of a run.
pub struct RunOptions {
    pub quick: bool,
    /// Run the operator with its heap profiler (much slower: for finding where memory goes, not
    /// for the figures); each operator process writes `logs/<scenario>-operator-<n>.dhat.json`.
    pub heap_profile: bool,
    /// Extra `cloudwatch-operator run` flags, for experiments.
    pub operator_args: Vec<String>,
    /// Where the operator logs go.
    pub logs: PathBuf,
}

/// Runs `scenario`; a failure ends it early and is recorded in the report with what was measured
/// up to then.
pub async fn run(scenario: &Scenario, options: &RunOptions) -> ScenarioReport {
    let mut report = ScenarioReport {
        scenario: scenario.name.to_string(),
        description: scenario.description.clone(),
        quick: options.quick,
        fleet: scenario.fleet,
        objects: scenario.fleet.total(),
        emulator_quotas: scenario.quotas,
        aws_quota_share: match scenario.limits {
            Limits::Off => None,
            Limits::Share(s) => Some(s),
        },
        operator_flags: operator_flags(scenario, options, CREATE_RESYNC, None),
        idle_resync_seconds: scenario.idle.then_some(scenario.idle_resync.as_secs_f64()),
        idle_tag_resync_seconds: scenario
            .idle
            .then(|| (scenario.idle_resync * TAG_RESYNC_RATIO).as_secs_f64()),
        cpus: procfs::cpus(),
        load_average_start: procfs::load_average(),
        started_unix_seconds: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
        phases: Vec::new(),
        targets: Vec::new(),
        error: None,
    };
    eprintln!("cwo-bench: {}: {}", scenario.name, scenario.description);
    if let Err(e) = run_phases(scenario, options, &mut report).await {
        eprintln!("cwo-bench: {}: stopped: {e:#}", scenario.name);
        report.error = Some(format!("{e:#}"));
    }
    report.targets = targets(scenario, &report);
    report
}

fn operator_flags(
    s: &Scenario,
    options: &RunOptions,
    resync: Duration,
    tag_resync: Option<Duration>,
) -> Vec<String> {
    let mut flags = vec![
        "--watch-namespace".to_string(),
        NAMESPACE.into(),
        "--leader-election=false".into(),
        "--resync-period".into(),
        humantime::format_duration(resync).to_string(),
    ];
    if let Some(t) = tag_resync {
        flags.extend([
            "--tag-resync-period".into(),
            humantime::format_duration(t).to_string(),
        ]);
    }
    flags.extend(s.limits.args());
    flags.extend(options.operator_args.iter().cloned());
    flags
}

/// What one scenario runs on.
struct Bench<'a> {
    scenario: &'a Scenario,
    options: &'a RunOptions,
    // Field order is drop order: the operator (owned by the caller) goes first, then the
    // emulator, then the control plane.
    cluster: Cluster,
    emulator: EmulatorHandle,
    sdk: SdkConfig,
    rss: RssSampler,
    bed: Bed,
    starts: usize,
}

impl Bench<'_> {
    fn start_operator(
        &mut self,
        resync: Duration,
        tag_resync: Option<Duration>,
    ) -> Result<OperatorProcess> {
        self.starts += 1;
        let log = self.options.logs.join(format!(
            "{}-operator-{}.log",
            self.scenario.name, self.starts
        ));
        let mut extra_args = self.scenario.limits.args();
        if let Some(t) = tag_resync {
            extra_args.extend(["--tag-resync-period".into(), format!("{}ms", t.as_millis())]);
        }
        extra_args.extend(self.options.operator_args.iter().cloned());
        let heap_profile = self.options.heap_profile.then(|| {
            self.options.logs.join(format!(
                "{}-operator-{}.dhat.json",
                self.scenario.name, self.starts
            ))
        });
        let options = OperatorOptions {
            resync_period: resync,
            extra_args,
            release: true,
            heap_profile,
            ..OperatorOptions::default()
        };
        OperatorProcess::start(
            &self.bed,
            Some(NAMESPACE),
            &self.emulator.endpoint(),
            &options,
            &log,
        )
    }

    async fn begin(&self, operator: Option<&OperatorProcess>) -> Result<measure::Snapshot> {
        measure::begin(
            &self.cluster.client,
            &self.emulator,
            operator,
            &self.rss,
            self.cluster.writes(),
        )
        .await
    }

    async fn end(
        &self,
        operator: &mut OperatorProcess,
        start: &measure::Snapshot,
    ) -> Result<PhaseFigures> {
        if let Some(status) = operator.exited() {
            bail!(
                "the operator exited ({status}):\n{}",
                log_tail(&operator.log(), 40)
            );
        }
        measure::end(
            &self.cluster.client,
            &self.emulator,
            &self.measured_accounts(),
            operator,
            &self.rss,
            start,
            self.cluster.writes(),
        )
        .await
    }

    /// The accounts whose AWS calls are counted apart: those the fleet is spread over and the
    /// operator's own (where its AssumeRole calls count); none for a fleet in one account.
    fn measured_accounts(&self) -> Vec<String> {
        let fleet = &self.scenario.fleet;
        if fleet.accounts == 0 {
            return Vec::new();
        }
        let mut accounts = fleet.account_ids();
        accounts.push(DEFAULT_ACCOUNT.to_string());
        accounts
    }

    /// Seconds of timeout for `objects` objects: generous, since a run that times out reports
    /// nothing useful.
    fn timeout(
        &self,
        objects: usize,
        per_object_unlimited: f64,
        per_object_limited: f64,
    ) -> Duration {
        let per = match self.scenario.limits {
            Limits::Off => per_object_unlimited,
            Limits::Share(_) => per_object_limited,
        };
        Duration::from_secs_f64(120.0 + objects as f64 * per)
    }
}

fn log_tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

async fn run_phases(s: &Scenario, options: &RunOptions, report: &mut ScenarioReport) -> Result<()> {
    let bed = Bed::start_local(ControlPlaneConfig::default())?;
    eprintln!("cwo-bench:   {}", bed.description());
    install_crds(&bed, &Crd::read_dir(&repo_root().join("crds"))?)?;
    let cluster = Cluster::new(bed.client().await?, NAMESPACE).await?;
    let emulator = EmulatorHandle::start(EmulatorConfig::default())?;
    let sdk = sdk_config(&emulator.endpoint());
    aws::create_prerequisites(&sdk, &s.fleet)
        .await
        .context("creating the delivery streams and log groups")?;
    // A spread fleet's accounts: a role in each that trusts the operator's own account (its
    // credentials are the emulator's default account's), and an AWSAccount granting the bench's
    // namespace that role. The bench's operator has its control plane to itself, so it serves
    // every AWSAccount (no --account-label-selector).
    for k in 0..s.fleet.accounts {
        emulator.inner().put_role(Role {
            arn: fleet::role_arn(k),
            trust: vec![Trust {
                principal: DEFAULT_ACCOUNT.into(),
                external_id: None,
            }],
            max_session_duration: 3_600,
        })?;
    }
    cluster.create_accounts(&s.fleet).await?;
    if s.quotas {
        // The delivery streams and log groups are the benchmark's, set up before the quotas
        // apply (CreateLogGroup's is 5 per second): only the operator's calls are measured.
        emulator.inner().set_quotas(cwo_emulator::QuotaSettings {
            enabled: true,
            ..Default::default()
        });
    }
    let mut bench = Bench {
        scenario: s,
        options,
        cluster,
        emulator,
        sdk,
        rss: RssSampler::start(),
        bed,
        starts: 0,
    };

    let mut operator = bench.start_operator(CREATE_RESYNC, None)?;
    if s.fleet.accounts > 0 {
        // The accounts are the cluster admin's, set up before the fleet: their AssumeRole and
        // GetCallerIdentity stay out of the create phase's figures.
        let ready = bench
            .cluster
            .wait_accounts_ready(s.fleet.accounts, Duration::from_secs(120))
            .await?;
        if !ready {
            bail!("the AWSAccounts did not become Ready; nothing created");
        }
    }
    let created = create(&bench, &mut operator).await?;
    let completed = created.completed;
    report.phases.push(created);
    if !completed {
        bail!("the fleet did not become Ready; later phases skipped");
    }
    // A heap profile is written as the operator stops, which takes a while.
    let stop = if options.heap_profile {
        Duration::from_secs(180)
    } else {
        Duration::from_secs(10)
    };
    if s.idle || s.soak.is_some() {
        operator.terminate(stop);
        let (restart, next) = restart(&mut bench).await?;
        operator = next;
        let completed = restart.completed;
        report.phases.push(restart);
        if !completed {
            bail!("the restarted operator did not reconcile every object; later phases skipped");
        }
    }
    if s.idle {
        report.phases.push(idle(&bench, &mut operator).await?);
    }
    if s.edit {
        report.phases.push(edit(&bench, &mut operator).await?);
    }
    if let Some(plan) = &s.soak {
        report
            .phases
            .push(soak_phase(&bench, &mut operator, plan).await?);
    }
    if s.delete {
        report.phases.push(delete(&bench, &mut operator).await?);
    }
    operator.terminate(stop);
    Ok(())
}

fn phase(
    name: &str,
    seconds: f64,
    completed: bool,
    detail: BTreeMap<String, Value>,
    figures: PhaseFigures,
) -> Phase {
    let f = &figures;
    eprintln!(
        "cwo-bench:   {name}: {seconds:.1} s{}; AWS {} reads, {} writes, {} throttled; operator {:.1} CPU s, {:.1} MiB peak, {} API writes",
        if completed { "" } else { " (did not finish)" },
        f.aws.reads,
        f.aws.writes,
        f.aws.throttled,
        f.operator.cpu_seconds,
        f.operator.peak_rss_bytes as f64 / (1024.0 * 1024.0),
        f.apiserver.by_operator,
    );
    Phase {
        name: name.into(),
        seconds,
        completed,
        detail,
        figures,
    }
}

fn wait_detail(detail: &mut BTreeMap<String, Value>, wait: &fleet::Wait) {
    detail.insert("polls".into(), json!(wait.polls));
    detail.insert("mean_poll_seconds".into(), json!(wait.mean_poll_seconds));
    detail.insert(
        "throttled_objects".into(),
        json!(wait.throttled_objects.len()),
    );
    detail.insert(
        "throttled_object_names".into(),
        json!(wait.throttled_objects.iter().take(20).collect::<Vec<_>>()),
    );
    detail.insert("ready_reasons_at_end".into(), json!(wait.last_reasons));
    detail.insert("objects_at_end".into(), json!(wait.last_total));
    detail.insert("ready_at_end".into(), json!(wait.last_ready));
    detail.insert(
        "seconds_kind_last_listed".into(),
        json!(wait.kind_last_listed),
    );
    detail.insert(
        "seconds_kind_last_not_ready".into(),
        json!(wait.kind_last_unready),
    );
}

async fn create(bench: &Bench<'_>, operator: &mut OperatorProcess) -> Result<Phase> {
    let s = bench.scenario;
    let total = s.fleet.total();
    let kinds = s.fleet.kinds();
    eprintln!("cwo-bench:   create: {}", s.fleet.describe());
    let start = bench.begin(Some(operator)).await?;
    let t0 = Instant::now();
    let creating = async {
        bench.cluster.create_all(s.fleet.manifests()).await?;
        Ok::<_, anyhow::Error>(t0.elapsed().as_secs_f64())
    };
    let waiting = fleet::wait_until(
        &bench.cluster,
        &kinds,
        "create",
        t0,
        bench.timeout(total, 0.1, 0.6),
        |states| states.len() == total && states.iter().all(|o| o.ready),
    );
    let (submitted, wait) = tokio::try_join!(creating, waiting)?;
    let figures = bench.end(operator, &start).await?;
    let mut detail = BTreeMap::new();
    detail.insert("creates_submitted_seconds".into(), json!(submitted));
    wait_detail(&mut detail, &wait);
    let mut summary = format!(
        "{} of {} Ready after {:.1} s (all creates sent after {submitted:.1} s; readiness polled {} times, {:.2} s per poll)",
        thousands(wait.last_ready as u64),
        thousands(total as u64),
        wait.seconds,
        wait.polls,
        wait.mean_poll_seconds,
    );
    if s.quotas {
        // PutMetricAlarm and PutCompositeAlarm each have their own quota; the larger share sets
        // the floor.
        let floor = s.fleet.alarms.max(s.fleet.composite_alarms) as f64 / PUT_QUOTA_TPS;
        let ratio = wait.seconds / floor;
        detail.insert("write_quota_floor_seconds".into(), json!(floor));
        detail.insert("ratio_to_floor".into(), json!(ratio));
        summary.push_str(&format!(
            "; the PutMetricAlarm quota's floor is {floor:.1} s, ratio {ratio:.3}"
        ));
    }
    detail.insert("summary".into(), json!(summary));
    Ok(phase("create", wait.seconds, wait.met, detail, figures))
}

/// Stops nothing itself: the caller has stopped the previous operator.
async fn restart(bench: &mut Bench<'_>) -> Result<(Phase, OperatorProcess)> {
    let s = bench.scenario;
    // The AWSAccounts are reconciled too.
    let total = (s.fleet.total() + s.fleet.accounts) as f64;
    let resync = s.idle_resync;
    let tag_resync = resync * TAG_RESYNC_RATIO;
    eprintln!(
        "cwo-bench:   restart: operator with --resync-period {} --tag-resync-period {}",
        humantime::format_duration(resync),
        humantime::format_duration(tag_resync)
    );
    // The AWSAccounts' status too: a new process assumes every role again, which must not
    // rewrite it.
    let before = statuses(bench).await?;
    let start = bench.begin(None).await?;
    let t0 = Instant::now();
    let mut operator = bench.start_operator(resync, Some(tag_resync))?;
    bench.rss.watch(operator.pid());
    let timeout = bench.timeout(s.fleet.total(), 0.05, 0.3);
    let mut done = false;
    while t0.elapsed() < timeout {
        if measure::reconciles_finished(&operator)? >= total {
            done = true;
            break;
        }
        if operator.exited().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let seconds = t0.elapsed().as_secs_f64();
    let figures = bench.end(&mut operator, &start).await?;
    let changed = fleet::changed_status_fields(&before, &statuses(bench).await?);
    let mut detail = BTreeMap::new();
    detail.insert("status_fields_changed".into(), json!(changed));
    detail.insert(
        "summary".into(),
        json!(format!(
            "a new operator process reconciled all {} objects {:.1} s after it was started{}",
            thousands(total as u64),
            seconds,
            changes_text(&changed)
        )),
    );
    Ok((phase("restart", seconds, done, detail, figures), operator))
}

/// The status of every object of the fleet, and of its AWSAccounts, keyed `Kind/name`.
async fn statuses(bench: &Bench<'_>) -> Result<BTreeMap<String, Value>> {
    let s = bench.scenario;
    let mut out = bench.cluster.statuses(&s.fleet.kinds()).await?;
    if s.fleet.accounts > 0 {
        out.extend(bench.cluster.account_statuses().await?);
    }
    Ok(out)
}

/// `; status fields rewritten: stateValue in 3 objects` (empty when nothing changed).
fn changes_text(changed: &BTreeMap<String, u64>) -> String {
    if changed.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = changed
        .iter()
        .map(|(f, n)| format!("{f} in {}", thousands(*n)))
        .collect();
    format!("; status fields rewritten: {}", parts.join(", "))
}

/// ListTagsForResource calls per idle resync period when every tagged object (all but the
/// subscription and metric filters, which carry no tags) is read once per tag resync period.
fn expected_tag_reads_per_period(s: &Scenario) -> f64 {
    let tagged = s.fleet.total() - s.fleet.log_subscriptions - s.fleet.metric_filters;
    tagged as f64 / f64::from(TAG_RESYNC_RATIO)
}

async fn idle(bench: &Bench<'_>, operator: &mut OperatorProcess) -> Result<Phase> {
    let s = bench.scenario;
    let window = s.idle_resync * IDLE_PERIODS;
    eprintln!(
        "cwo-bench:   idle: {IDLE_PERIODS} resync periods ({})",
        humantime::format_duration(window)
    );
    let before = bench.cluster.statuses(&s.fleet.kinds()).await?;
    let start = bench.begin(Some(operator)).await?;
    let t0 = Instant::now();
    while t0.elapsed() < window {
        tokio::time::sleep((window - t0.elapsed()).min(s.idle_resync)).await;
        eprintln!(
            "cwo-bench:   idle: {:.0} s, {} AWS calls so far",
            t0.elapsed().as_secs_f64(),
            bench.emulator.calls().total()
        );
    }
    let figures = bench.end(operator, &start).await?;
    let changed =
        fleet::changed_status_fields(&before, &bench.cluster.statuses(&s.fleet.kinds()).await?);
    // Per period over the window actually measured (the snapshots take a moment).
    let periods = figures.window_seconds / s.idle_resync.as_secs_f64();
    let per_period: BTreeMap<String, f64> = figures
        .aws
        .per_operation
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64 / periods))
        .collect();
    let describe = figures.aws.of("DescribeAlarms") as f64 / periods;
    let describe_by_account: BTreeMap<&String, f64> = figures
        .aws
        .per_account
        .keys()
        .filter_map(|a| Some((a, figures.aws.of_in(a, "DescribeAlarms")? as f64 / periods)))
        .collect();
    let tags = figures.aws.of("ListTagsForResource") as f64 / periods;
    let expected_tags = expected_tag_reads_per_period(s);
    let mut detail = BTreeMap::new();
    detail.insert("periods".into(), json!(periods));
    detail.insert("aws_calls_per_period".into(), json!(per_period));
    detail.insert("describe_alarms_per_period".into(), json!(describe));
    if !describe_by_account.is_empty() {
        detail.insert(
            "describe_alarms_per_period_by_account".into(),
            json!(describe_by_account),
        );
    }
    detail.insert("tag_reads_per_period".into(), json!(tags));
    detail.insert("expected_tag_reads_per_period".into(), json!(expected_tags));
    detail.insert(
        "status_writes".into(),
        json!(figures.operator.writes_of("status")),
    );
    detail.insert("status_fields_changed".into(), json!(changed));
    let mut per_period_text = per_period
        .iter()
        .map(|(k, v)| format!("{} {v:.1}", k.strip_prefix("cloudwatch:").unwrap_or(k)))
        .collect::<Vec<_>>()
        .join(" · ");
    if !describe_by_account.is_empty() {
        let by_account: Vec<String> = describe_by_account
            .iter()
            .map(|(a, v)| format!("{a} {v:.1}"))
            .collect();
        per_period_text.push_str(&format!(
            " (DescribeAlarms by account: {})",
            by_account.join(" · ")
        ));
    }
    detail.insert(
        "summary".into(),
        json!(format!(
            "AWS calls per resync period: {}; status writes {}{}",
            if per_period_text.is_empty() {
                "none".into()
            } else {
                per_period_text
            },
            figures.operator.writes_of("status"),
            changes_text(&changed)
        )),
    );
    Ok(phase("idle", figures.window_seconds, true, detail, figures))
}

/// The alarms the edit phase changes: every tenth.
fn edited(s: &Scenario) -> Vec<String> {
    (0..s.fleet.alarms)
        .step_by(10)
        .map(fleet::alarm_name)
        .collect()
}

async fn edit(bench: &Bench<'_>, operator: &mut OperatorProcess) -> Result<Phase> {
    let s = bench.scenario;
    let names = edited(s);
    let edited: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    eprintln!("cwo-bench:   edit: threshold of {} alarms", names.len());
    let start = bench.begin(Some(operator)).await?;
    let t0 = Instant::now();
    bench
        .cluster
        .set_thresholds(&names, fleet::THRESHOLD + 50.0)
        .await?;
    let wait = fleet::wait_until(
        &bench.cluster,
        &[Kind::Alarm],
        "edit",
        t0,
        bench.timeout(names.len(), 0.1, 0.6),
        |states| {
            states
                .iter()
                .filter(|o| edited.contains(o.name.as_str()) && o.ready)
                .count()
                == edited.len()
        },
    )
    .await?;
    let figures = bench.end(operator, &start).await?;
    let mut detail = BTreeMap::new();
    wait_detail(&mut detail, &wait);
    detail.insert("edited".into(), json!(names.len()));
    detail.insert(
        "put_metric_alarm".into(),
        json!(figures.aws.of("PutMetricAlarm")),
    );
    detail.insert(
        "summary".into(),
        json!(format!(
            "{} alarms edited, Ready for the new generation after {:.1} s; AWS writes {} (PutMetricAlarm {})",
            names.len(),
            wait.seconds,
            figures.aws.writes,
            figures.aws.of("PutMetricAlarm")
        )),
    );
    Ok(phase("edit", wait.seconds, wait.met, detail, figures))
}

/// Status writes the operator has made so far, every kind.
fn status_writes(operator: &OperatorProcess) -> Result<u64> {
    let writes = operator
        .scrape()?
        .sum("cwo_kube_writes_total", &[("write", "status")])?;
    Ok(writes as u64)
}

/// The operator's resident set now, in bytes.
fn rss(operator: &OperatorProcess) -> Result<u64> {
    let (rss, _) = procfs::memory(operator.pid()).with_context(|| {
        format!(
            "reading the memory of the operator (pid {})",
            operator.pid()
        )
    })?;
    Ok(rss)
}

async fn soak_phase(
    bench: &Bench<'_>,
    operator: &mut OperatorProcess,
    plan: &Soak,
) -> Result<Phase> {
    let s = bench.scenario;
    let kinds = s.fleet.kinds();
    let total = s.fleet.total();
    let periods = plan.periods();
    eprintln!(
        "cwo-bench:   soak: {periods} periods of {}, resync every {}",
        humantime::format_duration(plan.period),
        humantime::format_duration(s.idle_resync)
    );
    let mut churn = Churn::new(s.fleet);
    let start = bench.begin(Some(operator)).await?;
    let rss_start = rss(operator)?;
    let t0 = Instant::now();
    let mut rows = Vec::new();
    let mut benchmark_calls: BTreeMap<String, u64> = BTreeMap::new();
    let mut writes_total = 0;
    for k in 0..periods {
        let calls_before = measure::AwsFigures::from_calls(bench.emulator.calls()).per_operation;
        let writes_before = status_writes(operator)?;
        let changes = churn.period(k, &bench.cluster, &bench.sdk).await?;
        let period_end = t0 + plan.period * (k as u32 + 1);
        tokio::time::sleep_until(period_end.into()).await;
        if let Some(status) = operator.exited() {
            bail!(
                "the operator exited ({status}) in period {}:\n{}",
                k + 1,
                log_tail(&operator.log(), 40)
            );
        }
        let calls_after = measure::AwsFigures::from_calls(bench.emulator.calls()).per_operation;
        let calls = soak::operator_calls(&calls_before, &calls_after, &changes.aws_calls);
        let writes = status_writes(operator)? - writes_before;
        writes_total += writes;
        let rss_now = rss(operator)?;
        for (op, n) in &changes.aws_calls {
            *benchmark_calls.entry(op.clone()).or_default() += n;
        }
        eprintln!(
            "cwo-bench:   soak: period {}/{periods}: {} edits, {} out-of-band changes; operator AWS calls {}; status writes {writes}; RSS {:.1} MiB",
            k + 1,
            changes.edits,
            changes.out_of_band,
            super::report::operations(&calls),
            rss_now as f64 / MIB,
        );
        rows.push(json!({
            "period": k + 1,
            "edits": changes.edits,
            "out_of_band_changes": changes.out_of_band,
            "aws_calls": calls,
            "aws_calls_total": calls.values().sum::<u64>(),
            "status_writes": writes,
            "rss_bytes": rss_now,
        }));
    }
    let rss_end = rss(operator)?;
    let figures = bench.end(operator, &start).await?;
    let window = figures.window_seconds;

    // The last period's changes are found by the next resync: then everything is Ready for its
    // generation and AWS shows every spec.
    let settle = Instant::now();
    let timeout = s.idle_resync * 3 + Duration::from_secs(60);
    let wait = fleet::wait_until(
        &bench.cluster,
        &kinds,
        "soak: converging",
        settle,
        timeout,
        |states| states.len() == total && states.iter().all(|o| o.ready),
    )
    .await?;
    let mut left = churn.not_put_back(&bench.sdk).await?;
    while !left.is_empty() && settle.elapsed() < timeout {
        tokio::time::sleep(Duration::from_secs(2)).await;
        left = churn.not_put_back(&bench.sdk).await?;
    }
    let growth = (rss_end as f64 / rss_start as f64 - 1.0) * 100.0;
    let mut detail = BTreeMap::new();
    wait_detail(&mut detail, &wait);
    detail.insert("periods".into(), json!(rows));
    detail.insert("period_seconds".into(), json!(plan.period.as_secs_f64()));
    detail.insert("rss_start_bytes".into(), json!(rss_start));
    detail.insert("rss_end_bytes".into(), json!(rss_end));
    detail.insert("rss_growth_percent".into(), json!(growth));
    detail.insert("status_writes".into(), json!(writes_total));
    detail.insert("benchmark_aws_calls".into(), json!(benchmark_calls));
    detail.insert(
        "not_ready_at_end".into(),
        json!(total.saturating_sub(wait.last_ready)),
    );
    detail.insert("not_put_back".into(), json!(left.len()));
    detail.insert(
        "not_put_back_examples".into(),
        json!(left.iter().take(20).collect::<Vec<_>>()),
    );
    detail.insert("converged_seconds".into(), json!(wait.seconds));
    let per_period = figures
        .aws
        .calls
        .total()
        .saturating_sub(benchmark_calls.values().sum()) as f64
        / periods as f64;
    detail.insert(
        "summary".into(),
        json!(format!(
            "{periods} periods over {window:.0} s: operator RSS {:.1} MiB at the start, {:.1} MiB at the end ({growth:+.1}%); {per_period:.0} operator AWS calls and {:.1} status writes per period; converged {:.1} s after the last period ({} not Ready, {} changes not in AWS)",
            rss_start as f64 / MIB,
            rss_end as f64 / MIB,
            writes_total as f64 / periods as f64,
            wait.seconds,
            total.saturating_sub(wait.last_ready),
            left.len(),
        )),
    );
    Ok(phase(
        "soak",
        window,
        wait.met && left.is_empty(),
        detail,
        figures,
    ))
}

async fn delete(bench: &Bench<'_>, operator: &mut OperatorProcess) -> Result<Phase> {
    let s = bench.scenario;
    let kinds = s.fleet.kinds();
    eprintln!("cwo-bench:   delete: every object");
    let start = bench.begin(Some(operator)).await?;
    let t0 = Instant::now();
    let marked = bench.cluster.delete_all(&kinds).await?;
    let wait = fleet::wait_until(
        &bench.cluster,
        &kinds,
        "delete",
        t0,
        bench.timeout(s.fleet.total(), 0.1, 0.3),
        |states| states.is_empty(),
    )
    .await?;
    // The figures stop here, before the benchmark's own AWS reads below.
    let figures = bench.end(operator, &start).await?;
    let mut by_account = aws::leftovers(&bench.sdk, &s.fleet).await?;
    let mut left = Leftovers::sum(by_account.values());
    // The operator removes its finalizer only after AWS confirmed the deletion, so AWS should
    // be empty by the time the last object is gone; if not, the clock runs until it is.
    let empty_with_kubernetes = left.is_empty();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !left.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        by_account = aws::leftovers(&bench.sdk, &s.fleet).await?;
        left = Leftovers::sum(by_account.values());
    }
    let seconds = if empty_with_kubernetes {
        wait.seconds
    } else {
        t0.elapsed().as_secs_f64()
    };
    let mut detail = BTreeMap::new();
    wait_detail(&mut detail, &wait);
    detail.insert("kubernetes_empty_seconds".into(), json!(wait.seconds));
    detail.insert("seconds_kind_marked".into(), json!(marked));
    detail.insert("aws_leftovers".into(), json!(left));
    detail.insert("aws_leftovers_by_account".into(), json!(by_account));
    detail.insert("objects_left".into(), json!(wait.last_total));
    detail.insert(
        "summary".into(),
        json!(format!(
            "no object left after {:.1} s; AWS then held {} alarms, {} streams, {} subscription filters, {} sampling rules, {} metric filters, {} destinations",
            wait.seconds, left.alarms, left.metric_streams, left.subscription_filters, left.sampling_rules, left.metric_filters, left.destinations
        )),
    );
    Ok(phase(
        "delete",
        seconds,
        wait.met && left.is_empty(),
        detail,
        figures,
    ))
}

/// A figure a phase recorded in its detail; `None` when it is missing (a target then fails).
fn figure(p: &Phase, key: &str) -> Option<f64> {
    p.detail.get(key).and_then(Value::as_f64)
}

/// The budgets, for the phases that ran. A figure a phase should have recorded but did
/// not fails its target (it is never read as zero).
fn targets(s: &Scenario, report: &ScenarioReport) -> Vec<Target> {
    let mut out = Vec::new();
    let total = s.fleet.total();
    let phase = |name: &str| report.phases.iter().find(|p| p.name == name);
    let tenths = |v: Option<f64>| v.map(|v| (v * 10.0).round() / 10.0);
    if let Some(p) = phase("create") {
        if s.quotas {
            let share = match s.limits {
                Limits::Share(x) => x,
                Limits::Off => 1.0,
            };
            out.push(
                Target::at_most(
                    "create",
                    "seconds until all Ready / (N / 3 s)",
                    figure(p, "ratio_to_floor"),
                    1.1,
                    "",
                )
                .note(format!(
                    "--aws-quota-share {share} alone bounds the ratio at {:.3}",
                    1.0 / share
                )),
            );
            out.push(Target::equal(
                "create",
                "objects with Ready reason Throttled",
                figure(p, "throttled_objects"),
                0.0,
                "",
            ));
            out.push(Target::equal(
                "create",
                "AWS calls throttled",
                Some(p.figures.aws.throttled as f64),
                0.0,
                "",
            ));
        } else {
            let limit = 0.03 * total as f64;
            let mut t = Target::at_most(
                "create",
                "seconds until all Ready",
                Some(p.seconds),
                limit,
                "s",
            );
            if total != 1_000 && total != 10_000 {
                t = t.note("30 s per 1,000 objects, scaled linearly");
            }
            if let Limits::Share(share) = s.limits {
                t = t.note(format!(
                    "the issue's target is without limits; --aws-quota-share {share} allows {:.1} PutMetricAlarm/s, a floor of {:.0} s",
                    share * PUT_QUOTA_TPS,
                    s.fleet.alarms as f64 / (share * PUT_QUOTA_TPS)
                ));
            }
            out.push(t);
        }
        out.extend(calls_needed("create", s, p));
    }
    if !report.phases.is_empty() {
        let peak = report
            .phases
            .iter()
            .map(|p| p.figures.operator.peak_rss_bytes)
            .max();
        let budget = if total <= 1_000 {
            64.0
        } else {
            64.0 + (total - 1_000) as f64 * 32.0 / 9_000.0
        };
        let mut t = Target::at_most(
            "all",
            "operator peak RSS",
            tenths(peak.map(|b| b as f64 / 1024.0 / 1024.0)),
            budget,
            "MiB",
        );
        if total > 1_000 && total != 10_000 {
            t = t.note("64 MiB at 1,000 and 96 MiB at 10,000 objects, interpolated");
        }
        out.push(t);
    }
    if s.fleet.accounts > 0 && !report.phases.is_empty() {
        // Every object names one of the fleet's accounts: the operator's own account sees its
        // AssumeRole calls and nothing else.
        let own: Option<u64> = report
            .phases
            .iter()
            .map(|p| {
                let calls = p.figures.aws.per_account.get(DEFAULT_ACCOUNT)?;
                Some(
                    calls
                        .iter()
                        .filter(|(op, _)| !op.starts_with("sts:"))
                        .map(|(_, n)| n)
                        .sum::<u64>(),
                )
            })
            .sum();
        out.push(
            Target::equal(
                "all",
                &format!("AWS calls outside STS in the operator's own account {DEFAULT_ACCOUNT}"),
                own.map(|n| n as f64),
                0.0,
                "",
            )
            .note("every object names one of the fleet's accounts"),
        );
    }
    if let Some(p) = phase("idle") {
        let f = &p.figures;
        out.push(Target::equal(
            "idle",
            "AWS writes",
            Some(f.aws.writes as f64),
            0.0,
            "",
        ));
        out.push(Target::equal(
            "idle",
            "status writes (operator's count)",
            Some(f.operator.writes_of("status") as f64),
            0.0,
            "",
        ));
        out.push(Target::equal(
            "idle",
            "API-server writes by the operator (API server's count)",
            Some(f.apiserver.by_operator as f64),
            0.0,
            "",
        ));
        // The drift resync sweeps each kind on its own, in chunks of up to 100 objects of one
        // account: metric alarms and composites are read in separate calls, unless a chunk of
        // one happens to join the other's open batch.
        let metric = s.fleet.per_account(Kind::Alarm);
        let composite = s.fleet.per_account(Kind::CompositeAlarm);
        let sweeps: Vec<(usize, usize)> = metric.into_iter().zip(composite).collect();
        let sweep_calls = |(m, c): (usize, usize)| m.div_ceil(100) + c.div_ceil(100);
        let composites = s.fleet.composite_alarms > 0;
        let sweep_terms = |(m, c): (usize, usize)| {
            if composites {
                format!("⌈{m}/100⌉ + ⌈{c}/100⌉")
            } else {
                format!("⌈{m}/100⌉")
            }
        };
        let t = Target::at_most(
            "idle",
            "DescribeAlarms per resync period",
            tenths(figure(p, "describe_alarms_per_period")),
            sweeps.iter().map(|a| sweep_calls(*a)).sum::<usize>() as f64,
            "",
        );
        let terms: Vec<String> = sweeps.iter().map(|a| sweep_terms(*a)).collect();
        out.push(if s.fleet.accounts == 0 && !composites {
            t.note(format!("{}, one region", terms.join("")))
        } else if s.fleet.accounts == 0 {
            t.note(format!(
                "{}: metric alarms and composites, each kind read in its own chunks; one region",
                terms.join("")
            ))
        } else {
            t.note(format!(
                "{}: metric alarms and composites of each account, each kind read in its own chunks, a call reads one account's alarms; one region",
                terms.join(" + ")
            ))
        });
        // Each account's batches on their own: one account's reads never make up for another's.
        let by_account = p.detail.get("describe_alarms_per_period_by_account");
        for (account, sweep) in s.fleet.account_ids().iter().zip(&sweeps) {
            if s.fleet.accounts == 0 {
                break;
            }
            out.push(
                Target::at_most(
                    "idle",
                    &format!("DescribeAlarms per resync period in account {account}"),
                    tenths(
                        by_account
                            .and_then(|b| b.get(account))
                            .and_then(Value::as_f64),
                    ),
                    sweep_calls(*sweep) as f64,
                    "",
                )
                .note(sweep_terms(*sweep)),
            );
        }
        let expected = expected_tag_reads_per_period(s);
        out.push(
            Target::at_most(
                "idle",
                "ListTagsForResource per resync period",
                tenths(figure(p, "tag_reads_per_period")),
                (expected * 1.25).ceil(),
                "",
            )
            .note(format!(
                "tagged objects × resync / tag resync = {expected:.1}, plus 25% for the spread of first reads"
            )),
        );
    }
    if let Some(p) = phase("soak") {
        out.push(Target::at_most(
            "soak",
            "operator RSS growth, end over start",
            figure(p, "rss_growth_percent").map(|g| (g * 10.0).round() / 10.0),
            10.0,
            "%",
        ));
        out.push(Target::equal(
            "soak",
            "objects not Ready after the last period",
            figure(p, "not_ready_at_end"),
            0.0,
            "",
        ));
        out.push(Target::equal(
            "soak",
            "edits and out-of-band changes not in AWS after the last period",
            figure(p, "not_put_back"),
            0.0,
            "",
        ));
    }
    if let Some(p) = phase("edit") {
        out.push(Target::equal(
            "edit",
            "AWS writes",
            Some(p.figures.aws.writes as f64),
            edited(s).len() as f64,
            "",
        ));
    }
    if let Some(p) = phase("delete") {
        let left = p.detail.get("aws_leftovers");
        let aws_left: Option<f64> = [
            "alarms",
            "metric_streams",
            "subscription_filters",
            "sampling_rules",
            "metric_filters",
            "destinations",
        ]
        .iter()
        .map(|k| left.and_then(|l| l.get(*k)).and_then(Value::as_f64))
        .sum();
        out.push(Target::equal(
            "delete",
            "objects and AWS resources left",
            aws_left.zip(figure(p, "objects_left")).map(|(a, o)| a + o),
            0.0,
            "",
        ));
        if s.quotas {
            out.extend(delete_time_targets(s, p, report.cpus));
        }
        out.extend(calls_needed("delete", s, p));
    }
    out
}

/// What the operator's time beyond the quotas may be, in every delete-time target: the issue's
/// 10 s for 1,000 alarms less their ten DeleteAlarms calls at the quota (10 / 2.85 per second).
const DELETE_ALLOWANCE_SECONDS: f64 = 6.5;

/// A delete API whose quota bounds how fast a fleet's objects of `kinds` can go: `calls` at
/// `per_second`, once the last of those kinds was marked for deletion.
#[derive(Debug, PartialEq)]
struct DeleteFloor {
    api: &'static str,
    kinds: Vec<Kind>,
    calls: usize,
    per_second: f64,
}

/// The delete APIs a single-account fleet's deletion waits on, with the calls the work needs
/// (DeleteAlarms: a hundred metric alarms per call, a composite alone) and their default quotas
/// times the operator's `share`.
fn delete_floors(f: &Fleet, share: f64) -> Vec<DeleteFloor> {
    let floor = |api, kinds: Vec<Kind>, calls, quota: f64| DeleteFloor {
        api,
        kinds,
        calls,
        per_second: quota * share,
    };
    let mut out = Vec::new();
    if f.alarms + f.composite_alarms > 0 {
        out.push(floor(
            "DeleteAlarms",
            vec![Kind::Alarm, Kind::CompositeAlarm],
            f.composite_alarms + f.alarms.div_ceil(100),
            3.0,
        ));
    }
    for (api, kind, quota) in [
        ("DeleteSubscriptionFilter", Kind::LogSubscription, 5.0),
        ("DeleteMetricFilter", Kind::MetricFilter, 5.0),
        ("DeleteMetricStream", Kind::MetricStream, 10.0),
        ("DeleteDestination", Kind::LogDestination, 5.0),
    ] {
        if f.count(kind) > 0 {
            out.push(floor(api, vec![kind], f.count(kind), quota));
        }
    }
    out
}

/// What the API server and etcd alone took of the machine in a phase: their CPU seconds over the
/// machine's `cpus`, the least time the phase could take on this machine however its requests
/// overlap (the `--apiserver-floor` of the requests the phase made). A figure missing is said.
fn server_cpu_note(p: &Phase, cpus: usize) -> String {
    let cpu = &p.figures.cpu_seconds;
    match (cpu.get("kube-apiserver"), cpu.get("etcd")) {
        (Some(api), Some(etcd)) => format!(
            "the API server and etcd used {:.1} CPU s in the phase: {:.1} s over this machine's {cpus} CPUs, however the requests overlap",
            api + etcd,
            (api + etcd) / cpus.max(1) as f64
        ),
        _ => "the API server's or etcd's CPU time was not measured".to_string(),
    }
}

/// The delete phase's time under quotas. A fleet of alarms alone: the 10 s for 1,000
/// (scaled linearly above), from the phase's start. Any other fleet: per delete API, from when the
/// benchmark's DeleteCollection of the last of its kinds returned until no object of them is left,
/// at most the calls the work needs at the quota plus [`DELETE_ALLOWANCE_SECONDS`]. (The
/// benchmark deletes kind after kind, and the API server takes seconds to mark a thousand objects,
/// so from the phase's start a kind deleted late could never meet a figure that ignores when it
/// was marked; what the operator controls is how close to the quota it deletes once marked.)
fn delete_time_targets(s: &Scenario, p: &Phase, cpus: usize) -> Vec<Target> {
    let f = &s.fleet;
    let share = match s.limits {
        Limits::Share(share) => share,
        Limits::Off => 1.0,
    };
    let floors = delete_floors(f, share);
    if floors.len() == 1 && f.composite_alarms == 0 {
        let per_thousand = (f.alarms as f64 / 1_000.0).max(1.0);
        let t = Target::at_most(
            "delete",
            "seconds until no object is left",
            Some(p.seconds),
            ((10.0 * per_thousand) * 10.0).round() / 10.0,
            "s",
        );
        let mut note = server_cpu_note(p, cpus);
        if f.alarms != 1_000 {
            note = format!("10 s for 1,000 alarms; scaled linearly above 1,000, not below. {note}");
        }
        return vec![t.note(note)];
    }
    let marked = p.detail.get("seconds_kind_marked");
    let listed = p.detail.get("seconds_kind_last_listed");
    let at =
        |v: Option<&Value>, kind: Kind| v.and_then(|m| m.get(kind.name())).and_then(Value::as_f64);
    floors
        .into_iter()
        .map(|d| {
            // Marked: every kind of the API's (an alarm a composite names goes after it).
            let from = d
                .kinds
                .iter()
                .map(|k| at(marked, *k))
                .collect::<Option<Vec<f64>>>();
            let from = from.map(|v| v.into_iter().fold(0.0, f64::max));
            // Gone: by the last poll that listed one. The polls begin once every kind's
            // DeleteCollection returned, so kinds none of which a poll listed were gone by then
            // (an upper bound: their figure can only read high).
            let listed_last = d
                .kinds
                .iter()
                .filter_map(|k| at(listed, *k))
                .reduce(f64::max);
            let polls_began = marked
                .and_then(Value::as_object)
                .and_then(|m| m.values().filter_map(Value::as_f64).reduce(f64::max));
            let gone = listed_last.or(polls_began);
            let quota = d.calls as f64 / d.per_second;
            let limit = ((quota + DELETE_ALLOWANCE_SECONDS) * 10.0).round() / 10.0;
            Target::at_most(
                "delete",
                &format!(
                    "{}: seconds from the last of {} marked until none is left",
                    d.api,
                    d.kinds
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                from.zip(gone).map(|(m, g)| ((g - m) * 10.0).round() / 10.0),
                limit,
                "s",
            )
            .note(format!(
                "{} calls at {:.2}/s ({quota:.1} s) + {DELETE_ALLOWANCE_SECONDS} s",
                d.calls, d.per_second
            ))
        })
        .collect()
}

/// AWS calls of a create or delete phase per API, against what the work needs: reads batched as
/// the API allows, and no read that tells nothing new.
/// Whether the delete phase runs an operator restarted with a short resync (the idle and soak
/// phases'): its drift resync keeps reading the objects not yet marked for deletion, tags
/// included, so only the deletions' own calls can be held to "no tag reads".
fn resyncs_in_delete(s: &Scenario) -> bool {
    s.idle || s.soak.is_some()
}

fn calls_needed(phase: &str, s: &Scenario, p: &Phase) -> Vec<Target> {
    let f = &s.fleet;
    let calls = |op: &str| Some(p.figures.aws.of(op) as f64);
    let service_calls = |op: &str| {
        let calls = p
            .figures
            .aws
            .per_operation
            .get(op)
            .copied()
            .unwrap_or_default();
        Some(calls as f64)
    };
    // The operator's own count of the calls its deletions made; the scrape that reads it fails
    // when the series is missing, so an operation absent here had no call.
    let by_deletions = |op: &str| {
        let calls = p
            .figures
            .operator
            .deletion_aws_calls
            .get(op)
            .copied()
            .unwrap_or_default();
        Some(calls as f64)
    };
    let alarms = f.alarms + f.composite_alarms;
    // ⌈n/100⌉, or its sum over the accounts when the fleet is spread (a call names one
    // account's alarms).
    let hundreds = |kinds: &[Kind]| f.hundreds_per_account(kinds);
    let of = |n: usize| {
        if f.accounts == 0 {
            format!("⌈{n}/100⌉")
        } else {
            format!("Σ ⌈n/100⌉ over {} accounts", f.accounts)
        }
    };
    let mut out = Vec::new();
    let per_api = |op: &str| format!("AWS calls: {op}");
    match phase {
        "create" => {
            if alarms > 0 {
                let composites = f.composite_alarms;
                let batches = hundreds(&[Kind::Alarm, Kind::CompositeAlarm]);
                let mut t = Target::at_most(
                    phase,
                    &per_api("DescribeAlarms"),
                    calls("DescribeAlarms"),
                    (batches * 2 + composites + 10) as f64,
                    "",
                );
                t = if composites == 0 {
                    t.note(format!(
                        "{} × 2 + 10: the alarms read a hundred per call before their creates, none read after",
                        of(alarms)
                    ))
                } else {
                    t.note(format!(
                        "{} × 2 + {composites} + 10: read a hundred per call before the creates; a new composite read once after (CloudWatch evaluates its rule at once), a new metric alarm not",
                        of(alarms)
                    ))
                };
                out.push(t);
            }
            if f.log_subscriptions > 0 {
                let groups = f.log_groups().len();
                out.push(
                    Target::at_most(
                        phase,
                        &per_api("logs:DescribeSubscriptionFilters"),
                        service_calls("logs:DescribeSubscriptionFilters"),
                        (groups * 2 + 10) as f64,
                        "",
                    )
                    .note(format!(
                        "{groups} log groups × 2 + 10: each group listed before its filters are created and once after, for their creation time"
                    )),
                );
            }
            if f.metric_filters > 0 {
                let groups = f.metric_log_groups().len();
                out.push(
                    Target::at_most(
                        phase,
                        &per_api("logs:DescribeMetricFilters"),
                        service_calls("logs:DescribeMetricFilters"),
                        (groups * 2 + 10) as f64,
                        "",
                    )
                    .note(format!(
                        "{groups} log groups × 2 + 10: each group listed before its filters are created and once after, for their creation time"
                    )),
                );
            }
            if f.sampling_rules > 0 {
                let spare = 5 * f.accounts.max(1);
                out.push(
                    Target::at_most(
                        phase,
                        &per_api("xray:GetSamplingRules"),
                        service_calls("xray:GetSamplingRules"),
                        (f.sampling_rules + spare) as f64,
                        "",
                    )
                    .note(format!(
                        "{} rules + {spare}: a create makes the region's listing stale, so at most one listing per create{}",
                        f.sampling_rules,
                        if f.accounts == 0 { "" } else { "; 5 spare per account, each has its own listing" }
                    )),
                );
            }
            if f.metric_streams > 0 {
                out.push(
                    Target::equal(
                        phase,
                        &per_api("StartMetricStreams + StopMetricStreams"),
                        calls("StartMetricStreams")
                            .zip(calls("StopMetricStreams"))
                            .map(|(a, b)| a + b),
                        0.0,
                        "",
                    )
                    .note("every stream of the fleet runs, as a new stream does"),
                );
            }
        }
        _ => {
            if alarms > 0 {
                out.push(
                    Target::at_most(
                        phase,
                        &per_api("DeleteAlarms"),
                        calls("DeleteAlarms"),
                        (hundreds(&[Kind::Alarm]) + f.composite_alarms + 5) as f64,
                        "",
                    )
                    .note(format!(
                        "{} + {} + 5: a hundred metric alarms per call, composites one per call (AWS's rule)",
                        of(f.alarms),
                        f.composite_alarms
                    )),
                );
            }
            out.push(
                Target::equal(
                    phase,
                    &per_api("ListTagsForResource (any service) by the deletions"),
                    by_deletions("ListTagsForResource"),
                    0.0,
                    "",
                )
                .note("every object was Ready: its ownership is known (the operator's cwo_deletion_aws_calls_total)"),
            );
            if !resyncs_in_delete(s) {
                out.push(
                    Target::equal(
                        phase,
                        &per_api("ListTagsForResource (any service)"),
                        calls("ListTagsForResource"),
                        0.0,
                        "",
                    )
                    .note("every object was Ready, and the create's operator (10-minute resync) reads no tags in the phase"),
                );
            }
            if f.metric_streams > 0 {
                out.push(
                    Target::equal(
                        phase,
                        &per_api("GetMetricStream"),
                        calls("GetMetricStream"),
                        0.0,
                        "",
                    )
                    .note("DeleteMetricStream's success says the stream is gone"),
                );
            }
            if f.sampling_rules > 0 {
                out.push(
                    Target::at_most(
                        phase,
                        &per_api("xray:GetSamplingRules"),
                        service_calls("xray:GetSamplingRules"),
                        5.0,
                        "",
                    )
                    .note("a confirmed rule is deleted by name, without a listing"),
                );
            }
            if f.log_subscriptions > 0 {
                out.push(
                    Target::equal(
                        phase,
                        &per_api("logs:DescribeSubscriptionFilters"),
                        service_calls("logs:DescribeSubscriptionFilters"),
                        0.0,
                        "",
                    )
                    .note("ownership is in each object's status; DeleteSubscriptionFilter's success says the filter is gone"),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::measure::PhaseFigures;

    fn scenario(name: &str) -> Scenario {
        all(true)
            .into_iter()
            .find(|s| s.name == name)
            .expect("a scenario of that name")
    }

    fn report(s: &Scenario, phases: Vec<Phase>) -> ScenarioReport {
        ScenarioReport {
            scenario: s.name.into(),
            description: s.description.clone(),
            quick: true,
            fleet: s.fleet,
            objects: s.fleet.total(),
            emulator_quotas: s.quotas,
            aws_quota_share: None,
            operator_flags: Vec::new(),
            idle_resync_seconds: None,
            idle_tag_resync_seconds: None,
            cpus: 2,
            load_average_start: [0.0; 3],
            started_unix_seconds: 0,
            phases,
            targets: Vec::new(),
            error: None,
        }
    }

    fn phase(name: &str, detail: &[(&str, Value)]) -> Phase {
        let mut figures = PhaseFigures::default();
        figures.operator.peak_rss_bytes = 30 * 1024 * 1024;
        Phase {
            name: name.into(),
            seconds: 1.0,
            completed: true,
            detail: detail
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            figures,
        }
    }

    fn target<'a>(targets: &'a [Target], figure: &str) -> &'a Target {
        targets
            .iter()
            .find(|t| t.figure == figure)
            .unwrap_or_else(|| panic!("no target {figure} in {targets:?}"))
    }

    #[test]
    fn a_mixed_fleets_delete_is_timed_per_api_from_its_kinds_marking() {
        // Full size: the figures below are a full run's.
        let s = all(false)
            .into_iter()
            .find(|s| s.name == "quotas-mixed")
            .expect("quotas-mixed");
        let floors = delete_floors(&s.fleet, DEFAULT_SHARE);
        let alarms = &floors[0];
        assert_eq!(alarms.api, "DeleteAlarms");
        // A composite per call, a hundred metric alarms per call.
        assert_eq!(
            alarms.calls,
            s.fleet.composite_alarms + s.fleet.alarms.div_ceil(100)
        );
        assert!((alarms.per_second - 2.85).abs() < 1e-9);
        let figure = |api: &str| {
            let kinds = match api {
                "DeleteAlarms" => "Alarm and CompositeAlarm",
                "DeleteSubscriptionFilter" => "LogSubscription",
                _ => unreachable!(),
            };
            format!("{api}: seconds from the last of {kinds} marked until none is left")
        };
        let delete = |listed: Value| {
            phase(
                "delete",
                &[
                    (
                        "seconds_kind_marked",
                        json!({"MetricFilter": 0.5, "Alarm": 9.4, "CompositeAlarm": 10.1,
                               "MetricStream": 11.0, "LogDestination": 11.5,
                               "LogSubscription": 13.3, "SamplingRule": 13.6}),
                    ),
                    ("seconds_kind_last_listed", listed),
                ],
            )
        };
        let listed = json!({"Alarm": 53.6, "CompositeAlarm": 44.3, "LogSubscription": 52.8});
        let found = targets(&s, &report(&s, vec![delete(listed)]));
        let t = target(&found, &figure("DeleteAlarms"));
        // From the composites' marking (the later of the two) to the last alarm.
        assert_eq!(t.measured, Some(43.5));
        let floor = alarms.calls as f64 / alarms.per_second + DELETE_ALLOWANCE_SECONDS;
        assert_eq!(t.limit, (floor * 10.0).round() / 10.0);
        assert!(t.met, "{t:?}");
        assert_eq!(
            target(&found, &figure("DeleteSubscriptionFilter")).measured,
            Some(39.5)
        );
        // Kinds no poll listed were gone by the first poll, after the last marking.
        let streams = found
            .iter()
            .find(|t| t.figure.starts_with("DeleteMetricStream"))
            .expect("a stream target");
        assert_eq!(streams.measured, Some(2.6));

        // An operator slow once the objects are marked fails.
        let slow = json!({"Alarm": 10.1 + floor + 1.0, "LogSubscription": 52.8});
        let found = targets(&s, &report(&s, vec![delete(slow)]));
        assert!(!target(&found, &figure("DeleteAlarms")).met);
        // No marking recorded: missing, not met.
        let found = targets(&s, &report(&s, vec![phase("delete", &[])]));
        let t = target(&found, &figure("DeleteAlarms"));
        assert!(t.measured.is_none() && !t.met, "{t:?}");

        // Alarms alone keep the 10 s from the phase's start.
        let s = scenario("quotas");
        let found = targets(&s, &report(&s, vec![phase("delete", &[])]));
        let t = target(&found, "seconds until no object is left");
        assert_eq!((t.limit, t.measured), (10.0, Some(1.0)));
    }

    #[test]
    fn an_alarm_fleets_delete_says_what_the_api_server_and_etcd_took_of_the_machine() {
        let mut p = phase("delete", &[]);
        p.figures.cpu_seconds = BTreeMap::from([
            ("kube-apiserver".to_string(), 18.8),
            ("etcd".to_string(), 2.6),
            ("operator".to_string(), 2.0),
        ]);
        let note = server_cpu_note(&p, 2);
        assert!(
            note.contains("21.4 CPU s") && note.contains("10.7 s over this machine's 2 CPUs"),
            "{note}"
        );
        // Missing: said, never read as zero.
        p.figures.cpu_seconds.remove("etcd");
        assert_eq!(
            server_cpu_note(&p, 2),
            "the API server's or etcd's CPU time was not measured"
        );
    }

    #[test]
    fn a_figure_a_phase_did_not_record_fails_its_target_as_missing() {
        let s = scenario("quotas");
        let found = targets(
            &s,
            &report(&s, vec![phase("create", &[]), phase("delete", &[])]),
        );
        for figure in [
            "seconds until all Ready / (N / 3 s)",
            "objects with Ready reason Throttled",
            "objects and AWS resources left",
        ] {
            let t = target(&found, figure);
            assert_eq!(t.measured, None, "{t:?}");
            assert!(!t.met, "an unmeasured figure met its target: {t:?}");
        }
        // Half the leftovers counted is not a count.
        let partial = phase(
            "delete",
            &[
                ("aws_leftovers", json!({"alarms": 0, "metric_streams": 0})),
                ("objects_left", json!(0)),
            ],
        );
        let found = targets(&s, &report(&s, vec![partial]));
        assert!(!target(&found, "objects and AWS resources left").met);

        let s = scenario("soak");
        let found = targets(&s, &report(&s, vec![phase("soak", &[])]));
        for figure in [
            "operator RSS growth, end over start",
            "objects not Ready after the last period",
            "edits and out-of-band changes not in AWS after the last period",
        ] {
            let t = target(&found, figure);
            assert!(t.measured.is_none() && !t.met, "{t:?}");
        }

        let s = scenario("alarms");
        let found = targets(&s, &report(&s, vec![phase("idle", &[])]));
        for figure in [
            "DescribeAlarms per resync period",
            "ListTagsForResource per resync period",
        ] {
            let t = target(&found, figure);
            assert!(t.measured.is_none() && !t.met, "{t:?}");
        }
        let md = report(&s, vec![phase("idle", &[])]);
        let md = ScenarioReport {
            targets: found,
            ..md
        }
        .markdown();
        assert!(
            md.contains(
                "| idle: DescribeAlarms per resync period (⌈200/100⌉, one region) | **missing** |"
            ),
            "{md}"
        );
    }

    #[test]
    fn a_spread_fleet_is_held_to_each_accounts_batches_and_to_nothing_in_the_operators_own() {
        let s = scenario("mixed-accounts");
        assert_eq!(s.fleet.accounts, ACCOUNTS);
        let ids = s.fleet.account_ids();
        // Quick sizes: 40, 30 and 30 metric alarms, and 4, 3 and 3 composites: two sweep
        // chunks per account.
        let idle = |by_account: Value| {
            let mut p = phase(
                "idle",
                &[
                    ("describe_alarms_per_period", json!(3.0)),
                    ("describe_alarms_per_period_by_account", by_account),
                ],
            );
            p.figures.aws.per_account = BTreeMap::from([
                (
                    DEFAULT_ACCOUNT.to_string(),
                    BTreeMap::from([("sts:AssumeRole".to_string(), 3)]),
                ),
                (
                    ids[0].clone(),
                    BTreeMap::from([("cloudwatch:DescribeAlarms".to_string(), 5)]),
                ),
            ]);
            p
        };
        let all_read = json!({&ids[0]: 1.0, &ids[1]: 1.0, &ids[2]: 1.0});
        let found = targets(&s, &report(&s, vec![idle(all_read.clone())]));
        let total = target(&found, "DescribeAlarms per resync period");
        assert_eq!(total.limit, 6.0, "{total:?}");
        assert!(total.met);
        for id in &ids {
            let t = target(
                &found,
                &format!("DescribeAlarms per resync period in account {id}"),
            );
            assert!(t.met && t.limit == 2.0, "{t:?}");
        }
        let own = format!("AWS calls outside STS in the operator's own account {DEFAULT_ACCOUNT}");
        assert!(
            target(&found, &own).met,
            "AssumeRole is the operator's own call"
        );

        // One account read three times is over its own limit though the total is not; an
        // account not recorded is missing, not zero.
        let uneven = json!({&ids[0]: 3.0, &ids[1]: 1.0});
        let found = targets(&s, &report(&s, vec![idle(uneven)]));
        assert!(target(&found, "DescribeAlarms per resync period").met);
        let first = target(
            &found,
            &format!("DescribeAlarms per resync period in account {}", ids[0]),
        );
        assert!(!first.met, "{first:?}");
        let third = target(
            &found,
            &format!("DescribeAlarms per resync period in account {}", ids[2]),
        );
        assert!(third.measured.is_none() && !third.met, "{third:?}");

        // A call in the operator's own account is an object in the wrong account; a phase
        // without the operator's account recorded fails the target as missing.
        let mut wrong = idle(all_read);
        wrong
            .figures
            .aws
            .per_account
            .get_mut(DEFAULT_ACCOUNT)
            .unwrap()
            .insert("cloudwatch:PutMetricAlarm".into(), 1);
        let found = targets(&s, &report(&s, vec![wrong]));
        assert_eq!(target(&found, &own).measured, Some(1.0));
        assert!(!target(&found, &own).met);
        let found = targets(&s, &report(&s, vec![phase("create", &[])]));
        let t = target(&found, &own);
        assert!(t.measured.is_none() && !t.met, "{t:?}");

        // The one-account mixed fleet keeps its single limit, ⌈110/100⌉, and no per-account
        // targets.
        let s = scenario("mixed");
        let found = targets(&s, &report(&s, vec![phase("idle", &[])]));
        assert_eq!(
            target(&found, "DescribeAlarms per resync period").limit,
            2.0
        );
        assert!(!found.iter().any(|t| t.figure.contains("in account")));
        assert!(!found.iter().any(|t| t.figure.contains("own account")));
    }

    #[test]
    fn tag_reads_on_delete_are_the_deletions_own_where_a_resync_runs_beside_them() {
        let delete = |total: u64, by_deletions: u64| {
            let mut p = phase("delete", &[]);
            p.figures
                .aws
                .per_operation
                .insert("cloudwatch:ListTagsForResource".into(), total);
            if by_deletions > 0 {
                p.figures
                    .operator
                    .deletion_aws_calls
                    .insert("ListTagsForResource".into(), by_deletions);
            }
            p
        };
        let own = "AWS calls: ListTagsForResource (any service) by the deletions";
        let all = "AWS calls: ListTagsForResource (any service)";
        // alarms-large deletes with the idle phase's operator (30 s resync): its resync reads
        // the objects not yet marked, so only the deletions' own reads are held to zero.
        let s = scenario("alarms-large");
        let found = targets(&s, &report(&s, vec![delete(2_778, 0)]));
        assert!(target(&found, own).met);
        assert!(!found.iter().any(|t| t.figure == all), "{found:?}");
        let found = targets(&s, &report(&s, vec![delete(2_778, 3)]));
        assert_eq!(target(&found, own).measured, Some(3.0));
        assert!(!target(&found, own).met);
        // quotas deletes with the create's operator: every tag read in the phase counts.
        let s = scenario("quotas");
        let found = targets(&s, &report(&s, vec![delete(5, 0)]));
        assert!(target(&found, own).met);
        assert!(!target(&found, all).met);
        assert!(
            targets(&s, &report(&s, vec![delete(0, 0)]))
                .iter()
                .filter(|t| t.figure.starts_with("AWS calls: ListTags"))
                .all(|t| t.met)
        );
    }

    #[test]
    fn recorded_figures_are_checked_against_their_limits() {
        let s = scenario("quotas");
        let create = phase(
            "create",
            &[
                ("ratio_to_floor", json!(1.05)),
                ("throttled_objects", json!(0)),
            ],
        );
        let delete = phase(
            "delete",
            &[
                (
                    "aws_leftovers",
                    json!({
                        "alarms": 0,
                        "metric_streams": 0,
                        "subscription_filters": 0,
                        "sampling_rules": 1,
                        "metric_filters": 0,
                        "destinations": 0,
                    }),
                ),
                ("objects_left", json!(0)),
            ],
        );
        let found = targets(&s, &report(&s, vec![create, delete]));
        assert!(target(&found, "seconds until all Ready / (N / 3 s)").met);
        assert!(target(&found, "objects with Ready reason Throttled").met);
        assert!(target(&found, "operator peak RSS").met);
        let left = target(&found, "objects and AWS resources left");
        assert_eq!(left.measured, Some(1.0));
        assert!(!left.met);

        let s = scenario("alarms");
        let idle = phase(
            "idle",
            &[
                ("describe_alarms_per_period", json!(2.04)),
                ("tag_reads_per_period", json!(3.0)),
            ],
        );
        let found = targets(&s, &report(&s, vec![idle]));
        let describes = target(&found, "DescribeAlarms per resync period");
        assert_eq!(describes.measured, Some(2.0));
        assert!(describes.met);
        assert!(target(&found, "ListTagsForResource per resync period").met);

        let s = scenario("soak");
        let soak = phase(
            "soak",
            &[
                ("rss_growth_percent", json!(12.04)),
                ("not_ready_at_end", json!(0)),
                ("not_put_back", json!(0)),
            ],
        );
        let found = targets(&s, &report(&s, vec![soak]));
        let growth = target(&found, "operator RSS growth, end over start");
        assert_eq!(growth.measured, Some(12.0));
        assert!(!growth.met);
        assert!(target(&found, "objects not Ready after the last period").met);
    }
}
