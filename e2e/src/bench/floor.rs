//! `cwo-bench --apiserver-floor`: what the bed's API server itself takes for the Kubernetes side
//! of deleting a collection of alarms, with no operator running. The objects hold the operator's
//! finalizer and a Ready alarm's status, as every managed object does; the benchmark then does, one step after the other,
//! what a deletion costs the API server: the DeleteCollection that marks them, the removal of
//! each finalizer (one JSON patch per object, as the operator sends it, `PARALLEL_REQUESTS` at
//! a time) and one Event per object. Each step's seconds and the API server's CPU seconds are
//! measured; their sum, and the CPU over the machine's cores, bound from below how fast any
//! finalizer-based operator can delete that collection on this machine.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cwo_e2e::checks::install_crds;
use cwo_e2e::manifests::Crd;
use cwo_e2e::{Bed, ControlPlaneConfig, repo_root};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde::Serialize;
use serde_json::json;

use super::fleet::{Cluster, Fleet, Kind, PARALLEL_REQUESTS, alarm_name, thousands};
use super::procfs::{self, MachineCpu};

const NAMESPACE: &str = "cwo-floor";
/// The operator's finalizer and field manager.
const FINALIZER: &str = "cwo.dev/cleanup";
const FIELD_MANAGER: &str = "cloudwatch-operator";

/// One step of the deletion, as the API server took it.
#[derive(Debug, Serialize)]
pub struct Step {
    pub step: &'static str,
    pub seconds: f64,
    pub apiserver_cpu_seconds: f64,
    pub etcd_cpu_seconds: f64,
    pub machine_busy: f64,
}

/// The measurement of `--apiserver-floor`.
#[derive(Debug, Serialize)]
pub struct Floor {
    pub objects: usize,
    pub cpus: usize,
    pub steps: Vec<Step>,
    /// The steps' seconds, one after the other.
    pub sequential_seconds: f64,
    /// The API server's and etcd's CPU seconds over the machine's CPUs: no deletion on this
    /// machine that makes these requests can take less, however they overlap.
    pub cpu_bound_seconds: f64,
}

impl Floor {
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "### apiserver-floor: the Kubernetes side of deleting {} alarms, no operator\n\n\
             {} CPUs. Each step ran alone, after the previous one ended.\n\n\
             | step | seconds | CPU s: apiserver / etcd | machine busy |\n|---|---:|---:|---:|\n",
            thousands(self.objects as u64),
            self.cpus
        );
        for s in &self.steps {
            md.push_str(&format!(
                "| {} | {:.1} | {:.1} / {:.1} | {:.0}% |\n",
                s.step,
                s.seconds,
                s.apiserver_cpu_seconds,
                s.etcd_cpu_seconds,
                s.machine_busy * 100.0
            ));
        }
        md.push_str(&format!(
            "\nOne after the other: {:.1} s. The API server's and etcd's CPU over {} CPUs: {:.1} s, \
             the least a deletion that makes these requests can take on this machine, however they overlap.\n",
            self.sequential_seconds, self.cpus, self.cpu_bound_seconds
        ));
        md
    }

    /// Writes `apiserver-floor.json` and `.md` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(PathBuf, PathBuf)> {
        let json_path = dir.join("apiserver-floor.json");
        let md_path = dir.join("apiserver-floor.md");
        std::fs::write(&json_path, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("writing {}", json_path.display()))?;
        std::fs::write(&md_path, self.markdown())
            .with_context(|| format!("writing {}", md_path.display()))?;
        Ok((json_path, md_path))
    }
}

/// The CPU seconds so far of the bed's process named `name`; fails when it cannot be read (no
/// figure is not zero).
fn cpu_of(name: &str) -> Result<f64> {
    let pid = *procfs::children()
        .get(name)
        .with_context(|| format!("no {name} process among the benchmark's children"))?;
    procfs::cpu_seconds(pid).with_context(|| format!("reading the CPU time of {name} (pid {pid})"))
}

/// Sends `request(i)` for each of the `n` alarms, `PARALLEL_REQUESTS` at a time; fails on the
/// first that fails.
async fn each_alarm<F, Fut>(n: usize, request: F) -> Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    futures::stream::iter((0..n).map(request))
        .buffer_unordered(PARALLEL_REQUESTS)
        .try_collect::<Vec<()>>()
        .await
        .map(|_| ())
}

/// Runs `work` as one step, measuring it.
async fn step<F: Future<Output = Result<()>>>(name: &'static str, work: F) -> Result<Step> {
    eprintln!("cwo-bench:   {name}");
    let (api0, etcd0, machine0) = (
        cpu_of("kube-apiserver")?,
        cpu_of("etcd")?,
        MachineCpu::read(),
    );
    let t0 = Instant::now();
    work.await?;
    let seconds = t0.elapsed().as_secs_f64();
    Ok(Step {
        step: name,
        seconds,
        apiserver_cpu_seconds: cpu_of("kube-apiserver")? - api0,
        etcd_cpu_seconds: cpu_of("etcd")? - etcd0,
        machine_busy: machine0.busy_since(&MachineCpu::read()),
    })
}

/// Measures the Kubernetes side of deleting `n` alarms on a fresh bed.
pub async fn run(n: usize) -> Result<Floor> {
    let bed = Bed::start_local(ControlPlaneConfig::default())?;
    eprintln!("cwo-bench: apiserver-floor: {}", bed.description());
    install_crds(&bed, &Crd::read_dir(&repo_root().join("crds"))?)?;
    let client = bed.client().await?;
    let cluster = Cluster::new(client.clone(), NAMESPACE).await?;
    let manifests = Fleet::alarms(n)
        .manifests()
        .into_iter()
        .map(|(kind, mut m)| {
            m["metadata"]["finalizers"] = json!([FINALIZER]);
            (kind, m)
        })
        .collect();
    cluster.create_all(manifests).await?;
    let alarms: Api<DynamicObject> = Kind::Alarm.api(&client, NAMESPACE);
    // Each alarm's status as the operator writes it for a Ready alarm (server-side apply, its
    // field manager): a write's cost grows with the object and its managed fields.
    each_alarm(n, |i| {
        let alarms = &alarms;
        async move {
            let name = alarm_name(i);
            let now = Time(k8s_openapi::jiff::Timestamp::now());
            let condition = |type_: &str, message: &str| {
                json!({
                    "type": type_, "status": "True", "reason": "Available", "message": message,
                    "lastTransitionTime": now,
                    "observedGeneration": 1,
                })
            };
            let status = json!({
                "apiVersion": "cwo.dev/v1alpha1", "kind": "Alarm",
                "metadata": {"name": name},
                "status": {
                    "observedGeneration": 1,
                    "conditions": [
                        condition("Ready", "the alarm matches its spec"),
                        condition("Synced", "AWS was read and written as needed"),
                    ],
                    "arn": format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"),
                    "region": "us-east-1",
                    "accountId": "123456789012",
                    "awsName": name,
                    "stateValue": "INSUFFICIENT_DATA",
                    "stateReason": "Unchecked: Initial alarm creation",
                    "stateUpdatedTimestamp": now,
                    "stateTransitionedTimestamp": now,
                },
            });
            alarms
                .patch_status(
                    &name,
                    &PatchParams::apply(FIELD_MANAGER).force(),
                    &Patch::Apply(&status),
                )
                .await
                .with_context(|| format!("writing the status of {name}"))
                .map(|_| ())
        }
    })
    .await?;
    let mut steps = Vec::new();
    steps.push(
        step("DeleteCollection (marks every alarm)", async {
            cluster.delete_all(&[Kind::Alarm]).await.map(|_| ())
        })
        .await?,
    );
    let marked = alarms.list(&Default::default()).await?.items;
    if marked.len() != n
        || marked
            .iter()
            .any(|a| a.metadata.deletion_timestamp.is_none())
    {
        bail!("after the DeleteCollection, not every one of the {n} alarms is marked");
    }
    // As the operator removes it (kube's finalizer helper): test that it is there, remove it.
    let unfinalize = json!([
        {"op": "test", "path": "/metadata/finalizers/0", "value": FINALIZER},
        {"op": "remove", "path": "/metadata/finalizers/0"},
    ]);
    steps.push(
        step(
            "finalizer removals (one JSON patch each)",
            each_alarm(n, |i| {
                let (alarms, patch) = (&alarms, &unfinalize);
                async move {
                    let name = alarm_name(i);
                    alarms
                        .patch(
                            &name,
                            &PatchParams::default(),
                            &Patch::<()>::Json(serde_json::from_value(patch.clone())?),
                        )
                        .await
                        .with_context(|| format!("removing the finalizer of {name}"))
                        .map(|_| ())
                }
            }),
        )
        .await?,
    );
    if !alarms.list(&Default::default()).await?.items.is_empty() {
        bail!("alarms are left after their finalizers were removed");
    }
    let events: Api<Event> = Api::namespaced(client.clone(), NAMESPACE);
    steps.push(
        step(
            "Events (one per object, as the operator's Deleted)",
            each_alarm(n, |i| {
                let events = &events;
                async move {
                    let event: Event = serde_json::from_value(json!({
                        "metadata": {"generateName": format!("{}-", alarm_name(i))},
                        "eventTime": MicroTime(k8s_openapi::jiff::Timestamp::now()),
                        "reportingController": "cwo.dev/cloudwatch-operator",
                        "reportingInstance": "cwo-bench",
                        "action": "Delete",
                        "reason": "Deleted",
                        "note": "deleted the AWS object",
                        "type": "Normal",
                        "regarding": {
                            "apiVersion": "cwo.dev/v1alpha1", "kind": "Alarm",
                            "namespace": NAMESPACE, "name": alarm_name(i),
                        },
                    }))?;
                    events
                        .create(&PostParams::default(), &event)
                        .await
                        .context("creating an Event")
                        .map(|_| ())
                }
            }),
        )
        .await?,
    );
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    Ok(Floor::new(n, cpus, steps))
}

impl Floor {
    fn new(objects: usize, cpus: usize, steps: Vec<Step>) -> Floor {
        let cpu: f64 = steps
            .iter()
            .map(|s| s.apiserver_cpu_seconds + s.etcd_cpu_seconds)
            .sum();
        Floor {
            objects,
            cpus,
            sequential_seconds: steps.iter().map(|s| s.seconds).sum(),
            cpu_bound_seconds: cpu / cpus.max(1) as f64,
            steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(seconds: f64, apiserver: f64, etcd: f64) -> Step {
        Step {
            step: "s",
            seconds,
            apiserver_cpu_seconds: apiserver,
            etcd_cpu_seconds: etcd,
            machine_busy: 0.5,
        }
    }

    #[test]
    fn the_floor_is_the_steps_in_a_row_and_their_server_cpu_over_the_machines_cpus() {
        let f = Floor::new(
            1_000,
            2,
            vec![
                step(3.5, 4.0, 0.5),
                step(5.0, 9.0, 1.0),
                step(1.0, 1.5, 0.0),
            ],
        );
        assert!((f.sequential_seconds - 9.5).abs() < 1e-9);
        assert!((f.cpu_bound_seconds - 8.0).abs() < 1e-9, "{f:?}");
        let md = f.markdown();
        assert!(md.contains("One after the other: 9.5 s"), "{md}");
        assert!(md.contains("over 2 CPUs: 8.0 s"), "{md}");
    }
}
