//! Persistence for the AS2 platform.
