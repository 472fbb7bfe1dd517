//! `RouterRegistry`: router id → its [`RouterActor`], with a typed async API.
//!
//! Actors start on first use (never all at once at start-up) on a dedicated actix system thread,
//! not on the HTTP workers. [`RouterRegistry::router_changed`] re-reads the router's row and
//! restarts the actor when the host, port, credentials or TLS settings changed, or stops it when
//! the router was disabled or deleted.
//!
//! ```ignore
//! let id = state.routers.create_user(&router_id, new_user).await?;   // BrokerError → ApiError via ?
//! state.routers.enable_user(&router_id, &id).await?;
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use actix::{Addr, ArbiterHandle};
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::access::RevokeReport;
use crate::actor::{
    outcome_label, ActorDeps, ConnectGate, NoopObserver, RouterActor, RouterObserver, StatusCell,
};
use crate::client::{AddressPolicy, ConnectOptions, LoginMethod, RouterClient, TlsMode};
use crate::commands::{
    ActiveLogin, ActiveSession, Host, HotspotUser, IpBinding, NewHotspotUser, NewIpBinding,
    SystemResource, UserProfile,
};
use crate::messages::{
    classify, execute, BrokerError, Call, Op, OpOutput, RouterState, RouterStatus,
    NOT_RUN_RESTARTING,
};
use crate::settings::{BrokerMode, RouterSettings};
use crate::source::{RouterRecord, RouterSource};

/// Writes a status timestamp (`RouterStatus::last_error_at`, `connected_since`) in the
/// application's wire format.
pub type TimeFormat = fn(DateTime<Utc>) -> String;

/// The actix system thread the actors run on.
struct BrokerThread {
    system: actix::System,
    arbiter: ArbiterHandle,
}

fn spawn_broker_thread() -> std::io::Result<BrokerThread> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("router-broker".into())
        .spawn(move || {
            let runner = actix::System::new();
            let _ = tx.send((actix::System::current(), actix::Arbiter::current()));
            if let Err(e) = runner.run() {
                tracing::error!(error = %e, "router broker thread failed");
            }
        })?;
    let (system, arbiter) = rx
        .recv()
        .map_err(|_| std::io::Error::other("router broker thread did not start"))?;
    Ok(BrokerThread { system, arbiter })
}

#[derive(Clone)]
struct Entry {
    addr: Addr<RouterActor>,
    status: Arc<StatusCell>,
    generation: u64,
    fingerprint: [u8; 32],
    token: CancellationToken,
}

struct Inner {
    source: Arc<dyn RouterSource>,
    format_time: TimeFormat,
    settings: RouterSettings,
    actors: Arc<DashMap<String, Entry>>,
    gate: Arc<ConnectGate>,
    observer: RwLock<Arc<dyn RouterObserver>>,
    thread: OnceLock<BrokerThread>,
    generation: AtomicU64,
    /// Bumped by every `router_changed`.
    changes: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for e in self.actors.iter() {
            e.token.cancel();
        }
        if let Some(t) = self.thread.get() {
            t.system.stop();
        }
    }
}

/// A router as the fleet view shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FleetRouter {
    pub empresa_id: String,
    pub nombre: String,
    pub host: String,
    pub puerto: i32,
    pub activo: bool,
    #[serde(flatten)]
    pub status: RouterStatus,
}

/// Router id → actor. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct RouterRegistry {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RouterRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterRegistry")
            .field("actors", &self.inner.actors.len())
            .field("mode", &self.inner.settings.mode)
            .finish()
    }
}

impl RouterRegistry {
    /// No actor and no thread is started until a router is first used. `source` reads the
    /// routers and reveals their passwords; `format_time` writes the status timestamps.
    pub fn new(
        source: Arc<dyn RouterSource>,
        settings: RouterSettings,
        format_time: TimeFormat,
    ) -> Self {
        let gate = Arc::new(ConnectGate::new(settings.connect_concurrency));
        Self {
            inner: Arc::new(Inner {
                source,
                format_time,
                settings,
                actors: Arc::new(DashMap::new()),
                gate,
                observer: RwLock::new(Arc::new(NoopObserver)),
                thread: OnceLock::new(),
                generation: AtomicU64::new(1),
                changes: AtomicU64::new(0),
            }),
        }
    }

    /// Routes metrics to `observer` (actors started afterwards use it).
    pub fn set_observer(&self, observer: Arc<dyn RouterObserver>) {
        *self
            .inner
            .observer
            .write()
            .unwrap_or_else(|e| e.into_inner()) = observer;
    }

    fn observer(&self) -> Arc<dyn RouterObserver> {
        self.inner
            .observer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn settings(&self) -> &RouterSettings {
        &self.inner.settings
    }

    /// The fleet-wide connection gate (attempt counters, for tests and benchmarks).
    pub fn connect_gate(&self) -> &ConnectGate {
        &self.inner.gate
    }

    /// Number of running actors.
    pub fn running(&self) -> usize {
        self.inner.actors.len()
    }

    /// When the router's last connection attempts started (at most 32), if its actor runs.
    pub fn attempt_times(&self, router_id: &str) -> Vec<Instant> {
        self.inner
            .actors
            .get(router_id)
            .map(|e| e.status.attempt_times())
            .unwrap_or_default()
    }

    fn arbiter(&self) -> Result<ArbiterHandle, BrokerError> {
        if let Some(t) = self.inner.thread.get() {
            return Ok(t.arbiter.clone());
        }
        let t = spawn_broker_thread().map_err(|e| BrokerError::Unavailable {
            reason: format!("cannot start the router broker thread: {e}"),
        })?;
        // Another caller may have won the race; its thread is used and ours stopped.
        match self.inner.thread.set(t) {
            Ok(()) => {}
            Err(t) => t.system.stop(),
        }
        self.inner
            .thread
            .get()
            .map(|t| t.arbiter.clone())
            .ok_or_else(|| BrokerError::Unavailable {
                reason: "router broker thread missing".into(),
            })
    }

    async fn load(&self, router_id: &str) -> Result<Option<RouterRecord>, BrokerError> {
        self.inner.source.load(router_id).await.map_err(|e| {
            tracing::error!(error = %e, router_id, "router lookup failed");
            storage_unavailable()
        })
    }

    /// Connection options from a router record (decrypting the password).
    pub fn connect_options(&self, row: &RouterRecord) -> Result<ConnectOptions, BrokerError> {
        connect_options(self.inner.source.as_ref(), &self.inner.settings, row)
    }

    /// The running actor, or a new one for an active router.
    async fn actor_for(&self, router_id: &str) -> Result<Entry, BrokerError> {
        if let Some(e) = self.inner.actors.get(router_id) {
            if e.addr.connected() && !e.token.is_cancelled() {
                return Ok(e.clone());
            }
        }
        // A settings change between reading the row and starting the actor would leave an actor
        // with the old settings: re-read when one happened meanwhile.
        let mut tries = 0;
        let row = loop {
            tries += 1;
            let seen = self.inner.changes.load(Ordering::Acquire);
            let row = self
                .load(router_id)
                .await?
                .ok_or(BrokerError::UnknownRouter)?;
            if self.inner.changes.load(Ordering::Acquire) == seen || tries >= 3 {
                break row;
            }
        };
        if !row.activo {
            self.stop(router_id);
            return Err(BrokerError::Disabled);
        }
        let opts = self.connect_options(&row)?;
        let fp = fingerprint(&opts);
        let arbiter = self.arbiter()?;
        let mut slot = self
            .inner
            .actors
            .entry(router_id.to_string())
            .or_insert_with(|| self.start_actor(&arbiter, router_id, opts.clone(), fp));
        if !slot.addr.connected() || slot.token.is_cancelled() {
            slot.token.cancel();
            *slot = self.start_actor(&arbiter, router_id, opts, fp);
        }
        Ok(slot.clone())
    }

    fn start_actor(
        &self,
        arbiter: &ArbiterHandle,
        router_id: &str,
        opts: ConnectOptions,
        fp: [u8; 32],
    ) -> Entry {
        let generation = self.inner.generation.fetch_add(1, Ordering::AcqRel);
        let status = Arc::new(StatusCell::new(
            router_id,
            self.inner.settings.mailbox_capacity.max(1),
            self.inner.format_time,
        ));
        let token = CancellationToken::new();
        let actors = Arc::downgrade(&self.inner.actors);
        let id = router_id.to_string();
        let on_stopped: Box<dyn FnOnce() + Send> = Box::new(move || {
            if let Some(map) = actors.upgrade() {
                map.remove_if(&id, |_, e| e.generation == generation);
            }
        });
        let deps = ActorDeps {
            settings: self.inner.settings.clone(),
            gate: self.inner.gate.clone(),
            observer: self.observer(),
        };
        tracing::debug!(router_id, "starting router actor");
        let addr = RouterActor::start_on(
            arbiter,
            router_id.to_string(),
            opts,
            deps,
            status.clone(),
            token.clone(),
            on_stopped,
        );
        Entry {
            addr,
            status,
            generation,
            fingerprint: fp,
            token,
        }
    }

    /// Stops the router's actor, if any (an in-flight command ends in `OutcomeUnknown`).
    pub fn stop(&self, router_id: &str) {
        if let Some((_, e)) = self.inner.actors.remove(router_id) {
            e.token.cancel();
        }
    }

    /// The router was deleted: stops its actor and drops its metric series.
    fn forget(&self, router_id: &str) {
        match self.inner.actors.remove(router_id) {
            Some((_, e)) => {
                e.status.forget();
                e.token.cancel();
            }
            None => self.observer().forgotten(router_id),
        }
    }

    /// Stops every actor.
    pub fn stop_all(&self) {
        let ids: Vec<String> = self.inner.actors.iter().map(|e| e.key().clone()).collect();
        for id in ids {
            self.stop(&id);
        }
    }

    /// Call after an admin changed a router: re-reads the row; restarts the actor if the host,
    /// port, credentials or TLS settings changed; stops it if the router is disabled or gone.
    pub async fn router_changed(&self, router_id: &str) {
        self.inner.changes.fetch_add(1, Ordering::AcqRel);
        let row = match self.load(router_id).await {
            Ok(r) => r,
            Err(_) => {
                // Cannot tell what changed: restart to be safe.
                self.stop(router_id);
                return;
            }
        };
        let Some(row) = row else {
            self.forget(router_id);
            return;
        };
        if !row.activo {
            self.stop(router_id);
            return;
        }
        let same = match (self.connect_options(&row), self.inner.actors.get(router_id)) {
            (Ok(opts), Some(e)) => e.fingerprint == fingerprint(&opts),
            _ => false,
        };
        if !same {
            tracing::info!(router_id, "router settings changed, restarting its session");
            self.stop(router_id);
        }
    }

    /// Runs one operation on the router (one retry if the actor had just stopped).
    pub async fn call(&self, router_id: &str, op: Op) -> Result<OpOutput, BrokerError> {
        if self.inner.settings.mode == BrokerMode::ConnectPerRequest {
            return self.call_direct(router_id, &op).await;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let entry = self.actor_for(router_id).await?;
            let priority = op.is_priority();
            let reserved = if priority {
                Some(entry.status.force_reserve())
            } else {
                entry.status.try_reserve()
            };
            let Some(slot) = reserved else {
                let observer = self.observer();
                observer.command(router_id, op.name(), "busy", Duration::ZERO);
                return Err(BrokerError::Busy {
                    retry_after_secs: self.retry_after(&entry.status),
                });
            };
            self.observer()
                .queue_depth(router_id, entry.status.queue_depth());
            let (tx, rx) = oneshot::channel();
            let s = &self.inner.settings;
            let call = Call {
                op: op.clone(),
                reply: Some(tx),
                enqueued_at: Instant::now(),
                // A priority command may wait longer in the queue than a fresh request.
                queue_deadline: Instant::now()
                    + if priority {
                        s.queue_timeout * 4
                    } else {
                        s.queue_timeout
                    },
                slot: Some(slot),
            };
            let sent = if priority && entry.addr.connected() {
                // Past the mailbox bound on purpose; bounded by the purchases in flight.
                entry.addr.do_send(call);
                Ok(())
            } else if priority {
                Err(actix::dev::SendError::Closed(call))
            } else {
                entry.addr.try_send(call)
            };
            match sent {
                Ok(()) => {}
                Err(actix::dev::SendError::Full(_)) => {
                    return Err(BrokerError::Busy {
                        retry_after_secs: self.retry_after(&entry.status),
                    })
                }
                Err(actix::dev::SendError::Closed(_)) => {
                    self.inner
                        .actors
                        .remove_if(router_id, |_, e| e.generation == entry.generation);
                    if attempt < 2 {
                        continue;
                    }
                    return Err(BrokerError::Unavailable {
                        reason: "the router actor stopped".into(),
                    });
                }
            }
            // The actor always answers within its own bounds; this is a safety net.
            let bound = s.queue_timeout
                + s.connect_timeout
                + s.command_timeout
                + s.cancel_grace
                + Duration::from_secs(5);
            return match tokio::time::timeout(bound, rx).await {
                // Never sent (its actor was restarting, e.g. after a settings change): a fresh
                // actor can run it.
                Ok(Ok(Err(BrokerError::Unavailable { reason })))
                    if reason == NOT_RUN_RESTARTING && attempt < 2 =>
                {
                    continue
                }
                Ok(Ok(r)) => r,
                Ok(Err(_)) | Err(_) => Err(BrokerError::OutcomeUnknown),
            };
        }
    }

    /// `Some(retry_after_secs)` when the router's queue is full right now, so a caller can
    /// answer `RouterBusy` before doing any work of its own. Reads memory only; `None` when the
    /// router has no running actor (its queue is empty) or in connect-per-request mode.
    pub fn queue_full(&self, router_id: &str) -> Option<u64> {
        if self.inner.settings.mode == BrokerMode::ConnectPerRequest {
            return None;
        }
        let entry = self.inner.actors.get(router_id)?;
        let status = entry.status.clone();
        drop(entry);
        (status.queue_depth() >= self.inner.settings.mailbox_capacity.max(1))
            .then(|| self.retry_after(&status))
    }

    fn retry_after(&self, status: &StatusCell) -> u64 {
        let per = status.avg_latency().unwrap_or(Duration::from_millis(200));
        // Up to `pipeline_depth` commands run at once.
        let lanes = self.inner.settings.pipeline_depth.max(1) as f64;
        let wait = per.as_secs_f64() * status.queue_depth() as f64 / lanes;
        (wait.ceil() as u64).clamp(1, 30)
    }

    /// Connect-per-request: a fresh login for this one command (the original's behaviour).
    async fn call_direct(&self, router_id: &str, op: &Op) -> Result<OpOutput, BrokerError> {
        let row = self
            .load(router_id)
            .await?
            .ok_or(BrokerError::UnknownRouter)?;
        if !row.activo {
            return Err(BrokerError::Disabled);
        }
        let opts = self.connect_options(&row)?;
        let started = Instant::now();
        let r = DirectRouter::new(opts).call(op).await;
        self.observer()
            .command(router_id, op.name(), outcome_label(&r), started.elapsed());
        r
    }

    // ---- typed API ---------------------------------------------------------------------------

    /// Adds a hotspot user; returns its `.id`.
    pub async fn create_user(
        &self,
        router_id: &str,
        user: NewHotspotUser,
    ) -> Result<String, BrokerError> {
        match self.call(router_id, Op::CreateUser(user)).await? {
            OpOutput::Id(id) => Ok(id),
            other => Err(unexpected(other)),
        }
    }

    pub async fn enable_user(&self, router_id: &str, id: &str) -> Result<(), BrokerError> {
        self.unit(router_id, Op::EnableUser(id.to_string())).await
    }

    /// Enables the user `name` if its comment is `comment`: one command when this router's
    /// current session created it, a lookup by name and comment first otherwise (see
    /// `created.rs`). `Router(NotFound)` when no user of that name is ours.
    pub async fn enable_own_user(
        &self,
        router_id: &str,
        name: &str,
        comment: &str,
    ) -> Result<(), BrokerError> {
        let op = Op::EnableOwnUser {
            name: name.to_string(),
            comment: comment.to_string(),
        };
        self.unit(router_id, op).await
    }

    pub async fn disable_user(&self, router_id: &str, id: &str) -> Result<(), BrokerError> {
        self.unit(router_id, Op::DisableUser(id.to_string())).await
    }

    /// Removes a user (`Router(NotFound)` if it is already gone).
    pub async fn remove_user(&self, router_id: &str, id: &str) -> Result<(), BrokerError> {
        self.unit(router_id, Op::RemoveUser(id.to_string())).await
    }

    /// The user with this name, if any.
    pub async fn find_user(
        &self,
        router_id: &str,
        name: &str,
    ) -> Result<Option<HotspotUser>, BrokerError> {
        match self.call(router_id, Op::FindUser(name.to_string())).await? {
            OpOutput::User(u) => Ok(u),
            other => Err(unexpected(other)),
        }
    }

    /// Adds an ip-binding; returns its `.id`.
    pub async fn bind_mac(
        &self,
        router_id: &str,
        binding: NewIpBinding,
    ) -> Result<String, BrokerError> {
        match self.call(router_id, Op::BindMac(binding)).await? {
            OpOutput::Id(id) => Ok(id),
            other => Err(unexpected(other)),
        }
    }

    /// ip-bindings of a MAC address.
    pub async fn find_bindings(
        &self,
        router_id: &str,
        mac: &str,
    ) -> Result<Vec<IpBinding>, BrokerError> {
        match self
            .call(router_id, Op::FindBindings(mac.to_string()))
            .await?
        {
            OpOutput::Bindings(b) => Ok(b),
            other => Err(unexpected(other)),
        }
    }

    /// The hotspot host with this MAC (upper-case, `:`-separated), if the router sees one.
    pub async fn find_host(&self, router_id: &str, mac: &str) -> Result<Option<Host>, BrokerError> {
        match self.call(router_id, Op::FindHost(mac.to_string())).await? {
            OpOutput::Hosts(hosts) => Ok(hosts.into_iter().next()),
            other => Err(unexpected(other)),
        }
    }

    /// Logs a device in (`/ip/hotspot/active/login`).
    pub async fn active_login(
        &self,
        router_id: &str,
        login: ActiveLogin,
    ) -> Result<(), BrokerError> {
        self.unit(router_id, Op::ActiveLogin(login)).await
    }

    /// Logs every device of the hotspot user `name` out; returns how many sessions were removed.
    pub async fn remove_active_sessions(
        &self,
        router_id: &str,
        name: &str,
    ) -> Result<usize, BrokerError> {
        self.count(router_id, Op::RemoveActiveSessions(name.to_string()))
            .await
    }

    /// Removes every MAC cookie of the hotspot user `name`; returns how many were removed.
    pub async fn remove_cookies(&self, router_id: &str, name: &str) -> Result<usize, BrokerError> {
        self.count(router_id, Op::RemoveCookies(name.to_string()))
            .await
    }

    /// Takes the hotspot user `name`'s access away: disables it, removes its active sessions
    /// and its MAC cookies, then reads the router's state back (see
    /// [`RevokeReport::is_complete`]). Idempotent; a user that is gone is no error. With
    /// `comment`, a user of that name with another comment is someone else's and left alone.
    pub async fn revoke_access(
        &self,
        router_id: &str,
        name: &str,
        comment: Option<&str>,
    ) -> Result<RevokeReport, BrokerError> {
        let op = Op::RevokeAccess {
            user: name.to_string(),
            comment: comment.map(str::to_string),
        };
        match self.call(router_id, op).await? {
            OpOutput::Revoked(r) => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    /// Every hotspot user with its consumption (`uptime`, bytes) and limits, no password.
    pub async fn list_users(&self, router_id: &str) -> Result<Vec<HotspotUser>, BrokerError> {
        match self.call(router_id, Op::ListUsers).await? {
            OpOutput::Users(u) => Ok(u),
            other => Err(unexpected(other)),
        }
    }

    /// Every active session of the hotspot.
    pub async fn list_active(&self, router_id: &str) -> Result<Vec<ActiveSession>, BrokerError> {
        match self.call(router_id, Op::ListActive).await? {
            OpOutput::Sessions(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }

    /// Ends one active session (`.id`) and forgets that device's MAC cookie for its user;
    /// `false` when there was no such session.
    pub async fn kick_session(&self, router_id: &str, id: &str) -> Result<bool, BrokerError> {
        match self
            .call(router_id, Op::KickSession(id.to_string()))
            .await?
        {
            OpOutput::Found(f) => Ok(f),
            other => Err(unexpected(other)),
        }
    }

    async fn count(&self, router_id: &str, op: Op) -> Result<usize, BrokerError> {
        match self.call(router_id, op).await? {
            OpOutput::Count(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    /// Every hotspot user profile.
    pub async fn list_profiles(&self, router_id: &str) -> Result<Vec<UserProfile>, BrokerError> {
        match self.call(router_id, Op::ListProfiles).await? {
            OpOutput::Profiles(p) => Ok(p),
            other => Err(unexpected(other)),
        }
    }

    /// The router's identity (name).
    pub async fn identity(&self, router_id: &str) -> Result<String, BrokerError> {
        match self.call(router_id, Op::Identity).await? {
            OpOutput::Identity(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    /// Every row of a configuration menu (`/user`, `/ip/service`, …).
    pub async fn print(
        &self,
        router_id: &str,
        menu: &str,
    ) -> Result<Vec<std::collections::BTreeMap<String, String>>, BrokerError> {
        match self.call(router_id, Op::Print(menu.to_string())).await? {
            OpOutput::Rows(r) => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    /// `/system/resource/print` (uptime, version, board).
    pub async fn resource(&self, router_id: &str) -> Result<SystemResource, BrokerError> {
        match self.call(router_id, Op::Resource).await? {
            OpOutput::Resource(r) => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    async fn unit(&self, router_id: &str, op: Op) -> Result<(), BrokerError> {
        match self.call(router_id, op).await? {
            OpOutput::Unit => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// The router's session state. A router without a running actor is `idle` (or `disabled`).
    pub async fn status(&self, router_id: &str) -> Result<RouterStatus, BrokerError> {
        if let Some(e) = self.inner.actors.get(router_id) {
            return Ok(e.status.snapshot());
        }
        let row = self
            .load(router_id)
            .await?
            .ok_or(BrokerError::UnknownRouter)?;
        Ok(self.idle_status(&row))
    }

    fn idle_status(&self, row: &RouterRecord) -> RouterStatus {
        let state = if row.activo {
            RouterState::Idle
        } else {
            RouterState::Disabled
        };
        RouterStatus::idle(&row.id, state, self.inner.settings.mailbox_capacity)
    }

    /// Every router with its session state (the super_admin fleet view).
    pub async fn fleet_status(&self) -> Result<Vec<FleetRouter>, BrokerError> {
        let rows = self.inner.source.all().await.map_err(|e| {
            tracing::error!(error = %e, "router list failed");
            storage_unavailable()
        })?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let status = match self.inner.actors.get(&row.id) {
                    Some(e) if row.activo => e.status.snapshot(),
                    _ => self.idle_status(&row),
                };
                FleetRouter {
                    empresa_id: row.empresa_id,
                    nombre: row.nombre,
                    host: row.host,
                    puerto: row.puerto,
                    activo: row.activo,
                    status,
                }
            })
            .collect())
    }
}

fn storage_unavailable() -> BrokerError {
    BrokerError::Unavailable {
        reason: "database unavailable".into(),
    }
}

fn unexpected(o: OpOutput) -> BrokerError {
    BrokerError::Unavailable {
        reason: format!("unexpected reply kind {o:?}"),
    }
}

fn fingerprint(o: &ConnectOptions) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        o.host.as_bytes(),
        &o.port.to_be_bytes(),
        o.username.as_bytes(),
        o.password.as_bytes(),
        format!("{:?}", o.tls).as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// Connection options from a router record.
pub fn connect_options(
    passwords: &dyn RouterSource,
    settings: &RouterSettings,
    row: &RouterRecord,
) -> Result<ConnectOptions, BrokerError> {
    let port = u16::try_from(row.puerto).map_err(|_| BrokerError::Unavailable {
        reason: "the router's port is invalid".into(),
    })?;
    let password =
        passwords
            .reveal(&row.password_encrypted)
            .ok_or_else(|| BrokerError::Unavailable {
                reason: "the router's password cannot be decrypted".into(),
            })?;
    let mut o = ConnectOptions::new(row.host.trim(), port, row.usuario.trim(), password.as_str());
    o.login = LoginMethod::Plain;
    o.connect_timeout = settings.connect_timeout;
    o.command_timeout = settings.command_timeout;
    o.max_consecutive_timeouts = 2;
    o.reply_limits = settings.reply_limits;
    o.address_policy = Some(AddressPolicy {
        allow_loopback: settings.allow_loopback,
    });
    if row.use_tls {
        o.tls = match row
            .tls_fingerprint
            .as_deref()
            .filter(|f| !f.trim().is_empty())
        {
            Some(fp) => TlsMode::pinned_hex(fp).map_err(|_| BrokerError::Unavailable {
                reason: "the router's TLS fingerprint is invalid".into(),
            })?,
            None => TlsMode::Verify {
                ca_pem: None,
                server_name: None,
            },
        };
    }
    Ok(o)
}

/// Connect-per-request: every call opens a session, logs in, runs one command and quits, as the
/// original system did. Same typed results as the registry; used by the benchmark and for
/// one-off checks of routers that have no actor (e.g. a disabled router's connection test).
#[derive(Debug, Clone)]
pub struct DirectRouter {
    opts: ConnectOptions,
}

impl DirectRouter {
    pub fn new(opts: ConnectOptions) -> Self {
        Self { opts }
    }

    /// Connects and logs in (the caller runs commands on the returned session).
    pub async fn connect(&self) -> Result<RouterClient, BrokerError> {
        RouterClient::connect(&self.opts)
            .await
            .map_err(|e| match e {
                super::RouterError::AuthFailed(_) => BrokerError::AuthFailed,
                other => BrokerError::Unavailable {
                    reason: other.to_string(),
                },
            })
    }

    /// One command on a fresh session.
    pub async fn call(&self, op: &Op) -> Result<OpOutput, BrokerError> {
        let mut c = self.connect().await?;
        let r = execute(&mut c, op).await.map_err(|e| classify(op, e));
        c.quit().await;
        r
    }
}
