//! What both platform processes (`api-server` and `as2-gateway`) need at start and at stop:
//! reading the environment ([`env`]), a listener's TLS and proxy settings ([`listener`]), logging ([`logging`]), the master key that opens the
//! secrets at rest ([`secrets`]) and the shutdown signal ([`shutdown`]). Each binary keeps
//! its own settings; this crate holds only what they would otherwise both write.

pub mod env;
pub mod listener;
pub mod logging;
pub mod secrets;
pub mod shutdown;
