//! pagos-hotspot: sell WiFi access on MikroTik hotspots.
pub mod gateways;
pub mod sandbox;
