//! Simulators of the outside world: a RouterOS router and the payment gateways.

pub mod gateways;
pub mod routeros_sim;
