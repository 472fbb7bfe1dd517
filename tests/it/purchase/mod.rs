mod faults;
mod happy;
mod hotspot;
mod refusals;
mod statements;
