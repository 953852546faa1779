//! Work handed to the holder of the turn: a writer whose work owns what it uses
//! ([`WriterQueue::submit`]) leaves it in the queue when the turn is taken, and whoever holds
//! the turn runs it in a savepoint of its group, on its own thread, before it commits.
//!
//! Passing the turn from thread to thread costs each writer a wake-up, and on a machine whose
//! cores are busy (a gateway signing and decrypting on every core) a woken thread waits
//! 0.4 ms on average for one (`perf sched latency`, docs/PERFORMANCE.md, session 15): while
//! it waits, the turn waits with it, so the writers' wake-ups, one after the other, were the
//! queue's real cost and the cores idled a quarter of the time. Work run by the holder of the
//! turn needs no wake-up in the queue's path: its writer is woken once, after the commit,
//! while the queue goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::Thread;

use parking_lot::{Mutex, MutexGuard};

use super::{Savepoint, State, Turn, WriterQueue, in_savepoint};
use crate::error::{StoreError, StoreResult};
use crate::tx::Tx;

/// A writer's work with its result kept by the closure itself.
pub(super) type Job = Box<dyn FnOnce(&mut Tx<'_>) -> StoreResult<()> + Send>;

/// A handed writer, waiting for what becomes of its work.
pub(super) struct Handed {
    thread: Thread,
    outcome: Outcome,
}

/// What became of a handed writer's work.
pub(super) enum Outcome {
    /// Not yet known: waiting in the queue, or run and waiting for its group's commit.
    Waiting,
    /// Committed, or failed with this error.
    Done(StoreResult<()>),
    /// The turn came to it with no one holding it: its own thread takes the turn (this
    /// ticket) and runs its work (given back).
    Promoted(u64, Job),
}

impl State {
    /// Gives the turn, free now, to the oldest handed writer still waiting, if any.
    pub(super) fn promote_handed(&mut self) {
        let Some((id, job)) = self.pending.pop_front() else {
            return;
        };
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.tell(id, Outcome::Promoted(ticket, job));
    }

    /// Tells handed writer `id` what became of its work, and wakes it.
    fn tell(&mut self, id: u64, outcome: Outcome) {
        if let Some(handed) = self.handed.get_mut(&id) {
            handed.outcome = outcome;
            handed.thread.unpark();
        }
    }

    /// The handed writers whose work was in the group that just ended learn whether it was
    /// committed (`failure` is `None`) or not.
    pub(super) fn finish_handed(&mut self, failure: Option<&str>) {
        for id in std::mem::take(&mut self.group_jobs) {
            let outcome = match failure {
                None => Ok(()),
                Some(reason) => Err(not_committed(reason)),
            };
            self.tell(id, Outcome::Done(outcome));
        }
    }
}

/// The error of a writer whose group was not committed.
pub(super) fn not_committed(reason: &str) -> StoreError {
    StoreError::Unavailable(format!("the transaction was not committed: {reason}"))
}

impl WriterQueue {
    /// Runs `work` in a write transaction like [`WriterQueue::run`], but when another writer
    /// holds the turn, that writer runs it, in its group, instead of the turn coming to this
    /// thread; `Ok` once the commit that holds the work succeeded. Take `own` before calling,
    /// as for `run`.
    pub(crate) fn submit<T: Send + 'static>(
        &self,
        own: super::Pooled,
        work: impl FnOnce(&mut Tx<'_>) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let value = Arc::new(Mutex::new(None));
        let slot = value.clone();
        let job: Job = Box::new(move |tx| {
            let result = work(tx)?;
            *slot.lock() = Some(result);
            Ok(())
        });
        let mut state = self.state.lock();
        let done = if state.serving == state.next_ticket {
            // no one holds the turn nor waits for it: take it
            let ticket = state.next_ticket;
            state.next_ticket += 1;
            self.hold_turn(state, ticket, own, job)
        } else {
            let id = state.next_job;
            state.next_job += 1;
            state.pending.push_back((id, job));
            state.handed.insert(
                id,
                Handed {
                    thread: std::thread::current(),
                    outcome: Outcome::Waiting,
                },
            );
            self.wait_handed(state, id, own)
        };
        done?;
        let result = value.lock().take();
        result.ok_or_else(|| StoreError::Unavailable("the transaction gave no result".to_owned()))
    }

    /// Waits until handed writer `id` learns what became of its work, or takes the turn when
    /// it is promoted to it.
    fn wait_handed(
        &self,
        mut state: MutexGuard<'_, State>,
        id: u64,
        own: super::Pooled,
    ) -> StoreResult<()> {
        while matches!(
            state.handed.get(&id).map(|h| &h.outcome),
            Some(Outcome::Waiting)
        ) {
            MutexGuard::unlocked(&mut state, std::thread::park);
        }
        let handed = state
            .handed
            .remove(&id)
            .expect("a handed writer's entry stays until it is read");
        match handed.outcome {
            Outcome::Done(done) => {
                drop(state);
                drop(own);
                done
            }
            Outcome::Promoted(ticket, job) => self.hold_turn(state, ticket, own, job),
            Outcome::Waiting => unreachable!("the loop above waits while it is waiting"),
        }
    }

    /// Runs the work handed to the queue, each in a savepoint of `turn`'s group, while the
    /// group has room; `Err` (why) when one broke the group's transaction, which must then be
    /// given up whole.
    pub(super) fn run_handed(&self, turn: &mut Turn<'_>) -> Result<(), String> {
        loop {
            let (id, job) = {
                let mut state = self.state.lock();
                if turn.members + turn.jobs + 1 >= super::MAX_GROUP {
                    return Ok(());
                }
                match state.pending.pop_front() {
                    Some(next) => next,
                    None => return Ok(()),
                }
            };
            let ran = in_savepoint(turn.conn(), |tx| {
                // a panic in another writer's work fails that work alone, not this thread's
                catch_unwind(AssertUnwindSafe(|| job(tx))).unwrap_or_else(|_| {
                    Err(StoreError::Unavailable(
                        "the transaction's work panicked".to_owned(),
                    ))
                })
            });
            let mut state = self.state.lock();
            match ran {
                Savepoint::Released(()) => {
                    turn.jobs += 1;
                    state.group_jobs.push(id);
                }
                Savepoint::RolledBack(e) => state.tell(id, Outcome::Done(Err(e))),
                Savepoint::Broken(e) => {
                    let reason = format!(
                        "a transaction committed with this one failed and could not be rolled back alone: {e}"
                    );
                    state.tell(id, Outcome::Done(Err(e)));
                    return Err(reason);
                }
            }
        }
    }
}
