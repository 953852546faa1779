//! The engine's error: what stops a job or a request from being handled now. Every variant
//! means "nothing was acknowledged; try again later", never "the message is bad" (bad
//! messages become negative MDNs and failed messages, not errors).

use as2_store::StoreError;

use crate::material::MaterialError;
use as2_store::jobs::BadJobInput;

/// Why the engine could not handle a job or request now.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The payload store failed.
    #[error("payload store: {0}")]
    Payload(#[from] std::io::Error),
    /// Stored keys or certificates could not be loaded.
    #[error(transparent)]
    Material(#[from] MaterialError),
    /// The codec failed on our own data (building a message or an MDN).
    #[error("codec: {0}")]
    Codec(#[from] as2_core::Error),
    /// A blocking task did not finish (the runtime is shutting down).
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// A job's input is unreadable.
    #[error(transparent)]
    BadJob(#[from] BadJobInput),
}

impl From<crate::mdn::stored::LoadError> for EngineError {
    fn from(error: crate::mdn::stored::LoadError) -> Self {
        match error {
            crate::mdn::stored::LoadError::Store(e) => Self::Store(e),
            crate::mdn::stored::LoadError::Payload(e) => Self::Payload(e),
        }
    }
}
