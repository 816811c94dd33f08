//! Randomized crash tests (see `cwo_e2e::chaos`): a mixed fleet of every kind created, edited and
//! deleted while the operator is SIGKILLed at random points; afterwards every object Ready or
//! gone, AWS holding exactly what the objects say, no orphan, no duplicate, nothing stuck on its
//! finalizer. Short here (a few minutes); `cwo-bench --chaos` runs hundreds of iterations.
//!
//! Each run prints its seed. `CWO_CHAOS_SEED=<seed>` replays the same operations and kill delays,
//! `CWO_CHAOS_ITERATIONS=<n>` runs longer:
//!
//! ```sh
//! CWO_CHAOS_SEED=42 env -u KUBECONFIG cargo test -p cwo-e2e --test e2e -- crash_chaos::random_kills_during
//! ```

use std::time::Duration;

use anyhow::{Context, Result};
use cwo_e2e::Bed;
use cwo_e2e::chaos::fleet::Sizes;
use cwo_e2e::chaos::{self, Settings, Target};
use cwo_e2e::checks::TestNamespace;
use cwo_e2e::operator::{EmulatorHandle, OperatorOptions, install_crds_once, sdk_config};
use cwo_emulator::FaultSettings;

/// The fleet: 36 objects of every kind, the log groups at their subscription filter limit.
const SIZES: Sizes = Sizes {
    alarms: 12,
    composite_alarms: 3,
    metric_streams: 3,
    log_groups: 5,
    sampling_rules: 3,
    metric_filters: 4,
    log_destinations: 2,
};

fn env_number(name: &str) -> Result<Option<u64>> {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .with_context(|| format!("{name}={v:?} is not a number"))
        })
        .transpose()
}

/// Runs the chaos as the test `test` (named in the replay hint).
async fn run_chaos(
    name: &str,
    test: &str,
    iterations: usize,
    faults: Option<FaultSettings>,
) -> Result<()> {
    let seed = env_number("CWO_CHAOS_SEED")?.unwrap_or_else(chaos::fresh_seed);
    let iterations = env_number("CWO_CHAOS_ITERATIONS")?.map_or(iterations, |n| n as usize);
    cwo_e2e::report(&format!(
        "  chaos {name}: seed {seed}, {iterations} iterations (replay: CWO_CHAOS_SEED={seed} \
         env -u KUBECONFIG cargo test -p cwo-e2e --test e2e -- crash_chaos::{test})"
    ));
    let bed = Bed::shared()?;
    install_crds_once(bed)?;
    let namespace = TestNamespace::create(bed, &format!("chaos-{}", name.replace('_', "-")))?;
    let emulator = EmulatorHandle::start(chaos::emulator_config())?;
    let sdk = sdk_config(&emulator.endpoint());
    chaos::create_prerequisites(&sdk, &SIZES).await?;
    if let Some(faults) = &faults {
        emulator.inner().set_faults(faults.clone())?;
    }
    let logs = tempfile::Builder::new().prefix("cwo-chaos-").tempdir()?;
    let settings = Settings {
        seed,
        iterations,
        sizes: SIZES,
        check_every: 6,
        max_kill_delay: Duration::from_millis(1500),
        settle_timeout: Duration::from_secs(90),
        operator: OperatorOptions::default(),
    };
    let target = Target {
        bed,
        namespace: namespace.name(),
        emulator: &emulator,
        sdk: &sdk,
        logs: logs.path(),
    };
    let report = chaos::run(&target, &settings).await?;
    cwo_e2e::report(&format!("  chaos {name}: {}", report.summary()));
    if !report.passed() {
        let kept = logs.keep();
        panic!(
            "chaos {name} {}\noperator logs and findings.txt in {}\nreplay: \
             CWO_CHAOS_SEED={seed} env -u KUBECONFIG cargo test -p cwo-e2e --test e2e -- \
             crash_chaos::{test}",
            report.failure(),
            kept.display()
        );
    }
    assert!(
        report.kills >= iterations,
        "every iteration killed the operator"
    );
    assert!(
        report.creates > 0 && report.edits > 0 && report.deletes > 0,
        "{}",
        report.summary()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kills_during_create_edit_and_delete_leave_no_orphan_duplicate_or_stuck_object()
-> Result<()> {
    run_chaos("kills", "random_kills_during", 30, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kills_with_throttling_and_5xx_answers_leave_no_orphan_duplicate_or_stuck_object()
-> Result<()> {
    // About one call in four fails, on every operation the operator makes.
    let faults = FaultSettings {
        throttle_rate: 0.15,
        internal_error_rate: 0.05,
        unavailable_rate: 0.05,
        ..Default::default()
    };
    run_chaos(
        "kills_and_faults",
        "random_kills_with_throttling",
        20,
        Some(faults),
    )
    .await
}
