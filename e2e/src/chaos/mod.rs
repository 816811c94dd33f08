//! Randomized crash testing: a mixed fleet of every namespaced kind (alarms, composites over
//! them, log subscriptions at the per-group filter limit, metric filters, log destinations,
//! sampling rules, metric streams) is created,
//! edited and deleted while the operator is SIGKILLed at random points, over many iterations.
//! Every few iterations the operator is left running until the fleet settles, and then:
//!
//! - every object is Ready for its current generation, and every deleted object is gone (none
//!   stuck on its finalizer);
//! - AWS holds exactly what the objects say: no orphan (an AWS object no object asks for), no
//!   duplicate (a second AWS object for one object), nothing missing or different.
//!
//! The run ends by deleting everything, still killing the operator, and checking that AWS holds
//! nothing of the fleet. The operations and the kill times come from one seed, printed at the
//! start: the same seed replays the same operations and kill delays (the operator's own timing
//! still varies from run to run). The end-to-end tests run a short version
//! (`tests/e2e/crash_chaos.rs`); `cwo-bench --chaos` runs long ones.

pub mod aws_state;
pub mod fleet;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_types::SdkConfig;
use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

use crate::Bed;
use crate::operator::{E2E_OPERATOR_LABEL, EmulatorHandle, OperatorOptions, OperatorProcess};
use aws_state::Difference;
use fleet::{Fleet, Kind, Op, Plan, Sizes};

/// Writes the emulator keeps in its journal: every write of a long run, so a finding can be
/// traced call by call.
pub const JOURNAL_CAPACITY: usize = 200_000;

/// How a chaos run starts its emulator: default settings, with the journal on.
pub fn emulator_config() -> cwo_emulator::EmulatorConfig {
    cwo_emulator::EmulatorConfig {
        journal_capacity: JOURNAL_CAPACITY,
        ..Default::default()
    }
}

/// Requests in flight when applying an iteration's operations.
const PARALLEL_REQUESTS: usize = 16;

/// How a chaos run goes.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Seeds the operations and the kill delays.
    pub seed: u64,
    /// Iterations of operations, each with at least one kill.
    pub iterations: usize,
    /// The fleet kept alive.
    pub sizes: Sizes,
    /// Iterations between checks (the last iteration is always checked).
    pub check_every: usize,
    /// A kill comes at a random moment up to this long after an iteration's operations start.
    pub max_kill_delay: Duration,
    /// How long the fleet may take to settle before the objects not Ready or not gone count as
    /// stuck.
    pub settle_timeout: Duration,
    /// How the operator runs (binary, resync period, extra flags).
    pub operator: OperatorOptions,
}

/// One check's or the run's findings.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Findings {
    /// Objects not Ready for their generation, or deleted but still there, with why.
    pub stuck: Vec<String>,
    /// How AWS differs from what the objects say.
    pub differences: Vec<String>,
}

impl Findings {
    pub fn is_empty(&self) -> bool {
        self.stuck.is_empty() && self.differences.is_empty()
    }
}

/// What a run did and found.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    pub seed: u64,
    pub iterations: usize,
    pub sizes: Option<Sizes>,
    pub kills: usize,
    pub checks: usize,
    pub creates: usize,
    pub edits: usize,
    pub deletes: usize,
    /// Orphans, duplicates and stuck objects over the whole run, by kind of finding.
    pub orphans: usize,
    pub duplicates: usize,
    pub stuck: usize,
    pub seconds: f64,
    /// The iteration whose check failed (the run stops there), and what it found, with each
    /// object's history and the operator's log lines about it.
    pub failed_at: Option<String>,
    pub findings: Findings,
    pub diagnosis: String,
}

impl Report {
    /// A line for logs: what ran and what was found.
    pub fn summary(&self) -> String {
        format!(
            "seed {}: {} iterations, {} kills, {} checks, {} creates, {} edits, {} deletes in \
             {:.0} s: {} orphans, {} duplicates, {} stuck objects",
            self.seed,
            self.iterations,
            self.kills,
            self.checks,
            self.creates,
            self.edits,
            self.deletes,
            self.seconds,
            self.orphans,
            self.duplicates,
            self.stuck
        )
    }

    pub fn passed(&self) -> bool {
        self.failed_at.is_none()
    }

    /// The failure in full: where, what was stuck or different, and each named object's
    /// history, the operator's log lines and the AWS writes that named it.
    pub fn failure(&self) -> String {
        format!(
            "seed {} failed at {}:\n{}\n{}\n--- history, operator log lines and AWS writes ---\n{}",
            self.seed,
            self.failed_at.as_deref().unwrap_or_default(),
            self.findings.stuck.join("\n"),
            self.findings.differences.join("\n"),
            self.diagnosis
        )
    }
}

/// A seed from the clock, for runs that do not name one.
pub fn fresh_seed() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.as_secs() ^ u64::from(now.subsec_nanos()) ^ u64::from(std::process::id()) << 32
}

/// What one chaos run works on: the bed, a namespace the caller created (the operator watches
/// only it), the emulator (faults already set as the caller wants), and a directory for the
/// operator's logs.
pub struct Target<'a> {
    pub bed: &'a Bed,
    pub namespace: &'a str,
    pub emulator: &'a EmulatorHandle,
    pub sdk: &'a SdkConfig,
    pub logs: &'a Path,
}

/// Creates what the fleet delivers to (one Firehose delivery stream) and its log groups. Call it
/// before switching faults on.
pub async fn create_prerequisites(sdk: &SdkConfig, sizes: &Sizes) -> Result<()> {
    crate::operator::create_delivery_stream(sdk, fleet::DELIVERY_STREAM).await?;
    for g in 0..sizes.log_groups {
        crate::operator::create_log_group(sdk, &fleet::log_group(g)).await?;
    }
    Ok(())
}

/// Runs the chaos: `settings.iterations` iterations, checks, then deleting everything. Needs a
/// multi-threaded Tokio runtime (restarts block their thread while the operations go on).
pub async fn run(target: &Target<'_>, settings: &Settings) -> Result<Report> {
    let started = Instant::now();
    let client = target.bed.client().await?;
    let mut chaos = Chaos {
        target,
        settings,
        client,
        fleet: Fleet::new(settings.sizes),
        rng: StdRng::seed_from_u64(settings.seed),
        operator: None,
        starts: 0,
        report: Report {
            seed: settings.seed,
            sizes: Some(settings.sizes),
            ..Report::default()
        },
    };
    chaos.start_operator()?;
    let outcome = chaos.iterate().await;
    if let Some(mut op) = chaos.operator.take() {
        op.kill();
    }
    chaos.report.seconds = started.elapsed().as_secs_f64();
    outcome?;
    if !chaos.report.passed() {
        // Kept beside the operator logs: a CI log may show only part of a long message.
        let path = target.logs.join("findings.txt");
        std::fs::write(&path, chaos.report.failure())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(chaos.report)
}

struct Chaos<'a> {
    target: &'a Target<'a>,
    settings: &'a Settings,
    client: kube::Client,
    fleet: Fleet,
    rng: StdRng,
    operator: Option<OperatorProcess>,
    starts: usize,
    report: Report,
}

impl Chaos<'_> {
    async fn iterate(&mut self) -> Result<()> {
        let n = self.settings.iterations;
        for i in 1..=n {
            let plan = self.fleet.plan(&mut self.rng);
            self.count(plan.first.iter().chain(&plan.then));
            self.report.iterations = i;
            self.apply_with_kills(plan).await?;
            if i % self.settings.check_every.max(1) == 0 || i == n {
                if !self.check(&format!("iteration {i}")).await? {
                    return Ok(());
                }
                crate::report(&format!(
                    "  chaos seed {}: iteration {i}/{n} checked: {} objects, {} kills so far",
                    self.settings.seed,
                    self.fleet.live().len(),
                    self.report.kills
                ));
            }
        }
        let teardown = self.fleet.teardown();
        self.count(&teardown);
        self.apply_with_kills(Plan {
            first: teardown,
            then: Vec::new(),
        })
        .await?;
        self.check("the deletion of every object").await?;
        Ok(())
    }

    fn count<'o>(&mut self, ops: impl IntoIterator<Item = &'o Op>) {
        for op in ops {
            match op {
                Op::Create { .. } => self.report.creates += 1,
                Op::Edit { .. } => self.report.edits += 1,
                Op::Delete { .. } => self.report.deletes += 1,
            }
        }
    }

    /// Applies `plan` while the operator is killed at a random moment and restarted; sometimes
    /// kills it once more while it catches up.
    async fn apply_with_kills(&mut self, plan: Plan) -> Result<()> {
        let max = self.settings.max_kill_delay.as_millis() as u64;
        let kill_at = Duration::from_millis(self.rng.random_range(0..=max));
        let gap = Duration::from_millis(self.rng.random_range(0..=400));
        let dead = Duration::from_millis(self.rng.random_range(0..=300));
        let again = self
            .rng
            .random_bool(0.3)
            .then(|| Duration::from_millis(self.rng.random_range(0..=max)));
        let applying = tokio::spawn(apply_plan(
            self.client.clone(),
            self.target.namespace.to_string(),
            plan,
            gap,
        ));
        tokio::time::sleep(kill_at).await;
        self.kill_and_restart(dead).await?;
        applying.await.context("applying operations")??;
        if let Some(delay) = again {
            tokio::time::sleep(delay).await;
            self.kill_and_restart(dead).await?;
        }
        Ok(())
    }

    async fn kill_and_restart(&mut self, dead: Duration) -> Result<()> {
        if let Some(mut op) = self.operator.take() {
            if let Some(status) = op.exited() {
                bail!(
                    "the operator had exited by itself ({status}):\n{}",
                    crate::process::tail(&self.log_path(self.starts), 40)
                );
            }
            op.kill();
            self.report.kills += 1;
        }
        tokio::time::sleep(dead).await;
        tokio::task::block_in_place(|| self.start_operator())
    }

    fn log_path(&self, start: usize) -> PathBuf {
        self.target.logs.join(format!("operator-{start}.log"))
    }

    fn start_operator(&mut self) -> Result<()> {
        self.starts += 1;
        let log = self.log_path(self.starts);
        // AWSAccounts are cluster-scoped and other scenarios share the cluster: this operator
        // serves only those labelled for its namespace (the fleet uses none).
        let mut options = self.settings.operator.clone();
        options.extra_args.extend([
            "--account-label-selector".to_string(),
            format!("{E2E_OPERATOR_LABEL}={}", self.target.namespace),
        ]);
        let op = OperatorProcess::start(
            self.target.bed,
            Some(self.target.namespace),
            &self.target.emulator.endpoint(),
            &options,
            &log,
        )?;
        self.operator = Some(op);
        Ok(())
    }

    /// Lets the fleet settle and checks it; false (with the findings in the report) when it
    /// found something.
    async fn check(&mut self, when: &str) -> Result<bool> {
        self.report.checks += 1;
        let stuck = self.settle().await?;
        let expected = aws_state::expected(self.fleet.live());
        let found = self.read_aws().await?;
        let differences = aws_state::differences(&expected, &found);
        self.report.orphans += differences
            .iter()
            .filter(|d| matches!(d, Difference::Orphan(_)))
            .count();
        self.report.duplicates += differences
            .iter()
            .filter(|d| matches!(d, Difference::Duplicate(_)))
            .count();
        self.report.stuck += stuck.len();
        if stuck.is_empty() && differences.is_empty() {
            self.fleet.settled();
            return Ok(true);
        }
        let names: Vec<String> = stuck
            .keys()
            .cloned()
            .chain(differences.iter().map(|d| d.name().to_string()))
            .collect();
        self.report.failed_at = Some(when.to_string());
        self.report.findings = Findings {
            stuck: stuck
                .iter()
                .map(|(name, why)| format!("{name}: {why}"))
                .collect(),
            differences: differences.iter().map(ToString::to_string).collect(),
        };
        self.report.diagnosis = self.diagnose(&names);
        Ok(false)
    }

    /// What AWS holds of the fleet, read with the emulator's faults paused: the check reads
    /// everything, and a fault there would end the run without a finding.
    async fn read_aws(&self) -> Result<Vec<aws_state::AwsObject>> {
        let emulator = self.target.emulator.inner();
        let faults = emulator.faults();
        emulator.set_faults(Default::default())?;
        let found = aws_state::read(self.target.sdk, &self.fleet.log_groups()).await;
        emulator.set_faults(faults)?;
        found
    }

    /// Waits until every live object is Ready for its generation and every deleted one is gone;
    /// returns those that are not, with why, once the settle timeout has passed.
    async fn settle(&self) -> Result<BTreeMap<String, String>> {
        let deadline = Instant::now() + self.settings.settle_timeout;
        loop {
            let states = list_states(&self.client, self.target.namespace).await?;
            let mut waiting = BTreeMap::new();
            for name in self.fleet.live().keys() {
                match states.get(name) {
                    None => {
                        waiting.insert(name.clone(), "does not exist".to_string());
                    }
                    Some(s) if !s.ready => {
                        waiting.insert(name.clone(), s.describe());
                    }
                    Some(_) => {}
                }
            }
            for name in self.fleet.deleted().keys() {
                if let Some(s) = states.get(name) {
                    waiting.insert(
                        name.clone(),
                        format!("deleted but still there: {}", s.describe()),
                    );
                }
            }
            for (name, s) in &states {
                if !self.fleet.live().contains_key(name) && !self.fleet.deleted().contains_key(name)
                {
                    waiting.insert(
                        name.clone(),
                        format!("not created by the run: {}", s.describe()),
                    );
                }
            }
            if waiting.is_empty() || Instant::now() >= deadline {
                return Ok(waiting);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Each named object's history, the operator's log lines about it and the AWS writes that
    /// named it (from the emulator's journal), each with its time.
    fn diagnose(&self, names: &[String]) -> String {
        let mut out = String::new();
        let logs: Vec<(usize, String)> = (1..=self.starts)
            .map(|i| {
                (
                    i,
                    std::fs::read_to_string(self.log_path(i)).unwrap_or_default(),
                )
            })
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for name in names {
            if !seen.insert(name) {
                continue;
            }
            let _ = writeln!(out, "--- {name}");
            for line in self.fleet.history(name) {
                let _ = writeln!(out, "  {line}");
            }
            for (start, log) in &logs {
                for line in log.lines().filter(|l| l.contains(name.as_str())).take(40) {
                    let _ = writeln!(out, "  [operator start {start}] {line}");
                }
            }
            for call in self.target.emulator.inner().journal(name) {
                let at = k8s_openapi::jiff::Timestamp::from_millisecond(call.at_millis as i64)
                    .map_or_else(|_| call.at_millis.to_string(), |t| t.to_string());
                let _ = writeln!(
                    out,
                    "  [aws {at}] {} {}: {} ({})",
                    call.service, call.operation, call.outcome, call.request
                );
            }
        }
        out
    }
}

/// Applies `plan.first` at once, then after `gap` `plan.then`.
async fn apply_plan(
    client: kube::Client,
    namespace: String,
    plan: Plan,
    gap: Duration,
) -> Result<()> {
    apply_ops(&client, &namespace, plan.first).await?;
    if !plan.then.is_empty() {
        tokio::time::sleep(gap).await;
        apply_ops(&client, &namespace, plan.then).await?;
    }
    Ok(())
}

fn resource(kind: Kind) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cwo.dev", "v1alpha1", kind.name()),
        kind.plural(),
    )
}

async fn apply_ops(client: &kube::Client, namespace: &str, ops: Vec<Op>) -> Result<()> {
    futures::stream::iter(ops.into_iter().map(|op| async move {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &resource(op.kind()));
        let mut attempt = 0;
        loop {
            let result = match &op {
                Op::Create { name, spec } => {
                    let object: DynamicObject = serde_json::from_value(spec.manifest(name))?;
                    api.create(&PostParams::default(), &object).await.map(drop)
                }
                Op::Edit { name, spec } => api
                    .patch(
                        name,
                        &PatchParams::default(),
                        &Patch::Merge(json!({"spec": spec.fields(name)})),
                    )
                    .await
                    .map(drop),
                Op::Delete { name, .. } => match api.delete(name, &DeleteParams::default()).await {
                    Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
                    other => other.map(drop),
                },
            };
            match result {
                Ok(()) => return Ok(()),
                // The API server is busy: send it again.
                Err(kube::Error::Api(e)) if (e.code == 429 || e.code >= 500) && attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => {
                    return Err(anyhow::Error::from(e).context(format!(
                        "{} {} {}",
                        match &op {
                            Op::Create { .. } => "creating",
                            Op::Edit { .. } => "editing",
                            Op::Delete { .. } => "deleting",
                        },
                        op.kind().name(),
                        op.name()
                    )));
                }
            }
        }
    }))
    .buffer_unordered(PARALLEL_REQUESTS)
    .try_collect::<Vec<()>>()
    .await?;
    Ok(())
}

/// An object as the API server shows it.
#[derive(Clone, Debug)]
struct ObjectState {
    /// Ready=True for its current generation.
    ready: bool,
    reason: String,
    message: String,
    deleting: bool,
    finalizers: Vec<String>,
}

impl ObjectState {
    fn describe(&self) -> String {
        format!(
            "Ready reason {:?}: {:?}{}; finalizers {:?}",
            self.reason,
            self.message,
            if self.deleting { ", being deleted" } else { "" },
            self.finalizers
        )
    }
}

async fn list_states(
    client: &kube::Client,
    namespace: &str,
) -> Result<BTreeMap<String, ObjectState>> {
    let mut out = BTreeMap::new();
    for kind in Kind::ALL {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &resource(kind));
        for o in api.list(&ListParams::default()).await?.items {
            let generation = o.metadata.generation;
            let status = o.data.get("status").cloned().unwrap_or(Value::Null);
            let ready = status["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
                .cloned()
                .unwrap_or(Value::Null);
            out.insert(
                o.metadata.name.clone().unwrap_or_default(),
                ObjectState {
                    ready: ready["status"] == "True"
                        && generation.is_some()
                        && status["observedGeneration"].as_i64() == generation
                        && ready["observedGeneration"].as_i64() == generation,
                    reason: ready["reason"].as_str().unwrap_or_default().to_string(),
                    message: ready["message"].as_str().unwrap_or_default().to_string(),
                    deleting: o.metadata.deletion_timestamp.is_some(),
                    finalizers: o.metadata.finalizers.clone().unwrap_or_default(),
                },
            );
        }
    }
    Ok(out)
}
