//! The gateway binary's tests, one binary: the front door (limits, slow clients, memory) and
//! SIGKILL crashes mid-work.

// Tests report what they skip and what they measured.
#![allow(clippy::print_stderr)]

mod big_message;
mod crash;
mod front_door;
mod tls;
