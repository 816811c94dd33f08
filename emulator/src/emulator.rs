//! Starting, using and stopping an emulator, in-process or from the binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::call::{Call, ServiceLimits};
use crate::calls::{CallCounts, CallRecorder, is_read_operation};
use crate::config::EmulatorConfig;
use crate::connection::{AbortableListener, ConnectionHandle};
use crate::error::AwsResult;
use crate::faults::{FaultDecision, FaultSettings};
use crate::journal::{Journal, JournalEntry};
use crate::quotas::{QuotaSettings, RateLimiter};
use crate::signing_scope::{self, Scope};
use crate::state_file::{self, StateFileError};
use crate::store::Store;
use crate::sts::iam::{Caller, Iam, Role, StsSettings};
use crate::timestamp::Timestamp;
use crate::wire::{Encoded, Service, Target};
use crate::{admin, aws_endpoint, cloudwatch, firehose, logs, sts, xray};

/// How often a changed state is written to the state file.
const AUTOSAVE_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    StateFile(#[from] StateFileError),
    #[error("invalid fault settings: {0}")]
    InvalidFaults(String),
    #[error("invalid role: {0}")]
    InvalidRole(String),
}

/// The state and settings every request handler shares.
pub(crate) struct Shared {
    pub store: Store,
    pub calls: CallRecorder,
    pub journal: Journal,
    pub faults: RwLock<FaultSettings>,
    pub quotas: RwLock<QuotaSettings>,
    pub limiter: RateLimiter,
    pub limits: ServiceLimits,
    /// IAM roles and the sessions STS issued (global, like IAM and STS themselves).
    pub iam: Mutex<Iam>,
    pub state_file: Option<PathBuf>,
    /// Turns true when the emulator stops; requests held by fault injection let go then.
    pub stopping: watch::Receiver<bool>,
}

impl Shared {
    pub fn faults(&self) -> FaultSettings {
        self.faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Draws this request's faults without copying the settings.
    pub fn decide_faults(&self, service: Service, operation: &str) -> FaultDecision {
        self.faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .decide(service, operation)
    }

    pub fn set_faults(&self, faults: FaultSettings) -> Result<(), EmulatorError> {
        faults.validate().map_err(EmulatorError::InvalidFaults)?;
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = faults;
        Ok(())
    }

    pub fn quotas(&self) -> QuotaSettings {
        self.quotas
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_quotas(&self, quotas: QuotaSettings) {
        *self.quotas.write().unwrap_or_else(|e| e.into_inner()) = quotas;
        self.limiter.reset();
    }

    /// The TPS limit of an operation, if one is in force.
    pub fn quota_of(&self, service: Service, operation: &str) -> Option<f64> {
        self.quotas
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .limit(service, operation)
    }

    pub fn reset_state(&self) {
        self.store.reset();
        self.iam().reset();
        self.limiter.reset();
    }

    pub fn iam(&self) -> std::sync::MutexGuard<'_, Iam> {
        self.iam.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Who sent a request, and the account and region whose state it addresses; an answer in
    /// `service`'s words when its credentials are refused.
    pub fn identify(
        &self,
        headers: &http::HeaderMap,
        service: Service,
    ) -> AwsResult<(Scope, Caller)> {
        let signature = signing_scope::signature_of(headers);
        let caller = self
            .iam()
            .identify(
                signature.access_key,
                signing_scope::session_token_of(headers),
                Timestamp::now().0,
            )
            .map_err(|refused| {
                sts::refusal(
                    matches!(service, Service::CloudWatch | Service::Sts),
                    refused,
                )
            })?;
        let region = signature.region.unwrap_or(signing_scope::DEFAULT_REGION);
        Ok((Scope::new(caller.account.clone(), region), caller))
    }

    /// Runs one STS operation for `caller`.
    pub fn execute_sts(
        &self,
        caller: &Caller,
        operation: &str,
        fields: &std::collections::BTreeMap<String, String>,
    ) -> AwsResult<Encoded> {
        let result = sts::dispatch(
            &mut self.iam(),
            caller,
            operation,
            fields,
            Timestamp::now().0,
        )?;
        Ok(Encoded::Query {
            operation: operation.to_string(),
            result,
        })
    }

    /// Creates or replaces a role (admin API).
    pub fn put_role(&self, role: Role) -> Result<(), String> {
        self.iam().put_role(role)?;
        self.store.mark_changed();
        Ok(())
    }

    pub fn sts_settings(&self) -> StsSettings {
        self.iam().settings.clone()
    }

    pub fn set_sts_settings(&self, settings: StsSettings) {
        self.iam().settings = settings;
    }

    /// Runs one operation against the region's state, under that region's lock.
    pub fn execute(&self, scope: &Scope, target: &Target, body: &[u8]) -> AwsResult<Encoded> {
        let region = self.store.region(scope);
        let mut state = region.lock().unwrap_or_else(|e| e.into_inner());
        let mut call = Call {
            scope,
            now: Timestamp::now(),
            state: &mut state,
            limits: &self.limits,
        };
        let operation = target.operation.as_str();
        let result = match target.service {
            Service::CloudWatch => {
                cloudwatch::dispatch(&mut call, operation, target.protocol, body)
            }
            Service::Logs => logs::dispatch(&mut call, operation, target.protocol, body),
            Service::Firehose => firehose::dispatch(&mut call, operation, target.protocol, body),
            Service::XRay => xray::dispatch(&mut call, operation, target.protocol, body),
            Service::Sts => Err(crate::error::AwsError::unknown_operation(operation)),
        };
        if result.is_ok() && !is_read_operation(operation) {
            self.store.mark_changed();
        }
        result
    }

    pub fn save_state(&self) -> Result<(), StateFileError> {
        match &self.state_file {
            Some(path) => {
                let mut saved = self.store.export();
                saved.roles = self.iam().roles();
                state_file::save(path, &saved)
            }
            None => Ok(()),
        }
    }
}

/// Entry point: `Emulator::start(EmulatorConfig::default()).await?`.
pub struct Emulator;

impl Emulator {
    /// Binds the port, loads the state file if there is one, and serves until
    /// [`RunningEmulator::shutdown`] or drop.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
        config
            .faults
            .validate()
            .map_err(EmulatorError::InvalidFaults)?;
        let (stop, mut stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            store: Store::default(),
            calls: CallRecorder::default(),
            journal: Journal::new(config.journal_capacity),
            faults: RwLock::new(config.faults.clone()),
            quotas: RwLock::new(config.quota_settings()),
            limiter: RateLimiter::default(),
            limits: ServiceLimits {
                subscription_filter_limit: config.subscription_filter_limit,
            },
            iam: Mutex::new(Iam::with_settings(StsSettings {
                session_seconds: config.sts_session_seconds,
            })),
            state_file: config.state_file.clone(),
            stopping: stopped.clone(),
        });
        if let Some(path) = &config.state_file
            && let Some(mut saved) = state_file::load(path)?
        {
            shared.iam().set_roles(std::mem::take(&mut saved.roles));
            shared.store.import(saved);
        }
        let address = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| EmulatorError::Bind { address, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { address, source })?;

        let app = admin::routes()
            .fallback(aws_endpoint::handle)
            .with_state(shared.clone())
            .into_make_service_with_connect_info::<ConnectionHandle>();
        let listener = AbortableListener(listener);
        let mut server_stopped = stopped.clone();
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = server_stopped.wait_for(|stop| *stop).await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(%error, "emulator server stopped");
            }
        });
        let autosave = shared.state_file.is_some().then(|| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut saved = shared.store.changes();
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(AUTOSAVE_INTERVAL) => {}
                        _ = stopped.wait_for(|stop| *stop) => return,
                    }
                    let changes = shared.store.changes();
                    if changes != saved {
                        let shared = shared.clone();
                        let result = tokio::task::spawn_blocking(move || shared.save_state()).await;
                        match result {
                            Ok(Ok(())) => saved = changes,
                            Ok(Err(error)) => tracing::warn!(%error, "state not saved"),
                            Err(error) => tracing::warn!(%error, "state save task failed"),
                        }
                    }
                }
            })
        });
        tracing::info!(endpoint = %format!("http://{local_addr}"), "emulator listening");
        Ok(RunningEmulator {
            local_addr,
            shared,
            stop,
            server: Some(server),
            autosave,
        })
    }
}

/// A running emulator. Dropping it stops the server (and saves the state file, if any).
pub struct RunningEmulator {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    autosave: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    /// The base URL to give SDK clients as their endpoint, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Call counts per service and operation (the same data as `GET /_emulator/calls`).
    pub fn calls(&self) -> CallCounts {
        self.shared.calls.snapshot()
    }

    /// The calls made in one account (as `GET /_emulator/calls?account=...`); calls refused for
    /// their credentials count in no account.
    pub fn calls_in(&self, account: &str) -> CallCounts {
        self.shared.calls.snapshot_of(account)
    }

    /// The journaled calls that change state whose request mentions `needle` (all of them for
    /// an empty one), oldest first; empty unless started with a journal capacity.
    pub fn journal(&self, needle: &str) -> Vec<JournalEntry> {
        self.shared.journal.matching(needle)
    }

    /// Creates or replaces an IAM role and its trust (as `PUT /_emulator/iam/roles`).
    pub fn put_role(&self, role: Role) -> Result<(), EmulatorError> {
        self.shared
            .put_role(role)
            .map_err(EmulatorError::InvalidRole)
    }

    /// Every IAM role.
    pub fn roles(&self) -> Vec<Role> {
        self.shared.iam().roles()
    }

    pub fn sts_settings(&self) -> StsSettings {
        self.shared.sts_settings()
    }

    /// Replaces the STS settings (as `PUT /_emulator/sts`).
    pub fn set_sts_settings(&self, settings: StsSettings) {
        self.shared.set_sts_settings(settings);
    }

    pub fn reset_calls(&self) {
        self.shared.calls.reset();
    }

    /// Forgets every resource of every account and region (as `POST /_emulator/reset`).
    pub fn reset_state(&self) {
        self.shared.reset_state();
    }

    pub fn faults(&self) -> FaultSettings {
        self.shared.faults()
    }

    /// Replaces the fault settings; rates must be within 0..=1.
    pub fn set_faults(&self, faults: FaultSettings) -> Result<(), EmulatorError> {
        self.shared.set_faults(faults)
    }

    pub fn quotas(&self) -> QuotaSettings {
        self.shared.quotas()
    }

    /// Replaces the quota settings (and refills every rate limit bucket).
    pub fn set_quotas(&self, quotas: QuotaSettings) {
        self.shared.set_quotas(quotas);
    }

    /// Writes the state file now (no-op without one).
    pub fn save_state(&self) -> Result<(), EmulatorError> {
        Ok(self.shared.save_state()?)
    }

    /// Stops accepting requests, lets in-flight ones finish and saves the state file.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(autosave) = self.autosave.take() {
            let _ = autosave.await;
        }
        self.save_state()
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if self.server.is_none() {
            return;
        }
        let _ = self.stop.send(true);
        if let Err(error) = self.shared.save_state() {
            tracing::warn!(%error, "state not saved at drop");
        }
    }
}
