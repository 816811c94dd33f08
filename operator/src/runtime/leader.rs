//! Leader election through a coordination.k8s.io Lease, so that several replicas can run and only
//! one writes to AWS. A replica that loses the lease exits (and is restarted as a standby) rather
//! than risk two writers.

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use std::time::Duration;
use tokio::sync::watch;

/// Where the lease lives and who this replica is.
#[derive(Clone, Debug)]
pub struct LeaderElection {
    pub namespace: String,
    pub lease_name: String,
    pub identity: String,
    /// How long a lease is valid without renewal.
    pub lease_duration: Duration,
}

/// Blocks until this replica holds the lease. The returned receiver turns `false` if the lease
/// is lost; dropping it releases the lease.
pub async fn acquire(
    client: Client,
    election: &LeaderElection,
) -> anyhow::Result<watch::Receiver<bool>> {
    let manager = LeaseManagerBuilder::new(client, &election.lease_name)
        .with_namespace(&election.namespace)
        .with_identity(&election.identity)
        .with_duration(election.lease_duration.as_secs().max(2))
        .with_grace((election.lease_duration.as_secs() / 3).max(1))
        .build()
        .await
        .map_err(|e| anyhow::anyhow!("leader election: {e}"))?;
    let (mut state, _task) = manager.watch().await;
    tracing::info!(lease = %election.lease_name, namespace = %election.namespace, identity = %election.identity, "waiting for leadership");
    while !*state.borrow_and_update() {
        state.changed().await.map_err(|_| {
            anyhow::anyhow!("leader election stopped before this replica became leader")
        })?;
    }
    tracing::info!(identity = %election.identity, "became leader");
    Ok(state)
}
