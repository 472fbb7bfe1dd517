//! A pipelined RouterOS session: several tagged commands in flight on one connection.
//!
//! Used by the router actor when `ROUTER_PIPELINE_DEPTH` > 1 (the default, 16; 1 keeps the
//! strictly sequential [`RouterClient`]). A [`Pipeline`] is made from a logged-in client
//! ([`Pipeline::from_client`]) and split in two:
//!
//! * the writer half, behind an async mutex: one whole sentence at a time;
//! * a reader task that demultiplexes every reply by its `.tag` into the slot registered for
//!   that tag *before* the command was written (`!re` rows collected, `!empty` noted, `!trap`s
//!   classified as the sequential client does, `!done` completes the slot).
//!
//! A reply with a tag we never sent, an untagged reply, `!fatal`, a protocol error or the end of
//! the stream (a cut mid-reply included) ends the session: it is marked broken and every
//! command in flight gets the error (so a changing command's outcome is unknown), never another
//! command's reply. On a deadline the command's slot is abandoned (its late replies are read and
//! dropped) and `/cancel =tag=` is sent; after `max_consecutive_timeouts` timeouts in a row
//! without any answer in between the session is marked broken. Dropping the last handle stops
//! the reader and closes the connection.
//!
//! Per-user ordering is not this module's business: the actor never puts two commands on the
//! same hotspot user in flight at once (see `OpKey` in `routeros::actor`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::oneshot;
use tokio::time::{timeout, timeout_at, Instant};
use tokio_util::codec::Framed;

use crate::access;
use crate::client::{traps_to_error, Reply, ReplyLimits, ReplySize, RouterClient, Transport};
use crate::codec::{ApiCodec, Sentence};
use crate::commands::{self as cmds, HotspotUser, SystemResource};
use crate::created::CreatedUsers;
use crate::error::RouterError;
use crate::messages::{Op, OpOutput};
use crate::proto::{Command, Response};

type Writer = SplitSink<Framed<Box<dyn Transport>, ApiCodec>, Sentence>;
type Reader = SplitStream<Framed<Box<dyn Transport>, ApiCodec>>;
type ReplyResult = Result<Reply, RouterError>;

/// Grace for writing `/cancel` after a deadline expired.
const CANCEL_WRITE_GRACE: Duration = Duration::from_millis(200);

/// Where the replies of one tag go.
#[derive(Default)]
struct Slot {
    /// `None` once the caller gave up (timed out and cancelled): late replies are dropped.
    tx: Option<oneshot::Sender<ReplyResult>>,
    reply: Reply,
    size: ReplySize,
    traps: Vec<(Option<u32>, String)>,
}

#[derive(Default)]
struct Slots {
    /// Set (under this lock) when the session ended; nothing is registered afterwards.
    broken: Option<RouterError>,
    by_tag: HashMap<String, Slot>,
}

struct Shared {
    slots: Mutex<Slots>,
    reply_limits: ReplyLimits,
    /// Mirror of `slots.broken.is_some()`, readable without the lock.
    broken: AtomicBool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the session: every command in flight gets `e` (the first error wins).
    fn fail_all(&self, e: RouterError) {
        let slots = {
            let mut g = self.lock();
            if g.broken.is_none() {
                g.broken = Some(e.clone());
            }
            self.broken.store(true, Ordering::Release);
            std::mem::take(&mut g.by_tag)
        };
        for (_, slot) in slots {
            if let Some(tx) = slot.tx {
                let _ = tx.send(Err(e.clone()));
            }
        }
    }
}

struct Inner {
    shared: Arc<Shared>,
    writer: tokio::sync::Mutex<Writer>,
    next_tag: AtomicU64,
    consecutive_timeouts: AtomicU32,
    max_consecutive_timeouts: u32,
    command_timeout: Duration,
    reader: tokio::task::JoinHandle<()>,
    /// Users this session created and has not enabled yet ([`crate::created`]).
    created: Mutex<CreatedUsers>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// One pipelined session; cheap to clone (every clone is the same session).
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("in_flight", &self.in_flight())
            .field("broken", &self.is_broken())
            .finish()
    }
}

impl Pipeline {
    /// Takes over a logged-in client's connection and starts its reader task (on the current
    /// tokio runtime).
    pub fn from_client(client: RouterClient) -> Self {
        let parts = client.into_parts();
        let (writer, reader): (Writer, Reader) = parts.framed.split();
        let mut slots = Slots::default();
        for tag in parts.abandoned {
            slots.by_tag.insert(tag, Slot::default());
        }
        if parts.broken {
            slots.broken = Some(RouterError::Closed);
        }
        let shared = Arc::new(Shared {
            reply_limits: parts.reply_limits,
            broken: AtomicBool::new(parts.broken),
            slots: Mutex::new(slots),
        });
        let reader = tokio::spawn(read_loop(reader, shared.clone()));
        Self {
            inner: Arc::new(Inner {
                shared,
                writer: tokio::sync::Mutex::new(writer),
                next_tag: AtomicU64::new(parts.next_tag),
                consecutive_timeouts: AtomicU32::new(0),
                max_consecutive_timeouts: parts.max_consecutive_timeouts.max(1),
                command_timeout: parts.command_timeout,
                reader,
                created: Mutex::default(),
            }),
        }
    }

    /// The users this session created and has not enabled yet.
    pub(crate) fn created_users(&self) -> std::sync::MutexGuard<'_, CreatedUsers> {
        self.inner.created.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the session ended (it must be dropped and re-established).
    pub fn is_broken(&self) -> bool {
        self.inner.shared.broken.load(Ordering::Acquire)
    }

    /// Why the session ended, if it did.
    pub fn broken_reason(&self) -> Option<RouterError> {
        self.inner.shared.lock().broken.clone()
    }

    /// Tags whose replies are still expected (commands in flight and cancelled ones).
    pub fn in_flight(&self) -> usize {
        self.inner.shared.lock().by_tag.len()
    }

    /// The deadline used by [`execute`].
    pub fn command_timeout(&self) -> Duration {
        self.inner.command_timeout
    }

    /// Whether two handles are the same session.
    pub fn same(&self, other: &Pipeline) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Ends the session (e.g. the router did not answer a probe after a `/cancel`).
    pub fn close(&self, why: RouterError) {
        self.inner.shared.fail_all(why);
    }

    fn alloc_tag(&self) -> String {
        self.inner
            .next_tag
            .fetch_add(1, Ordering::AcqRel)
            .to_string()
    }

    /// Registers a slot for `tag`, unless the session already ended.
    fn register(&self, tag: &str, tx: Option<oneshot::Sender<ReplyResult>>) -> bool {
        let mut g = self.inner.shared.lock();
        if g.broken.is_some() {
            return false;
        }
        g.by_tag.insert(
            tag.to_string(),
            Slot {
                tx,
                ..Slot::default()
            },
        );
        true
    }

    /// Runs one command with a deadline, alongside whatever else is in flight. Traps become
    /// classified errors (the session is kept).
    pub async fn run(&self, cmd: &Command, deadline: Duration) -> ReplyResult {
        if self.is_broken() {
            return Err(RouterError::Closed);
        }
        if let Some(e) = cmd.error() {
            return Err(RouterError::InvalidValue(e.to_string()));
        }
        let until = Instant::now() + deadline;
        let tag = self.alloc_tag();
        let sentence = cmd
            .to_sentence(Some(&tag))
            .map_err(RouterError::InvalidValue)?;
        let (tx, rx) = oneshot::channel();
        if !self.register(&tag, Some(tx)) {
            return Err(RouterError::Closed);
        }
        tracing::trace!(command = cmd.path(), tag = %tag, "routeros send (pipelined)");
        let sent = timeout_at(until, async {
            let mut w = self.inner.writer.lock().await;
            w.send(sentence).await
        })
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let e = RouterError::from(e);
                self.inner.shared.fail_all(e.clone());
                return Err(e);
            }
            Err(_) => {
                // Possibly half written: the session cannot be trusted any more.
                self.inner.shared.fail_all(RouterError::Timeout);
                return Err(RouterError::Timeout);
            }
        }
        match timeout_at(until, rx).await {
            Ok(Ok(r)) => {
                if r.is_ok() || r.as_ref().is_err_and(RouterError::is_trap) {
                    self.inner.consecutive_timeouts.store(0, Ordering::Release);
                }
                r
            }
            // The reader went away without answering (only when the session is torn down).
            Ok(Err(_)) => Err(self
                .broken_reason()
                .unwrap_or_else(|| RouterError::Io("session closed".into()))),
            Err(_) => {
                self.on_timeout(&tag).await;
                Err(RouterError::Timeout)
            }
        }
    }

    async fn on_timeout(&self, tag: &str) {
        {
            let mut g = self.inner.shared.lock();
            match g.by_tag.get_mut(tag) {
                // Keep the slot so its late replies are recognised; nobody listens any more.
                Some(slot) => slot.tx = None,
                // Answered (or the session ended) in the meantime: nothing to cancel.
                None => return,
            }
        }
        let n = self
            .inner
            .consecutive_timeouts
            .fetch_add(1, Ordering::AcqRel)
            + 1;
        if n >= self.inner.max_consecutive_timeouts {
            self.inner.shared.fail_all(RouterError::Timeout);
            return;
        }
        let cancel_tag = self.alloc_tag();
        let Ok(sentence) = Command::new("/cancel")
            .attr("tag", tag)
            .to_sentence(Some(&cancel_tag))
        else {
            return;
        };
        if !self.register(&cancel_tag, None) {
            return;
        }
        let sent = timeout(CANCEL_WRITE_GRACE, async {
            let mut w = self.inner.writer.lock().await;
            w.send(sentence).await
        })
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            self.inner
                .shared
                .fail_all(RouterError::Io("could not send /cancel".into()));
        }
    }

    pub(crate) async fn call(&self, cmd: Command) -> ReplyResult {
        self.run(&cmd, self.inner.command_timeout).await
    }

    /// `/system/resource/print`.
    pub async fn system_resource(&self) -> Result<SystemResource, RouterError> {
        let r = self.call(cmds::system_resource()).await?;
        r.rows
            .first()
            .map(SystemResource::from_attrs)
            .ok_or_else(|| RouterError::Protocol("system resource returned no row".into()))
    }

    async fn find_user(&self, name: &str) -> Result<Option<HotspotUser>, RouterError> {
        let r = self
            .call(cmds::print(
                cmds::USER,
                &[("name", name)],
                Some(cmds::USER_PROPS),
            ))
            .await?;
        Ok(r.rows.first().map(HotspotUser::from_attrs))
    }
}

/// Runs one operation on a pipelined session with its command deadline: the same commands and
/// parsing as [`super::messages::execute`] on a sequential client.
pub async fn execute(p: &Pipeline, op: &Op) -> Result<OpOutput, RouterError> {
    use super::commands::{Host, IpBinding, UserProfile};
    Ok(match op {
        Op::CreateUser(u) => {
            let r = p.call(cmds::user_add(u)).await?;
            let id = match r.ret() {
                Some(id) => id,
                // Some versions omit =ret=; look the id up by name.
                None => p
                    .find_user(&u.name)
                    .await?
                    .map(|x| x.id)
                    .ok_or_else(|| RouterError::Protocol("add returned no id".into()))?,
            };
            p.created_users().record(&u.name, &id);
            OpOutput::Id(id)
        }
        Op::EnableUser(id) => {
            p.call(cmds::by_id(cmds::USER, "enable", id)).await?;
            OpOutput::Unit
        }
        Op::EnableOwnUser { name, comment } => {
            let mut runner = p;
            access::enable_own_user(&mut runner, name, comment).await?;
            OpOutput::Unit
        }
        Op::DisableUser(id) => {
            p.call(cmds::by_id(cmds::USER, "disable", id)).await?;
            OpOutput::Unit
        }
        Op::RemoveUser(id) => {
            p.created_users().forget_id(id);
            p.call(cmds::by_id(cmds::USER, "remove", id)).await?;
            OpOutput::Unit
        }
        Op::FindUser(name) => OpOutput::User(p.find_user(name).await?),
        Op::BindMac(b) => {
            let r = p.call(cmds::ip_binding_add(b)).await?;
            OpOutput::Id(cmds::ret_id(&r)?)
        }
        Op::FindBindings(mac) => {
            let r = p
                .call(cmds::print(cmds::IP_BINDING, &[("mac-address", mac)], None))
                .await?;
            OpOutput::Bindings(r.rows.iter().map(IpBinding::from_attrs).collect())
        }
        Op::FindHost(mac) => {
            let r = p
                .call(cmds::print(cmds::HOST, &[("mac-address", mac)], None))
                .await?;
            OpOutput::Hosts(r.rows.iter().map(Host::from_attrs).collect())
        }
        Op::ActiveLogin(l) => {
            p.call(cmds::active_login(l)).await?;
            OpOutput::Unit
        }
        Op::RemoveActiveSessions(name) => {
            let mut runner = p;
            OpOutput::Count(access::remove_active_sessions(&mut runner, name).await?)
        }
        Op::RemoveCookies(name) => {
            let mut runner = p;
            OpOutput::Count(access::remove_cookies(&mut runner, name).await?)
        }
        Op::RevokeAccess { user, comment } => {
            let mut runner = p;
            OpOutput::Revoked(access::revoke_access(&mut runner, user, comment.as_deref()).await?)
        }
        Op::ListUsers | Op::ListActive | Op::KickSession(_) => {
            let mut runner = p;
            crate::messages::listing_or_kick(&mut runner, op).await?
        }
        Op::ListProfiles => {
            let r = p.call(cmds::print(cmds::PROFILE, &[], None)).await?;
            OpOutput::Profiles(r.rows.iter().map(UserProfile::from_attrs).collect())
        }
        Op::Identity => {
            let r = p.call(cmds::system_identity()).await?;
            OpOutput::Identity(
                r.rows
                    .first()
                    .and_then(|a| a.get_str("name"))
                    .ok_or_else(|| {
                        RouterError::Protocol("system identity returned no name".into())
                    })?,
            )
        }
        Op::Resource => OpOutput::Resource(p.system_resource().await?),
        Op::Print(menu) => {
            let r = p.call(cmds::print(menu, &[], None)).await?;
            OpOutput::Rows(r.rows.iter().map(cmds::row_map).collect())
        }
    })
}

/// Reads replies until the session ends, routing each to its tag's slot.
async fn read_loop(mut reader: Reader, shared: Arc<Shared>) {
    let e = loop {
        let r = match reader.next().await {
            None => break RouterError::Io("connection closed by the router".into()),
            Some(Err(e)) => break RouterError::from(e),
            Some(Ok(s)) => match Response::parse(&s) {
                Ok(r) => r,
                Err(e) => break RouterError::Protocol(e.to_string()),
            },
        };
        if let Err(e) = route(&shared, r) {
            break e;
        }
    };
    tracing::debug!(error = %e, "pipelined routeros session ended");
    shared.fail_all(e);
}

/// Delivers one reply. An error ends the session.
fn route(shared: &Shared, r: Response) -> Result<(), RouterError> {
    if let Response::Fatal { reason } = r {
        return Err(RouterError::Fatal(reason));
    }
    let Some(tag) = r.tag().map(str::to_string) else {
        return Err(RouterError::Protocol(
            "untagged reply on a pipelined session".into(),
        ));
    };
    let mut g = shared.lock();
    let Some(slot) = g.by_tag.get_mut(&tag) else {
        return Err(RouterError::Protocol(format!(
            "reply with unexpected tag {tag:?}"
        )));
    };
    match r {
        Response::Re { attrs, .. } => {
            // Counted even for a caller that gave up: the session reads it all the same.
            // Over the limit the whole session ends (its reader returns the error).
            slot.size.add(&attrs, &shared.reply_limits)?;
            if slot.tx.is_some() {
                slot.reply.rows.push(attrs);
            }
        }
        Response::Empty { .. } => slot.reply.empty = true,
        Response::Trap {
            category, message, ..
        } => slot.traps.push((category, message)),
        Response::Done { attrs, .. } => {
            let Some(mut slot) = g.by_tag.remove(&tag) else {
                return Ok(());
            };
            drop(g);
            if let Some(tx) = slot.tx.take() {
                let result = match traps_to_error(&slot.traps) {
                    None => {
                        slot.reply.done = attrs;
                        Ok(slot.reply)
                    }
                    Some(e) => Err(e),
                };
                let _ = tx.send(result);
            }
        }
        Response::Fatal { .. } => {}
    }
    Ok(())
}
