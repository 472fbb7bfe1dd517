//! What callers ask of a router actor and what they get back (the HTTP mapping of
//! [`BrokerError`] is the application's).
//!
//! A caller never talks to an actor directly: it uses the typed methods of
//! [`crate::registry::RouterRegistry`], which wrap one [`Op`] in a [`Call`] with a `oneshot`
//! reply channel. A dropped reply channel means "outcome unknown" ([`BrokerError::OutcomeUnknown`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::access::{self, RevokeReport};
use crate::client::RouterClient;
use crate::commands::{ActiveLogin, HotspotUser, NewHotspotUser, NewIpBinding, SystemResource};
use crate::commands::{ActiveSession, Host, IpBinding, UserProfile};
use crate::error::RouterError;

/// `Unavailable` reason of a command dropped unrun because its actor was restarting.
pub const NOT_RUN_RESTARTING: &str = "the router session was restarted before the command ran";

/// One command for a router.
#[derive(Debug, Clone)]
pub enum Op {
    /// `/ip/hotspot/user/add` → the new `.id`.
    CreateUser(NewHotspotUser),
    /// `/ip/hotspot/user/enable =.id=`.
    EnableUser(String),
    /// Enable the user `name` whose comment is `comment` (a purchase's own user): by the `.id`
    /// this session created it with, else after a lookup by name and comment
    /// ([`crate::access`]). `NotFound` when no such user is ours.
    EnableOwnUser { name: String, comment: String },
    /// `/ip/hotspot/user/disable =.id=`.
    DisableUser(String),
    /// `/ip/hotspot/user/remove =.id=`.
    RemoveUser(String),
    /// `/ip/hotspot/user/print ?name=` → the user, if any.
    FindUser(String),
    /// `/ip/hotspot/ip-binding/add` → the new `.id`.
    BindMac(NewIpBinding),
    /// `/ip/hotspot/ip-binding/print ?mac-address=`.
    FindBindings(String),
    /// `/ip/hotspot/host/print ?mac-address=` → the hosts the hotspot sees with that MAC.
    FindHost(String),
    /// `/ip/hotspot/active/login`.
    ActiveLogin(ActiveLogin),
    /// `/ip/hotspot/active/remove` of every session of the user (by name) → how many.
    RemoveActiveSessions(String),
    /// `/ip/hotspot/cookie/remove` of every MAC cookie of the user (by name) → how many.
    RemoveCookies(String),
    /// Disable the user (by name), remove its sessions and cookies, read the state back. A user
    /// of that name whose comment is not `comment` (when given) is someone else's: untouched.
    RevokeAccess {
        user: String,
        comment: Option<String>,
    },
    /// `/ip/hotspot/user/print` of every user with its consumption and limits (no password).
    ListUsers,
    /// `/ip/hotspot/active/print` of every session.
    ListActive,
    /// `/ip/hotspot/active/remove` of one session (`.id`) and the MAC cookie of that device
    /// for that user → whether the session was there.
    KickSession(String),
    /// `/ip/hotspot/user/profile/print`.
    ListProfiles,
    /// `/system/identity/print` → the router's name.
    Identity,
    /// `/system/resource/print` (health probe).
    Resource,
    /// `<menu>/print` of a configuration menu (`/user`, `/ip/service`, …) → every row.
    Print(String),
}

impl Op {
    /// Short name, used as the `command` metric label.
    pub fn name(&self) -> &'static str {
        match self {
            Op::CreateUser(_) => "create_user",
            Op::EnableUser(_) | Op::EnableOwnUser { .. } => "enable_user",
            Op::DisableUser(_) => "disable_user",
            Op::RemoveUser(_) => "remove_user",
            Op::FindUser(_) => "find_user",
            Op::BindMac(_) => "bind_mac",
            Op::FindBindings(_) => "find_bindings",
            Op::FindHost(_) => "find_host",
            Op::ActiveLogin(_) => "login_active",
            Op::RemoveActiveSessions(_) => "remove_active_sessions",
            Op::RemoveCookies(_) => "remove_cookies",
            Op::RevokeAccess { .. } => "revoke_access",
            Op::ListUsers => "list_users",
            Op::ListActive => "list_active",
            Op::KickSession(_) => "kick_session",
            Op::ListProfiles => "list_profiles",
            Op::Identity => "identity",
            Op::Resource => "ping",
            Op::Print(_) => "print",
        }
    }

    /// Commands that finish or undo a purchase (enable after the money is confirmed, disable or
    /// remove when compensating, revoke after a refund or chargeback). They are never refused for a full queue: refusing them would
    /// only leave a paid customer without access, or money without a refund, for longer. They
    /// are bounded anyway by the purchases that already passed `CreateUser`.
    pub fn is_priority(&self) -> bool {
        matches!(
            self,
            Op::EnableUser(_)
                | Op::EnableOwnUser { .. }
                | Op::DisableUser(_)
                | Op::RemoveUser(_)
                | Op::RemoveActiveSessions(_)
                | Op::RemoveCookies(_)
                | Op::RevokeAccess { .. }
                | Op::KickSession(_)
        )
    }

    /// Whether the command changes the router (so a lost reply leaves its outcome unknown).
    pub fn is_mutating(&self) -> bool {
        matches!(
            self,
            Op::CreateUser(_)
                | Op::EnableUser(_)
                | Op::EnableOwnUser { .. }
                | Op::DisableUser(_)
                | Op::RemoveUser(_)
                | Op::BindMac(_)
                | Op::ActiveLogin(_)
                | Op::RemoveActiveSessions(_)
                | Op::RemoveCookies(_)
                | Op::RevokeAccess { .. }
                | Op::KickSession(_)
        )
    }
}

/// The typed result of an [`Op`].
#[derive(Debug, Clone)]
pub enum OpOutput {
    Id(String),
    Unit,
    /// How many items a removal removed.
    Count(usize),
    Revoked(RevokeReport),
    User(Option<HotspotUser>),
    Bindings(Vec<IpBinding>),
    Hosts(Vec<Host>),
    Profiles(Vec<UserProfile>),
    Users(Vec<HotspotUser>),
    Sessions(Vec<ActiveSession>),
    /// Whether the item was there.
    Found(bool),
    Identity(String),
    Resource(SystemResource),
    /// Rows of a print: attribute name → value.
    Rows(Vec<BTreeMap<String, String>>),
}

/// Runs one operation on a session with the session's command deadline.
pub async fn execute(client: &mut RouterClient, op: &Op) -> Result<OpOutput, RouterError> {
    Ok(match op {
        Op::CreateUser(u) => {
            let id = client.hotspot_user_add(u).await?;
            client.created_users().record(&u.name, &id);
            OpOutput::Id(id)
        }
        Op::EnableUser(id) => {
            client.hotspot_user_enable(id).await?;
            OpOutput::Unit
        }
        Op::EnableOwnUser { name, comment } => {
            access::enable_own_user(client, name, comment).await?;
            OpOutput::Unit
        }
        Op::DisableUser(id) => {
            client.hotspot_user_disable(id).await?;
            OpOutput::Unit
        }
        Op::RemoveUser(id) => {
            client.created_users().forget_id(id);
            client.hotspot_user_remove(id).await?;
            OpOutput::Unit
        }
        Op::FindUser(name) => OpOutput::User(client.hotspot_user_find(name).await?),
        Op::BindMac(b) => OpOutput::Id(client.ip_binding_add(b).await?),
        Op::FindBindings(mac) => {
            OpOutput::Bindings(client.ip_binding_print(&[("mac-address", mac)]).await?)
        }
        Op::FindHost(mac) => OpOutput::Hosts(client.host_print(&[("mac-address", mac)]).await?),
        Op::ActiveLogin(l) => {
            client.active_login(l).await?;
            OpOutput::Unit
        }
        Op::RemoveActiveSessions(name) => {
            OpOutput::Count(access::remove_active_sessions(client, name).await?)
        }
        Op::RemoveCookies(name) => OpOutput::Count(access::remove_cookies(client, name).await?),
        Op::RevokeAccess { user, comment } => {
            OpOutput::Revoked(access::revoke_access(client, user, comment.as_deref()).await?)
        }
        Op::ListUsers | Op::ListActive | Op::KickSession(_) => listing_or_kick(client, op).await?,
        Op::ListProfiles => OpOutput::Profiles(client.user_profiles().await?),
        Op::Identity => OpOutput::Identity(client.system_identity().await?),
        Op::Resource => OpOutput::Resource(client.system_resource().await?),
        Op::Print(menu) => OpOutput::Rows(client.print_rows(menu).await?),
    })
}

/// The user and session listings and the kick of one session, on either kind of session.
pub(crate) async fn listing_or_kick<R: access::Runner>(
    r: &mut R,
    op: &Op,
) -> Result<OpOutput, RouterError> {
    Ok(match op {
        Op::ListUsers => OpOutput::Users(access::list_users(r).await?),
        Op::ListActive => OpOutput::Sessions(access::list_active(r).await?),
        Op::KickSession(id) => OpOutput::Found(access::kick_session(r, id).await?),
        other => {
            return Err(RouterError::Protocol(format!(
                "{} is not a listing",
                other.name()
            )))
        }
    })
}

/// Everything a broker call can end in besides success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerError {
    /// The router's queue is full; nothing was sent. Retry later.
    #[error("router busy, retry in {retry_after_secs}s")]
    Busy { retry_after_secs: u64 },
    /// The router is switched off (`activo = false`); nothing was sent.
    #[error("router disabled")]
    Disabled,
    /// No such router.
    #[error("unknown router")]
    UnknownRouter,
    /// Not connected (connecting, backing off, restarting); nothing was sent.
    #[error("router unavailable: {reason}")]
    Unavailable { reason: String },
    /// The router refused our credentials; nothing was sent.
    #[error("router refused the credentials")]
    AuthFailed,
    /// The router answered with a `!trap`: the command definitely failed.
    #[error("router error: {0}")]
    Router(RouterError),
    /// A changing command timed out or its reply was lost: it may or may not have run.
    #[error("outcome unknown")]
    OutcomeUnknown,
}

impl BrokerError {
    /// Whether the command may have run on the router (check before compensating).
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, BrokerError::OutcomeUnknown)
    }

    /// A short machine-readable kind (metric label, logs).
    pub fn kind(&self) -> &'static str {
        match self {
            BrokerError::Busy { .. } => "busy",
            BrokerError::Disabled => "disabled",
            BrokerError::UnknownRouter => "unknown_router",
            BrokerError::Unavailable { .. } => "unavailable",
            BrokerError::AuthFailed => "auth_failed",
            BrokerError::Router(_) => "trap",
            BrokerError::OutcomeUnknown => "unknown",
        }
    }
}

/// Maps a failed command to a broker error: traps are definite; a lost session or a timeout
/// leaves a changing command's outcome unknown.
pub fn classify(op: &Op, e: RouterError) -> BrokerError {
    if e.is_trap() {
        return BrokerError::Router(e);
    }
    if op.is_mutating() && !matches!(e, RouterError::Closed) {
        return BrokerError::OutcomeUnknown;
    }
    BrokerError::Unavailable {
        reason: e.to_string(),
    }
}

/// A reserved place in a router's queue, released when dropped (processed or discarded).
#[derive(Debug)]
pub struct QueueSlot {
    depth: Arc<AtomicUsize>,
}

impl QueueSlot {
    /// Reserves a place if fewer than `capacity` are taken.
    pub fn try_reserve(depth: &Arc<AtomicUsize>, capacity: usize) -> Option<Self> {
        let mut cur = depth.load(Ordering::Acquire);
        loop {
            if cur >= capacity {
                return None;
            }
            match depth.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    return Some(Self {
                        depth: depth.clone(),
                    })
                }
                Err(actual) => cur = actual,
            }
        }
    }
}

impl QueueSlot {
    /// Takes a place even beyond the capacity (for [`Op::is_priority`] commands).
    pub fn force(depth: &Arc<AtomicUsize>) -> Self {
        depth.fetch_add(1, Ordering::AcqRel);
        Self {
            depth: depth.clone(),
        }
    }
}

impl Drop for QueueSlot {
    fn drop(&mut self) {
        self.depth.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The reply channel of a call.
pub type ReplyTx = oneshot::Sender<Result<OpOutput, BrokerError>>;

/// The actor message: one operation and where to answer.
///
/// If the message is dropped before the actor took it (the actor stopped or restarted with it
/// still queued), the caller is told `Unavailable`: the command never reached the router.
#[derive(Debug)]
pub struct Call {
    pub op: Op,
    pub reply: Option<ReplyTx>,
    /// When the caller queued it (command metrics measure from here to the answer).
    pub enqueued_at: Instant,
    /// After this instant the command is refused instead of run (it waited too long in the queue).
    pub queue_deadline: Instant,
    pub slot: Option<QueueSlot>,
}

impl actix::Message for Call {
    type Result = ();
}

impl Drop for Call {
    fn drop(&mut self) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(Err(BrokerError::Unavailable {
                reason: NOT_RUN_RESTARTING.into(),
            }));
        }
    }
}

/// Connection state of a router, as shown by the status endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouterState {
    /// No actor running (never used, or stopped after being idle).
    Idle,
    Connecting,
    Connected,
    BackingOff,
    AuthFailed,
    Disabled,
}

/// A point-in-time view of one router's session.
#[derive(Debug, Clone, Serialize)]
pub struct RouterStatus {
    pub router_id: String,
    pub state: RouterState,
    pub last_error: Option<String>,
    /// ISO time of the last error.
    pub last_error_at: Option<String>,
    /// Latency of the last command, in milliseconds.
    pub last_command_ms: Option<f64>,
    /// Moving average of command latency, in milliseconds.
    pub avg_command_ms: Option<f64>,
    pub queue_depth: usize,
    pub queue_capacity: usize,
    /// The router's uptime as it reported it (`3d4h5m6s`).
    pub router_uptime: Option<String>,
    pub router_version: Option<String>,
    pub connected_since: Option<String>,
    pub commands_total: u64,
    pub reconnects: u64,
    pub reboots_detected: u64,
    /// Milliseconds until the next connection attempt, when backing off.
    pub next_attempt_in_ms: Option<u64>,
    /// Pipelined mode: commands the session may have in flight now (the adaptive window, at
    /// most `ROUTER_PIPELINE_DEPTH`). `None` at depth 1 and with no actor running.
    pub pipeline_window: Option<usize>,
}

impl RouterStatus {
    /// A router with no running actor.
    pub fn idle(router_id: &str, state: RouterState, capacity: usize) -> Self {
        Self {
            router_id: router_id.to_string(),
            state,
            last_error: None,
            last_error_at: None,
            last_command_ms: None,
            avg_command_ms: None,
            queue_depth: 0,
            queue_capacity: capacity,
            router_uptime: None,
            router_version: None,
            connected_since: None,
            commands_total: 0,
            reconnects: 0,
            reboots_detected: 0,
            next_attempt_in_ms: None,
            pipeline_window: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn queue_slots_are_bounded_and_released() {
        let depth = Arc::new(AtomicUsize::new(0));
        let a = QueueSlot::try_reserve(&depth, 2).unwrap();
        let _b = QueueSlot::try_reserve(&depth, 2).unwrap();
        assert!(QueueSlot::try_reserve(&depth, 2).is_none());
        drop(a);
        assert_eq!(depth.load(Ordering::Acquire), 1);
        assert!(QueueSlot::try_reserve(&depth, 2).is_some());
    }

    #[test]
    fn classification() {
        let add = Op::CreateUser(NewHotspotUser::default());
        assert_eq!(
            classify(&add, RouterError::Timeout),
            BrokerError::OutcomeUnknown
        );
        assert_eq!(
            classify(&add, RouterError::Io("eof".into())),
            BrokerError::OutcomeUnknown
        );
        assert!(matches!(
            classify(&add, RouterError::Closed),
            BrokerError::Unavailable { .. }
        ));
        assert!(matches!(
            classify(&Op::ListProfiles, RouterError::Timeout),
            BrokerError::Unavailable { .. }
        ));
        assert!(matches!(
            classify(&add, RouterError::AlreadyExists("x".into())),
            BrokerError::Router(RouterError::AlreadyExists(_))
        ));
    }
}
