//! pagos-hotspot: sell WiFi access on MikroTik hotspots.
pub mod routeros;
pub mod sandbox;
