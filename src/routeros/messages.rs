//! The broker's messages ([`Op`], [`BrokerError`], [`RouterStatus`], …) are the `routeros`
//! crate's (`routeros::messages`, re-exported here); their HTTP answers are in
//! [`crate::error::catalogue`].

pub use routeros::messages::*;
