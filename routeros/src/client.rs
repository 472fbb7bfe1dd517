//! One connected, logged-in RouterOS API session.
//!
//! Commands run strictly one at a time (`&mut self`). Every command is tagged; a command whose
//! deadline expires is cancelled with `/cancel =tag=` and its late replies are recognised and
//! discarded before the next command is sent, so the router never sees two of our commands at
//! once. After `!fatal`, end of stream, a protocol error or repeated timeouts the session is
//! marked broken ([`RouterClient::is_broken`]) and the owner reconnects.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use md5::{Digest, Md5};
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{timeout, timeout_at, Instant};
use tokio_util::codec::Framed;

use crate::codec::{ApiCodec, Sentence};
use crate::commands::{self as cmds, *};
use crate::error::RouterError;
use crate::proto::{Attrs, Command, Response};

/// How to secure the connection.
#[derive(Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP (port 8728). The password travels in clear text.
    Plain,
    /// TLS (api-ssl, 8729) verified against `ca_pem` (PEM certificates), or the public web PKI
    /// roots when `None`. The name checked is `server_name`, or the host.
    Verify {
        ca_pem: Option<Vec<u8>>,
        server_name: Option<String>,
    },
    /// TLS accepting exactly the end-entity certificate whose DER has this SHA-256.
    Pinned { sha256_fingerprint: [u8; 32] },
}

impl TlsMode {
    /// Pinned mode from a hex fingerprint (`AB:CD:…` or `abcd…`).
    pub fn pinned_hex(fp: &str) -> Result<Self, RouterError> {
        let clean: String = fp.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
        let bytes =
            hex::decode(clean).map_err(|_| RouterError::Tls("fingerprint is not hex".into()))?;
        let sha256_fingerprint: [u8; 32] = bytes
            .try_into()
            .map_err(|_| RouterError::Tls("fingerprint must be 32 bytes (SHA-256)".into()))?;
        Ok(TlsMode::Pinned { sha256_fingerprint })
    }
}

impl std::fmt::Debug for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsMode::Plain => f.write_str("Plain"),
            TlsMode::Verify {
                server_name,
                ca_pem,
            } => f
                .debug_struct("Verify")
                .field("custom_ca", &ca_pem.is_some())
                .field("server_name", server_name)
                .finish(),
            TlsMode::Pinned { sha256_fingerprint } => f
                .debug_struct("Pinned")
                .field("sha256", &hex::encode(sha256_fingerprint))
                .finish(),
        }
    }
}

/// Which login to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginMethod {
    /// `/login =name= =password=` (RouterOS ≥ 6.43). A challenge reply fails with `AuthFailed`.
    #[default]
    Plain,
    /// The pre-6.43 challenge: bare `/login`, then `=response=00<md5>`.
    Legacy,
    /// Plain first; fall back to the challenge if the router answers with `=ret=`.
    Auto,
}

/// Where and how to connect.
#[derive(Clone)]
pub struct ConnectOptions {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub tls: TlsMode,
    pub login: LoginMethod,
    /// Bounds TCP connect, TLS handshake and login together.
    pub connect_timeout: Duration,
    /// Deadline of the typed helpers (`run` takes its own).
    pub command_timeout: Duration,
    /// Timeouts in a row after which the session is marked broken.
    pub max_consecutive_timeouts: u32,
}

impl ConnectOptions {
    /// Plain TCP, plain login, 5 s connect, 15 s commands, broken after 2 timeouts in a row.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            username: username.into(),
            password: password.into(),
            tls: TlsMode::Plain,
            login: LoginMethod::Plain,
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(15),
            max_consecutive_timeouts: 2,
        }
    }
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"***")
            .field("tls", &self.tls)
            .field("login", &self.login)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .finish()
    }
}

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

/// The legacy (pre-6.43) challenge response: `00` + hex(md5(0x00 ‖ password ‖ challenge)).
pub fn legacy_login_response(password: &[u8], challenge_hex: &str) -> Result<String, RouterError> {
    let challenge = hex::decode(challenge_hex.trim())
        .map_err(|_| RouterError::Protocol("login challenge is not hex".into()))?;
    let mut h = Md5::new();
    h.update([0u8]);
    h.update(password);
    h.update(&challenge);
    Ok(format!("00{}", hex::encode(h.finalize())))
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
    /// Connects (TCP, optional TLS) and logs in, all within `opts.connect_timeout`.
    pub async fn connect(opts: &ConnectOptions) -> Result<Self, RouterError> {
        let fut = async {
            let tcp = TcpStream::connect((opts.host.as_str(), opts.port)).await?;
            tune_socket(&tcp);
            let io: Box<dyn Transport> = match &opts.tls {
                TlsMode::Plain => Box::new(tcp),
                mode => Box::new(tls_connect(tcp, &opts.host, mode).await?),
            };
            let mut c = Self::from_transport(io, opts);
            c.login_within(
                &opts.username,
                &opts.password,
                opts.login,
                opts.connect_timeout,
            )
            .await?;
            Ok::<_, RouterError>(c)
        };
        match timeout(opts.connect_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(RouterError::Timeout),
        }
    }

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
        }
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
        }
    }

    /// Whether the session must be dropped and re-established.
    pub fn is_broken(&self) -> bool {
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

    /// Logs in with the given method, within the command timeout.
    pub async fn login(
        &mut self,
        user: &str,
        password: &str,
        method: LoginMethod,
    ) -> Result<(), RouterError> {
        let d = self.command_timeout;
        self.login_within(user, password, method, d).await
    }

    async fn login_within(
        &mut self,
        user: &str,
        password: &str,
        method: LoginMethod,
        deadline: Duration,
    ) -> Result<(), RouterError> {
        let r = self.login_inner(user, password, method, deadline).await;
        if let Err(e) = &r {
            // A session whose login failed is never reused.
            self.broken = true;
            tracing::debug!(error = %e, "routeros login failed");
        }
        r
    }

    async fn login_inner(
        &mut self,
        user: &str,
        password: &str,
        method: LoginMethod,
        deadline: Duration,
    ) -> Result<(), RouterError> {
        let until = Instant::now() + deadline;
        let challenge = match method {
            LoginMethod::Plain | LoginMethod::Auto => {
                let cmd = Command::new("/login")
                    .attr("name", user)
                    .attr("password", password);
                let r = self.login_step(&cmd, until).await?;
                match r.ret() {
                    None => return Ok(()),
                    Some(_) if method == LoginMethod::Plain => {
                        return Err(RouterError::AuthFailed(
                            "router answered with a legacy (pre-6.43) login challenge".into(),
                        ))
                    }
                    Some(ch) => ch,
                }
            }
            LoginMethod::Legacy => {
                let r = self.login_step(&Command::new("/login"), until).await?;
                r.ret().ok_or_else(|| {
                    RouterError::Protocol("legacy /login returned no challenge".into())
                })?
            }
        };
        let response = legacy_login_response(password.as_bytes(), &challenge)?;
        let cmd = Command::new("/login")
            .attr("name", user)
            .attr("response", response);
        self.login_step(&cmd, until).await.map(|_| ())
    }

    async fn login_step(&mut self, cmd: &Command, until: Instant) -> Result<Reply, RouterError> {
        let left = until.saturating_duration_since(Instant::now());
        match self.run(cmd, left).await {
            Err(e) if e.is_trap() => Err(RouterError::AuthFailed(trap_message(&e))),
            other => other,
        }
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
                Response::Re { attrs, .. } => reply.rows.push(attrs),
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

    async fn call(&mut self, cmd: Command) -> Result<Reply, RouterError> {
        let d = self.command_timeout;
        self.run(&cmd, d).await
    }

    // ---- typed helpers ------------------------------------------------------------------

    /// Adds a hotspot user; returns its `.id`.
    pub async fn hotspot_user_add(&mut self, u: &NewHotspotUser) -> Result<String, RouterError> {
        let r = self.call(cmds::user_add(u)).await?;
        match r.ret() {
            Some(id) => Ok(id),
            // Some versions omit =ret=; look the id up by name.
            None => self
                .hotspot_user_find(&u.name)
                .await?
                .map(|x| x.id)
                .ok_or_else(|| RouterError::Protocol("add returned no id".into())),
        }
    }

    /// The user with this name, if any.
    pub async fn hotspot_user_find(
        &mut self,
        name: &str,
    ) -> Result<Option<HotspotUser>, RouterError> {
        Ok(self
            .hotspot_user_print(&[("name", name)], None)
            .await?
            .into_iter()
            .next())
    }

    /// Users matching every `(property, value)` equality; `proplist` defaults to [`USER_PROPS`].
    pub async fn hotspot_user_print(
        &mut self,
        filter: &[(&str, &str)],
        proplist: Option<&[&str]>,
    ) -> Result<Vec<HotspotUser>, RouterError> {
        let r = self
            .call(cmds::print(
                USER,
                filter,
                Some(proplist.unwrap_or(USER_PROPS)),
            ))
            .await?;
        Ok(r.rows.iter().map(HotspotUser::from_attrs).collect())
    }

    /// Changes a user.
    pub async fn hotspot_user_set(
        &mut self,
        id: &str,
        u: &HotspotUserUpdate,
    ) -> Result<(), RouterError> {
        self.call(cmds::user_set(id, u)).await.map(|_| ())
    }

    /// Enables a user.
    pub async fn hotspot_user_enable(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(USER, "enable", id)).await.map(|_| ())
    }

    /// Disables a user.
    pub async fn hotspot_user_disable(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(USER, "disable", id))
            .await
            .map(|_| ())
    }

    /// Removes a user (`NotFound` if it is already gone).
    pub async fn hotspot_user_remove(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(USER, "remove", id)).await.map(|_| ())
    }

    /// Every hotspot user profile.
    pub async fn user_profiles(&mut self) -> Result<Vec<UserProfile>, RouterError> {
        let r = self.call(cmds::print(PROFILE, &[], None)).await?;
        Ok(r.rows.iter().map(UserProfile::from_attrs).collect())
    }

    /// Adds an ip-binding; returns its `.id`.
    pub async fn ip_binding_add(&mut self, b: &NewIpBinding) -> Result<String, RouterError> {
        let r = self.call(cmds::ip_binding_add(b)).await?;
        ret_id(&r)
    }

    /// Removes an ip-binding.
    pub async fn ip_binding_remove(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(IP_BINDING, "remove", id))
            .await
            .map(|_| ())
    }

    /// ip-bindings matching the filter.
    pub async fn ip_binding_print(
        &mut self,
        filter: &[(&str, &str)],
    ) -> Result<Vec<IpBinding>, RouterError> {
        let r = self.call(cmds::print(IP_BINDING, filter, None)).await?;
        Ok(r.rows.iter().map(IpBinding::from_attrs).collect())
    }

    /// Logs a host in (`/ip/hotspot/active/login`).
    pub async fn active_login(&mut self, l: &ActiveLogin) -> Result<(), RouterError> {
        self.call(cmds::active_login(l)).await.map(|_| ())
    }

    /// Active sessions matching the filter (e.g. `[("user", "guest1")]`).
    pub async fn active_print(
        &mut self,
        filter: &[(&str, &str)],
    ) -> Result<Vec<ActiveSession>, RouterError> {
        let r = self.call(cmds::print(ACTIVE, filter, None)).await?;
        Ok(r.rows.iter().map(ActiveSession::from_attrs).collect())
    }

    /// Logs a session out.
    pub async fn active_remove(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(ACTIVE, "remove", id))
            .await
            .map(|_| ())
    }

    /// Cookies matching the filter.
    pub async fn cookie_print(
        &mut self,
        filter: &[(&str, &str)],
    ) -> Result<Vec<Cookie>, RouterError> {
        let r = self.call(cmds::print(COOKIE, filter, None)).await?;
        Ok(r.rows.iter().map(Cookie::from_attrs).collect())
    }

    /// Removes a cookie.
    pub async fn cookie_remove(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(COOKIE, "remove", id))
            .await
            .map(|_| ())
    }

    /// Hosts matching the filter (e.g. `[("mac-address", "AA:…")]`).
    pub async fn host_print(&mut self, filter: &[(&str, &str)]) -> Result<Vec<Host>, RouterError> {
        let r = self.call(cmds::print(HOST, filter, None)).await?;
        Ok(r.rows.iter().map(Host::from_attrs).collect())
    }

    /// `/system/resource/print`.
    pub async fn system_resource(&mut self) -> Result<SystemResource, RouterError> {
        let r = self.call(cmds::system_resource()).await?;
        r.rows
            .first()
            .map(SystemResource::from_attrs)
            .ok_or_else(|| RouterError::Protocol("system resource returned no row".into()))
    }

    /// `/system/identity/print` → the router's name.
    pub async fn system_identity(&mut self) -> Result<String, RouterError> {
        let r = self.call(cmds::system_identity()).await?;
        r.rows
            .first()
            .and_then(|a| a.get_str("name"))
            .ok_or_else(|| RouterError::Protocol("system identity returned no name".into()))
    }
}

fn trap_message(e: &RouterError) -> String {
    match e {
        RouterError::NotFound(m)
        | RouterError::AlreadyExists(m)
        | RouterError::InvalidValue(m)
        | RouterError::Permission(m)
        | RouterError::AuthFailed(m)
        | RouterError::Trap { message: m, .. } => m.clone(),
        other => other.to_string(),
    }
}

fn tune_socket(tcp: &TcpStream) {
    let _ = tcp.set_nodelay(true);
    let ka = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(30))
        .with_interval(Duration::from_secs(10))
        .with_retries(3);
    if let Err(e) = socket2::SockRef::from(tcp).set_tcp_keepalive(&ka) {
        tracing::debug!(error = %e, "could not set TCP keepalive");
    }
}

async fn tls_connect(
    tcp: TcpStream,
    host: &str,
    mode: &TlsMode,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, RouterError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
    let tls_err = |e: &dyn std::fmt::Display| RouterError::Tls(e.to_string());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(&e))?;
    let (config, name) = match mode {
        TlsMode::Plain => return Err(RouterError::Tls("plain mode has no TLS".into())),
        TlsMode::Verify {
            ca_pem,
            server_name,
        } => {
            let mut roots = rustls::RootCertStore::empty();
            match ca_pem {
                Some(pem) => {
                    for c in CertificateDer::pem_slice_iter(pem) {
                        roots
                            .add(c.map_err(|e| tls_err(&e))?)
                            .map_err(|e| tls_err(&e))?;
                    }
                    if roots.is_empty() {
                        return Err(RouterError::Tls("no CA certificate in ca_pem".into()));
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            let cfg = builder.with_root_certificates(roots).with_no_client_auth();
            (cfg, server_name.clone().unwrap_or_else(|| host.to_string()))
        }
        TlsMode::Pinned { sha256_fingerprint } => {
            let v = PinnedVerifier {
                fingerprint: *sha256_fingerprint,
                provider: provider.clone(),
            };
            let cfg = builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(v))
                .with_no_client_auth();
            (cfg, host.to_string())
        }
    };
    let name = ServerName::try_from(name).map_err(|e| tls_err(&e))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| RouterError::Tls(e.to_string()))
}

/// Accepts exactly one end-entity certificate, identified by the SHA-256 of its DER. Handshake
/// signatures are still verified with that certificate's key.
#[derive(Debug)]
struct PinnedVerifier {
    fingerprint: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use subtle::ConstantTimeEq;
        let got = Sha256::digest(end_entity.as_ref());
        if bool::from(got.as_slice().ct_eq(&self.fingerprint)) {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn md5_challenge_reference_vector() {
        // The documented legacy-login example: user admin, empty password.
        assert_eq!(
            legacy_login_response(b"", "93b438ec9b80057c06dd9fe67d56aa9a").unwrap(),
            "00e134102a9d330dd7b1849fedfea3cb57"
        );
        assert!(legacy_login_response(b"", "zz").is_err());
    }

    #[test]
    fn pinned_hex_parsing() {
        let fp = "AB:".repeat(31) + "AB";
        assert!(matches!(
            TlsMode::pinned_hex(&fp).unwrap(),
            TlsMode::Pinned { sha256_fingerprint } if sha256_fingerprint == [0xAB; 32]
        ));
        assert!(TlsMode::pinned_hex("abcd").is_err());
        assert!(
            !format!("{:?}", ConnectOptions::new("h", 1, "u", "topsecret")).contains("topsecret")
        );
    }
}
