//! Operator tools built into the binary: the all-in-one demo and the load benchmark.

pub mod bench;
pub mod demo;
