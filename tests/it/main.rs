//! The integration tests: one binary, a module per capability, the shared helpers compiled once.
//! nextest still runs every test in a process of its own, so tests that change the environment
//! or capture logs stay isolated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod api;
mod broker;
mod gateways;
mod ops;
mod purchase;
mod routeros;
