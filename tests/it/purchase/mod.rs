mod admin_edits_under_load;
mod faults;
mod happy;
mod hotspot;
mod rate_limits;
mod refusals;
mod revocation;
mod statements;
