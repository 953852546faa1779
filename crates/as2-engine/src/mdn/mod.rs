//! MDNs both ways. Ours: [`answer_inbound`] builds and records the MDN of a message we
//! received (in the HTTP response, or queued for [`send_async`] to post); theirs:
//! [`receive_async`] takes a partner's async MDN at the endpoint and [`apply_receipt`] judges a
//! partner's MDN (sync or async) against the message we sent and moves it on. [`stored`] keeps
//! an MDN's exact bytes for replays and async posts.

pub mod answer_inbound;
pub mod apply_receipt;
pub mod receive_async;
pub mod send_async;
pub mod stored;
