//! What an operator puts on a router:
//!
//! * [`site`]: the captive portal (`portal/`, embedded in the binary), filled in with the API
//!   address and a router key, as files for the router's `hotspot/` folder or a zip of them;
//! * [`setup`]: the RouterOS setup script (API user and group, service restriction, walled
//!   garden) and the check of a router against it.

pub mod setup;
pub mod site;
