//! The RouterOS client and broker are the `routeros` workspace crate (`routeros/`), re-exported
//! here so `crate::routeros::…` paths keep working; their HTTP answers are in
//! [`crate::error::catalogue`].

pub use routeros::*;
