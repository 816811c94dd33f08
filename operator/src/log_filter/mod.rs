//! What subscription filters (`LogSubscription`) and metric filters (`MetricFilter`) share,
//! because both are CloudWatch Logs filters: identified by log group and filter name, listed per
//! log group (one batched Describe per log group), written whole by one Put, moved to another log
//! group by delete-then-create, and without tags, so that each object records the filter it owns
//! in its status ([`ownership`]) and records it before it creates the filter. One reconcile path
//! ([`apply`]) serves both, each kind filling in what is its own through [`LogFilterKind`]: its
//! Put fields, its calls, how a failed Put is judged, and what else its status reports. `import`
//! reads and names both alike ([`import`]).

pub mod apply;
pub mod desired;
pub mod import;
pub mod ownership;
pub mod plan;
pub mod status;

pub use apply::{
    LogFilterKind, Own, PutFailure, Sent, apply, cleanup, deciding, find, pending_on, prefetch,
    preview,
};
pub use desired::{Desired, FilterKey};
pub use ownership::{FilterOwnership, OwnershipOrigin};
pub use plan::{Change, FilterPlan};
pub use status::{FilterStatus, Seen};
