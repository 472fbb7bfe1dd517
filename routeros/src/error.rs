//! Client errors.

use crate::dialect::{classify_trap, TrapClass};

/// Everything a RouterOS command can end in.
///
/// A `!trap` (NotFound, AlreadyExists, InvalidValue, Permission, Trap) keeps the session. `Fatal`,
/// `Io`, `Protocol`, `Tls`, `Closed` and `AuthFailed` end it ([`RouterError::is_session_fatal`]).
/// `Timeout` means "outcome unknown"; the client marks itself broken after repeated timeouts, so
/// check [`super::RouterClient::is_broken`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    /// `no such item`.
    #[error("not found: {0}")]
    NotFound(String),
    /// `already have …` / `… already exists`.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// A value the router refused (or a request we refused to build).
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// `not enough permissions`.
    #[error("permission denied: {0}")]
    Permission(String),
    /// Any other `!trap`.
    #[error("router error: {message}")]
    Trap {
        category: Option<u32>,
        message: String,
    },
    /// `!fatal`: the router closed the session.
    #[error("fatal: {0}")]
    Fatal(String),
    /// The deadline expired; the command's outcome is unknown.
    #[error("timed out")]
    Timeout,
    /// Login refused (wrong credentials, or a login method the router does not accept).
    #[error("authentication failed: {0}")]
    AuthFailed(String),
    /// TLS handshake or certificate failure.
    #[error("tls: {0}")]
    Tls(String),
    /// Transport failure, including end of stream.
    #[error("i/o: {0}")]
    Io(String),
    /// The peer broke the protocol.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The session is broken (after a fatal error); reconnect.
    #[error("session closed")]
    Closed,
    /// The host is (or resolves to) an address the connection policy refuses: loopback,
    /// link-local, unspecified, multicast.
    #[error("address not allowed")]
    AddressNotAllowed,
    /// A command's reply went past [`crate::client::ReplyLimits`]; the session is dropped.
    #[error("reply too large")]
    ReplyTooLarge,
}

impl RouterError {
    /// Maps a trap to an error kind (the table is [`super::dialect::TRAP_CLASSES`]).
    pub fn from_trap(category: Option<u32>, message: impl Into<String>) -> Self {
        let message = message.into();
        match classify_trap(&message) {
            TrapClass::NotFound => RouterError::NotFound(message),
            TrapClass::AlreadyExists => RouterError::AlreadyExists(message),
            TrapClass::InvalidValue => RouterError::InvalidValue(message),
            TrapClass::Permission => RouterError::Permission(message),
            TrapClass::AuthFailed => RouterError::AuthFailed(message),
            TrapClass::Other => RouterError::Trap { category, message },
        }
    }

    /// Whether the session cannot be used after this error.
    pub fn is_session_fatal(&self) -> bool {
        matches!(
            self,
            RouterError::Fatal(_)
                | RouterError::Io(_)
                | RouterError::Protocol(_)
                | RouterError::Tls(_)
                | RouterError::Closed
                | RouterError::AuthFailed(_)
                | RouterError::ReplyTooLarge
        )
    }

    /// Whether this came from a `!trap` (the session is kept).
    pub fn is_trap(&self) -> bool {
        matches!(
            self,
            RouterError::NotFound(_)
                | RouterError::AlreadyExists(_)
                | RouterError::InvalidValue(_)
                | RouterError::Permission(_)
                | RouterError::Trap { .. }
        )
    }
}

impl From<std::io::Error> for RouterError {
    /// One of a few opaque classes, never the operating system's own text (which told a closed
    /// port from an open one to whoever could read it); the cause goes to the debug log.
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        tracing::debug!(error = %e, "router connection i/o error");
        let class = match e.kind() {
            K::ConnectionRefused => "connection refused",
            K::TimedOut => "timed out",
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                "connection closed by the router"
            }
            _ => "unreachable",
        };
        RouterError::Io(class.into())
    }
}

impl From<super::codec::CodecError> for RouterError {
    fn from(e: super::codec::CodecError) -> Self {
        match e {
            super::codec::CodecError::Io(io) => RouterError::from(io),
            super::codec::CodecError::Truncated => {
                RouterError::Io("connection closed in the middle of a sentence".into())
            }
            other => RouterError::Protocol(other.to_string()),
        }
    }
}
