//! RouterOS API: wire codec, reply parsing, an async client and typed hotspot commands, and
//! the broker that keeps one session per router ([`registry::RouterRegistry`] and its actors).
//!
//! Protocol notes: `docs/routeros.md`. Facts that could not be verified against a real
//! router live in [`dialect`], in one place.
//!
//! The crate knows nothing of the application that embeds it: it takes its tuning as
//! [`RouterSettings`], reads its routers (and reveals their passwords) through [`RouterSource`], reports metrics through
//! [`RouterObserver`], and writes status timestamps with the application's [`TimeFormat`].

pub mod access;
pub mod actor;
pub mod client;
pub mod codec;
pub mod commands;
mod created;
pub mod dialect;
pub mod error;
pub mod footprint;
pub mod messages;
pub mod pipeline;
pub mod proto;
pub mod registry;
pub mod settings;
pub mod source;

pub use access::RevokeReport;
pub use actor::{NoopObserver, RouterObserver};
pub use client::{
    legacy_login_response, AddressPolicy, ConnectOptions, LoginMethod, Reply, RouterClient,
    TlsMode, Transport,
};
pub use codec::{ApiCodec, CodecError, Sentence};
pub use commands::{
    ActiveLogin, ActiveSession, BindingType, Cookie, Host, HotspotUser, HotspotUserUpdate,
    IpBinding, NewHotspotUser, NewIpBinding, SystemResource, UserProfile,
};
pub use error::RouterError;
pub use messages::{BrokerError, RouterState, RouterStatus};
pub use proto::{Attrs, Command, Response};
pub use registry::{DirectRouter, RouterRegistry, TimeFormat};
pub use settings::{BrokerMode, RouterSettings};
pub use source::{RouterRecord, RouterSource, SourceError};
