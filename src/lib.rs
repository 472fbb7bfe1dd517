//! pagos-hotspot: sell WiFi access on MikroTik hotspots.

pub mod db;
