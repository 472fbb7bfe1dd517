pub mod gateways;
