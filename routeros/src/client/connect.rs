//! Where and how to connect: options, TCP (and TLS), and the login (plain or legacy challenge).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use md5::{Digest, Md5};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

use super::tls::tls_connect;
use super::{Reply, RouterClient, Transport};
use crate::error::RouterError;
use crate::proto::Command;

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
    /// Which addresses the host may resolve to; `None` checks nothing (a tool talking to a
    /// router it was told to). The broker always sets one: tenants choose the hosts.
    pub address_policy: Option<AddressPolicy>,
    /// The most one command's reply may hold.
    pub reply_limits: ReplyLimits,
}

/// The most one command's reply may hold before the command fails with
/// [`RouterError::ReplyTooLarge`] and the session is dropped: a hostile or broken "router" must
/// not be able to fill the service's memory. The defaults hold a `/ip/hotspot/user/print` of
/// 50,000 users with room to spare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    /// `!re` rows.
    pub max_rows: usize,
    /// Bytes of the rows' attribute names and values.
    pub max_bytes: usize,
}

impl Default for ReplyLimits {
    fn default() -> Self {
        Self {
            max_rows: 200_000,
            max_bytes: 64 << 20,
        }
    }
}

/// The addresses a tenant-configured router host may reach. Loopback (unless allowed, for
/// simulators), link-local (169.254/16, fe80::/10 — cloud metadata lives there), unspecified
/// (0.0.0.0/8, ::), multicast and broadcast are refused, including as IPv4-mapped IPv6. Private
/// ranges are allowed: routers sit on VPNs and LANs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressPolicy {
    pub allow_loopback: bool,
}

impl AddressPolicy {
    /// Whether a connection to `ip` is allowed.
    pub fn permits(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => {
                if v4.is_loopback() {
                    return self.allow_loopback;
                }
                !(v4.is_link_local()
                    || v4.octets()[0] == 0
                    || v4.is_multicast()
                    || v4.is_broadcast())
            }
            IpAddr::V6(v6) => {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    return self.permits(IpAddr::V4(v4));
                }
                if v6.is_loopback() {
                    return self.allow_loopback;
                }
                let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
                !(link_local || v6.is_unspecified() || v6.is_multicast())
            }
        }
    }
}

/// Resolves `host:port`; with a policy, refuses the whole name when any of its addresses is not
/// allowed (so a name cannot alternate between a router and a forbidden address), and the
/// connection then goes to the addresses checked, not to a second resolution.
async fn resolve(
    host: &str,
    port: u16,
    policy: Option<AddressPolicy>,
) -> Result<Vec<SocketAddr>, RouterError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    if addrs.is_empty() {
        return Err(RouterError::Io("host not found".into()));
    }
    if let Some(policy) = policy {
        if let Some(bad) = addrs.iter().find(|a| !policy.permits(a.ip())) {
            tracing::warn!(host, address = %bad.ip(), "router host refused by the address policy");
            return Err(RouterError::AddressNotAllowed);
        }
    }
    Ok(addrs)
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
            address_policy: None,
            reply_limits: ReplyLimits::default(),
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
            .field("address_policy", &self.address_policy)
            .finish()
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

impl RouterClient {
    /// Connects (TCP, optional TLS) and logs in, all within `opts.connect_timeout`.
    pub async fn connect(opts: &ConnectOptions) -> Result<Self, RouterError> {
        let fut = async {
            let addrs = resolve(&opts.host, opts.port, opts.address_policy).await?;
            let tcp = TcpStream::connect(&addrs[..]).await?;
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
