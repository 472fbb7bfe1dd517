//! Operator tools built into the binary: the all-in-one demo, the load benchmark and the
//! importer of the original system's database.

pub mod bench;
pub mod demo;
pub mod import;
