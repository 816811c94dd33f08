//! The benchmark behind `cwo-bench` (see `e2e/README.md`, "Benchmark"): scenarios that create,
//! leave idle, edit and delete fleets of objects on a local API server and the in-process AWS
//! emulator, measuring the real operator binary from outside, and reports of what was measured.

pub mod aws;
pub mod chaos;
pub mod fleet;
pub mod floor;
pub mod measure;
pub mod procfs;
pub mod report;
pub mod scenario;
pub mod soak;
