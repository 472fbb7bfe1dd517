mod client;
mod codec;
mod crosstest;
mod faults;
