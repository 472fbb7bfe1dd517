//! The RouterOS client and broker are the `routeros` workspace crate (`routeros/`), re-exported
//! here so `crate::routeros::…` paths keep working; [`messages`] maps broker errors to HTTP.

pub use routeros::*;

pub mod messages;
