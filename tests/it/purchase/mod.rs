mod admin_edits_under_load;
mod faults;
mod happy;
mod hotspot;
mod refusals;
mod statements;
