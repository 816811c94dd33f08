//! Test bed for cloudwatch-operator: a real Kubernetes control plane (etcd, kube-apiserver,
//! kube-controller-manager built from upstream Go modules) on loopback ports, or an existing
//! cluster named by `KUBECONFIG`; and the end-to-end checks run against it.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let bed = cwo_e2e::Bed::shared()?; // started once per test process, stopped at exit
//! let out = bed.kubectl(["get", "namespaces"])?.ok()?;
//! assert!(out.stdout.contains("default"));
//! # Ok(())
//! # }
//! ```
//!
//! See `e2e/README.md` for how the binaries are built and cached.

pub mod bed;
pub mod chaos;
pub mod checks;
pub mod control_plane;
pub mod health;
pub mod kubeconfig;
pub mod kubectl;
pub mod logs_scenario;
pub mod manifests;
pub mod operator;
pub mod pki;
pub mod process;
pub mod prometheus;
pub mod tools;

pub use bed::{Bed, report};
pub use control_plane::{Component, ControlPlane, ControlPlaneConfig, Stop};
pub use kubectl::KubectlOutput;
pub use tools::{Tools, repo_root};
