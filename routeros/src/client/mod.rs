//! One connected, logged-in RouterOS API session.
//!
//! Commands run strictly one at a time (`&mut self`). Every command is tagged; a command whose
//! deadline expires is cancelled with `/cancel =tag=` and its late replies are recognised and
//! discarded before the next command is sent, so the router never sees two of our commands at
//! once. After `!fatal`, end of stream, a protocol error or repeated timeouts the session is
//! marked broken ([`RouterClient::is_broken`]) and the owner reconnects.
//!
//! Connecting and login live in `connect` (TLS in `tls`); the typed hotspot helpers in
//! `hotspot`.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{timeout, timeout_at, Instant};
use tokio_util::codec::Framed;

use crate::codec::{ApiCodec, Sentence};
use crate::created::CreatedUsers;
use crate::error::RouterError;
use crate::proto::{Attrs, Command, Response};

mod connect;
mod hotspot;
mod tls;

pub use connect::{
    legacy_login_response, AddressPolicy, ConnectOptions, LoginMethod, ReplyLimits, TlsMode,
};

/// The result of one command: `!re` rows, the `!done` attributes (e.g. `ret`) and whether the
/// router said `!empty`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub rows: Vec<Attrs>,
    pub done: Attrs,
    pub empty: bool,
}

impl Reply {
    /// `=ret=` of the `!done` (the new `.id` of an `add`, the count of `count-only`).
    pub fn ret(&self) -> Option<String> {
        self.done.get_str("ret")
    }
}

/// Counts a reply's rows and bytes against its limits.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ReplySize {
    rows: usize,
    bytes: usize,
}

impl ReplySize {
    /// Adds one row; `Err` once the reply is past `limits`.
    pub(crate) fn add(
        &mut self,
        row: &crate::proto::Attrs,
        limits: &ReplyLimits,
    ) -> Result<(), RouterError> {
        self.rows += 1;
        self.bytes += row
            .iter()
            .map(|(k, v)| k.len() + v.len() + 2)
            .sum::<usize>();
        if self.rows > limits.max_rows || self.bytes > limits.max_bytes {
            tracing::warn!(
                rows = self.rows,
                bytes = self.bytes,
                "router reply over the limit; dropping the session"
            );
            return Err(RouterError::ReplyTooLarge);
        }
        Ok(())
    }
}

/// Byte stream the client can run over (TCP, TLS, an in-memory duplex in tests).
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// Grace for writing `/cancel` after a deadline expired.
const CANCEL_WRITE_GRACE: Duration = Duration::from_millis(200);

/// A logged-in session taken apart (see [`RouterClient::into_parts`]).
pub(crate) struct ClientParts {
    pub framed: Framed<Box<dyn Transport>, ApiCodec>,
    pub next_tag: u64,
    /// Tags of cancelled commands whose replies may still arrive.
    pub abandoned: HashSet<String>,
    pub max_consecutive_timeouts: u32,
    pub command_timeout: Duration,
    pub broken: bool,
    pub reply_limits: ReplyLimits,
}

/// Folds a command's `!trap`s into one classified error (every message kept, classified by
/// the first), or `None` when there was none.
pub(crate) fn traps_to_error(traps: &[(Option<u32>, String)]) -> Option<RouterError> {
    let ((category, first), rest) = traps.split_first()?;
    let mut e = RouterError::from_trap(*category, first.clone());
    if !rest.is_empty() {
        let all: Vec<&str> = std::iter::once(first.as_str())
            .chain(rest.iter().map(|(_, m)| m.as_str()))
            .collect();
        if let RouterError::Trap { message, .. } = &mut e {
            *message = all.join("; ");
        }
    }
    Some(e)
}

/// One session. See the module docs.
pub struct RouterClient {
    framed: Framed<Box<dyn Transport>, ApiCodec>,
    next_tag: u64,
    abandoned: HashSet<String>,
    consecutive_timeouts: u32,
    max_consecutive_timeouts: u32,
    broken: bool,
    command_timeout: Duration,
    reply_limits: ReplyLimits,
    /// Users this session created and has not enabled yet ([`crate::created`]).
    created: CreatedUsers,
}

impl std::fmt::Debug for RouterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterClient")
            .field("next_tag", &self.next_tag)
            .field("abandoned", &self.abandoned.len())
            .field("broken", &self.broken)
            .finish()
    }
}

impl RouterClient {
    /// Wraps an already-open stream (not logged in yet; call [`RouterClient::login`]).
    pub fn from_stream<S: Transport + 'static>(stream: S, opts: &ConnectOptions) -> Self {
        Self::from_transport(Box::new(stream), opts)
    }

    fn from_transport(io: Box<dyn Transport>, opts: &ConnectOptions) -> Self {
        Self {
            framed: Framed::new(io, ApiCodec::new()),
            next_tag: 1,
            abandoned: HashSet::new(),
            consecutive_timeouts: 0,
            max_consecutive_timeouts: opts.max_consecutive_timeouts.max(1),
            broken: false,
            command_timeout: opts.command_timeout,
            reply_limits: opts.reply_limits,
            created: CreatedUsers::default(),
        }
    }

    /// The users this session created and has not enabled yet.
    pub(crate) fn created_users(&mut self) -> &mut CreatedUsers {
        &mut self.created
    }

    /// Takes the session apart for [`super::pipeline::Pipeline`].
    pub(crate) fn into_parts(self) -> ClientParts {
        ClientParts {
            framed: self.framed,
            next_tag: self.next_tag,
            abandoned: self.abandoned,
            max_consecutive_timeouts: self.max_consecutive_timeouts,
            command_timeout: self.command_timeout,
            broken: self.broken,
            reply_limits: self.reply_limits,
        }
    }

    /// Whether the session must be dropped and re-established.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Whether the router visibly ended this idle session: the connection closed or reset, or
    /// something unsolicited (such as a `!fatal` on shutdown) waiting to be read. Never blocks,
    /// sends nothing; marks the session broken when so. With cancelled commands still to be
    /// drained, their replies may be waiting: no verdict (`false`).
    pub fn closed_by_peer(&mut self) -> bool {
        use futures_util::FutureExt;
        if self.broken {
            return true;
        }
        if !self.abandoned.is_empty() {
            return false;
        }
        if self.framed.next().now_or_never().is_some() {
            self.broken = true;
        }
        self.broken
    }

    /// The deadline used by the typed helpers.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// Changes the deadline used by the typed helpers.
    pub fn set_command_timeout(&mut self, d: Duration) {
        self.command_timeout = d;
    }

    fn alloc_tag(&mut self) -> String {
        let t = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1);
        t.to_string()
    }

    /// Runs one command with a deadline. Traps become classified errors (the session is kept).
    pub async fn run(&mut self, cmd: &Command, deadline: Duration) -> Result<Reply, RouterError> {
        if self.broken {
            return Err(RouterError::Closed);
        }
        if let Some(e) = cmd.error() {
            return Err(RouterError::InvalidValue(e.to_string()));
        }
        let until = Instant::now() + deadline;
        if !self.abandoned.is_empty() {
            // Strict serialisation: wait for the cancelled command to finish first.
            match timeout_at(until, self.drain_abandoned()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    self.broken = true;
                    return Err(e);
                }
                Err(_) => {
                    self.broken = true;
                    return Err(RouterError::Timeout);
                }
            }
        }
        let tag = self.alloc_tag();
        let sentence = cmd
            .to_sentence(Some(&tag))
            .map_err(RouterError::InvalidValue)?;
        tracing::trace!(command = cmd.path(), tag = %tag, "routeros send");
        match timeout_at(until, self.exchange(sentence, &tag)).await {
            Ok(r) => {
                self.consecutive_timeouts = 0;
                if let Err(e) = &r {
                    if e.is_session_fatal() {
                        self.broken = true;
                    }
                }
                r
            }
            Err(_) => {
                self.on_timeout(tag).await;
                Err(RouterError::Timeout)
            }
        }
    }

    async fn on_timeout(&mut self, tag: String) {
        self.consecutive_timeouts += 1;
        if self.consecutive_timeouts >= self.max_consecutive_timeouts {
            self.broken = true;
        }
        let cancel_tag = self.alloc_tag();
        let cancel = Command::new("/cancel").attr("tag", &tag);
        self.abandoned.insert(tag);
        if self.broken {
            return;
        }
        let sent = match cancel.to_sentence(Some(&cancel_tag)) {
            Ok(s) => timeout(CANCEL_WRITE_GRACE, self.framed.send(s)).await,
            Err(_) => Ok(Ok(())),
        };
        match sent {
            Ok(Ok(())) => {
                self.abandoned.insert(cancel_tag);
            }
            _ => self.broken = true,
        }
    }

    async fn read_response(&mut self) -> Result<Response, RouterError> {
        match self.framed.next().await {
            None => Err(RouterError::Io("connection closed by the router".into())),
            Some(Err(e)) => Err(e.into()),
            Some(Ok(s)) => Response::parse(&s).map_err(|e| RouterError::Protocol(e.to_string())),
        }
    }

    /// Handles a reply that belongs to an abandoned command. Returns `false` if it does not.
    fn absorb_abandoned(&mut self, r: &Response) -> bool {
        let Some(t) = r.tag() else {
            return false;
        };
        if !self.abandoned.contains(t) {
            return false;
        }
        if matches!(r, Response::Done { .. }) {
            let t = t.to_string();
            self.abandoned.remove(&t);
        }
        true
    }

    async fn drain_abandoned(&mut self) -> Result<(), RouterError> {
        while !self.abandoned.is_empty() {
            let r = self.read_response().await?;
            if let Response::Fatal { reason } = r {
                return Err(RouterError::Fatal(reason));
            }
            if !self.absorb_abandoned(&r) {
                return Err(RouterError::Protocol(format!(
                    "reply with unexpected tag {:?}",
                    r.tag()
                )));
            }
        }
        Ok(())
    }

    async fn exchange(&mut self, sentence: Sentence, tag: &str) -> Result<Reply, RouterError> {
        self.framed.send(sentence).await?;
        let mut reply = Reply::default();
        let mut size = ReplySize::default();
        let mut traps: Vec<(Option<u32>, String)> = Vec::new();
        loop {
            let r = self.read_response().await?;
            if let Response::Fatal { reason } = r {
                return Err(RouterError::Fatal(reason));
            }
            if r.tag() != Some(tag) {
                if self.absorb_abandoned(&r) {
                    continue;
                }
                return Err(RouterError::Protocol(format!(
                    "reply with unexpected tag {:?} (expected {tag})",
                    r.tag()
                )));
            }
            match r {
                Response::Re { attrs, .. } => {
                    if let Err(e) = size.add(&attrs, &self.reply_limits) {
                        // The rest of the reply would still arrive: the session is unusable.
                        self.broken = true;
                        return Err(e);
                    }
                    reply.rows.push(attrs);
                }
                Response::Empty { .. } => reply.empty = true,
                Response::Trap {
                    category, message, ..
                } => traps.push((category, message)),
                Response::Done { attrs, .. } => {
                    reply.done = attrs;
                    return match traps_to_error(&traps) {
                        None => Ok(reply),
                        Some(e) => Err(e),
                    };
                }
                Response::Fatal { .. } => {}
            }
        }
    }

    /// Sends `/quit` and waits briefly for the router's `!fatal`. The session is broken afterwards.
    pub async fn quit(&mut self) {
        if !self.broken {
            let _ = timeout(Duration::from_secs(1), async {
                if let Ok(s) = Command::new("/quit").to_sentence(None) {
                    if self.framed.send(s).await.is_ok() {
                        while let Ok(r) = self.read_response().await {
                            if matches!(r, Response::Fatal { .. }) {
                                break;
                            }
                        }
                    }
                }
            })
            .await;
        }
        self.broken = true;
    }

    /// Runs one command with the session's command deadline.
    pub(crate) async fn call(&mut self, cmd: Command) -> Result<Reply, RouterError> {
        let d = self.command_timeout;
        self.run(&cmd, d).await
    }
}
