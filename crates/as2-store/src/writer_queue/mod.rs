//! The queue of one process's SQLite write transactions, and their group commit: the
//! transactions that wait on the queue while one runs are committed with it, as one SQLite
//! transaction, each in a savepoint of its own.
//!
//! SQLite lets one connection write at a time. A connection that finds the write lock taken
//! waits in SQLite's busy handler, which sleeps 1, 2, 5, …, 100 ms between tries whether the
//! lock was freed meanwhile or not: a gateway receiving over 8 connections answered its p99 in
//! 234 ms (p50 6 ms) with a third of its CPU idle. Writers of one process therefore queue here
//! and take their turns in the order they came (another process, the api-server beside the
//! gateway, still meets the busy handler, once per group instead of once per writer).
//!
//! Each commit writes every page the transaction changed to the WAL and syncs it; a received
//! message changes the same few pages as the one before it (the last leaf of each table and
//! index it touches). So the turn is passed on *with the open transaction* while others wait:
//! the next writer runs its work in a savepoint of the same transaction, and the last of the
//! group (no one waiting, or [`MAX_GROUP`] reached) commits for all, once. A writer whose work
//! fails is rolled back to its savepoint and ends the group, committing the writers before it;
//! no writer returns `Ok` before the commit that holds its work succeeded, and every writer of
//! a group whose commit failed gets an error. A writer alone pays nothing: no savepoint, the
//! same `BEGIN IMMEDIATE … COMMIT` as without the queue.
//!
//! A writer whose work owns what it uses need not wait for the turn at all: it hands the work
//! to the queue and whoever holds the turn runs it ([`handed`]).

use std::collections::{HashMap, VecDeque};
use std::thread::Thread;

use diesel::SqliteConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager as _};
use diesel::r2d2::{ConnectionManager, PooledConnection};
use parking_lot::{Mutex, MutexGuard};

use crate::error::{StoreError, StoreResult};
use crate::tx::Tx;
use handed::{Handed, Job};

mod handed;

type Pooled = PooledConnection<ConnectionManager<SqliteConnection>>;

/// Most transactions committed together: bounds how long the first of a group waits for the
/// others' work before its commit (a received message's transaction is well under a
/// millisecond of work).
pub const MAX_GROUP: usize = 32;

/// The queue of one process's SQLite write transactions (see the module's documentation).
///
/// Each waiting writer is woken alone, when it is its turn or when its group is over: a
/// condition variable woke every waiter at every turn, and the context switches of the ones
/// that went back to sleep were 3 % of a busy gateway's CPU.
#[derive(Default)]
pub struct WriterQueue {
    state: Mutex<State>,
}

impl std::fmt::Debug for WriterQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct("WriterQueue")
            .field("waiting", &(state.next_ticket - state.serving))
            .field("groups_committed", &state.commits)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    /// The ticket the next writer to arrive takes.
    next_ticket: u64,
    /// The ticket whose turn it is.
    serving: u64,
    /// The group's open transaction, while its turn passes to the next writer.
    open: Option<OpenGroup>,
    /// The number of the last group begun.
    group: u64,
    /// Every group up to this number has been committed or has failed.
    finished_through: u64,
    /// Groups whose commit failed, with the writers still to learn it.
    failures: HashMap<u64, Failure>,
    /// Groups committed so far.
    commits: u64,
    /// The writers waiting for their turn, by ticket.
    parked: HashMap<u64, Thread>,
    /// The writers of the open group waiting for its commit.
    group_waiters: Vec<Thread>,
    /// Work handed to the queue, not yet run, by handed writer.
    pending: VecDeque<(u64, Job)>,
    /// The number the next handed writer takes.
    next_job: u64,
    /// The handed writers waiting, by number.
    handed: HashMap<u64, Handed>,
    /// The handed writers whose work is in the open group.
    group_jobs: Vec<u64>,
}

/// A transaction begun by one writer and handed to the next.
struct OpenGroup {
    conn: Pooled,
    /// Writers whose work it holds (each waits for the commit).
    members: usize,
    /// Handed work it holds ([`handed`]).
    jobs: usize,
}

struct Failure {
    /// Writers of the group that have not yet woken to learn it.
    unread: usize,
    reason: String,
}

impl State {
    /// Group `group` is over; the `members` writers waiting for it learn `failure`, if any.
    fn finish(&mut self, group: u64, members: usize, failure: Option<String>) {
        self.finished_through = group;
        self.finish_handed(failure.as_deref());
        for waiter in self.group_waiters.drain(..) {
            waiter.unpark();
        }
        if let Some(reason) = failure.filter(|_| members > 0) {
            self.failures.insert(
                group,
                Failure {
                    unread: members,
                    reason,
                },
            );
        }
    }

    /// Passes the turn to the next ticket, waking its writer if it sleeps, or, when no
    /// writer waits for it, to the oldest handed writer whose work is still waiting.
    fn pass_turn(&mut self) {
        self.serving += 1;
        if let Some(writer) = self.parked.remove(&self.serving) {
            writer.unpark();
        } else if self.serving == self.next_ticket {
            self.promote_handed();
        }
    }

    /// Why group `group` failed, read by one of its writers; `None` when it committed.
    fn take_failure(&mut self, group: u64) -> Option<String> {
        let failure = self.failures.get_mut(&group)?;
        failure.unread -= 1;
        let reason = failure.reason.clone();
        if failure.unread == 0 {
            self.failures.remove(&group);
        }
        Some(reason)
    }
}

/// A writer's turn: passes the turn on however the writer leaves, and abandons the group's
/// transaction (its connection dropped, which rolls it back: the pool discards a connection
/// left in a transaction) when the writer leaves without committing or handing it on, as a
/// panic in its work does.
struct Turn<'q> {
    queue: &'q WriterQueue,
    group: u64,
    /// Writers of the group before this one, waiting for its commit.
    members: usize,
    /// Handed work in the group ([`handed`]).
    jobs: usize,
    conn: Option<Pooled>,
}

impl Turn<'_> {
    fn conn(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("a turn holds its group's connection until it ends")
    }

    /// Ends the group: its transaction committed (`Ok`) or given up, and the turn passed on.
    fn end_group(mut self, committed: Result<(), String>) {
        drop(self.conn.take());
        let mut state = self.queue.state.lock();
        state.commits += u64::from(committed.is_ok());
        state.finish(self.group, self.members, committed.err());
        state.pass_turn();
    }

    /// Hands the open transaction to the next writer, with this writer's work in it.
    fn hand_on(mut self, state: &mut MutexGuard<'_, State>) {
        let conn = self.conn.take().expect("handed on once");
        state.open = Some(OpenGroup {
            conn,
            members: self.members + 1,
            jobs: self.jobs,
        });
        state.pass_turn();
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        // `end_group` and `hand_on` took the connection: nothing left to do
        let Some(abandoned) = self.conn.take() else {
            return;
        };
        drop(abandoned);
        let mut state = self.queue.state.lock();
        state.finish(
            self.group,
            self.members,
            Some("a transaction committed with this one was abandoned".to_owned()),
        );
        state.pass_turn();
    }
}

impl WriterQueue {
    /// Runs `work` in a write transaction of `own` (a connection of the pool) or, when the
    /// writer before it handed one on, of that one (then `own` goes back to the pool unused);
    /// `Ok` once the commit that holds the work succeeded.
    ///
    /// Take `own` before calling: the holder of the turn never waits for the pool.
    pub(crate) fn run<T>(
        &self,
        own: Pooled,
        work: impl FnOnce(&mut Tx<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut state = self.state.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        while state.serving != ticket {
            state.parked.insert(ticket, std::thread::current());
            MutexGuard::unlocked(&mut state, std::thread::park);
        }
        state.parked.remove(&ticket);
        self.hold_turn(state, ticket, own, work)
    }

    /// The turn of `ticket`, come to this thread (`state` locked): runs `work`, then the
    /// work handed to the queue meanwhile, and hands the group on or commits it.
    fn hold_turn<T>(
        &self,
        mut state: MutexGuard<'_, State>,
        ticket: u64,
        own: Pooled,
        work: impl FnOnce(&mut Tx<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let (mut turn, unused) = match state.open.take() {
            Some(open) => (
                Turn {
                    queue: self,
                    group: state.group,
                    members: open.members,
                    jobs: open.jobs,
                    conn: Some(open.conn),
                },
                Some(own),
            ),
            None => {
                state.group += 1;
                let turn = Turn {
                    queue: self,
                    group: state.group,
                    members: 0,
                    jobs: 0,
                    conn: Some(own),
                };
                (turn, None)
            }
        };
        drop(state);
        drop(unused);

        let done = if turn.members == 0 {
            // the first of a group: its own transaction, no savepoint
            if let Err(e) =
                AnsiTransactionManager::begin_transaction_sql(turn.conn(), "BEGIN IMMEDIATE")
            {
                turn.end_group(Err(e.to_string()));
                return Err(e.into());
            }
            match work(&mut Tx::Sqlite(turn.conn())) {
                Ok(value) => Ok(value),
                Err(e) => {
                    let rolled_back = AnsiTransactionManager::rollback_transaction(turn.conn());
                    turn.end_group(Err("rolled back".to_owned()));
                    rolled_back?;
                    return Err(e);
                }
            }
        } else {
            match in_savepoint(turn.conn(), work) {
                Savepoint::Released(value) => Ok(value),
                Savepoint::RolledBack(e) => Err(e),
                Savepoint::Broken(e) => {
                    // the group's transaction is in an unknown state: none of it commits
                    turn.end_group(Err(format!(
                        "a transaction committed with this one failed and could not be rolled back alone: {e}"
                    )));
                    return Err(e);
                }
            }
        };

        if done.is_ok()
            && let Err(reason) = self.run_handed(&mut turn)
        {
            turn.end_group(Err(reason.clone()));
            return Err(handed::not_committed(&reason));
        }

        let mut state = self.state.lock();
        let waiting = state.next_ticket > ticket + 1;
        if done.is_ok() && waiting && turn.members + turn.jobs + 1 < MAX_GROUP {
            let group = turn.group;
            state.group_waiters.push(std::thread::current());
            turn.hand_on(&mut state);
            while state.finished_through < group {
                MutexGuard::unlocked(&mut state, std::thread::park);
            }
            return match state.take_failure(group) {
                None => done,
                Some(reason) => Err(handed::not_committed(&reason)),
            };
        }
        drop(state);
        // the last of the group (or one whose work failed, rolled back to its savepoint):
        // commits the group's work
        let committed = AnsiTransactionManager::commit_transaction(turn.conn());
        turn.end_group(committed.as_ref().map(|_| ()).map_err(ToString::to_string));
        let value = done?;
        committed?;
        Ok(value)
    }

    /// Groups committed so far by this queue.
    pub fn groups_committed(&self) -> u64 {
        self.state.lock().commits
    }
}

/// How a writer's work in a savepoint of its group's transaction ended.
enum Savepoint<T> {
    /// Done and released: part of the group's transaction.
    Released(T),
    /// Failed and rolled back to the savepoint: the group goes on without it.
    RolledBack(StoreError),
    /// Failed, and the savepoint could not be rolled back (or not begun, or not released):
    /// the whole group must be rolled back.
    Broken(StoreError),
}

/// Runs `work` in a savepoint of the open transaction of `c`.
fn in_savepoint<T>(
    c: &mut SqliteConnection,
    work: impl FnOnce(&mut Tx<'_>) -> StoreResult<T>,
) -> Savepoint<T> {
    if let Err(e) = AnsiTransactionManager::begin_transaction(c) {
        return Savepoint::Broken(e.into());
    }
    match work(&mut Tx::Sqlite(c)) {
        Ok(value) => match AnsiTransactionManager::commit_transaction(c) {
            Ok(()) => Savepoint::Released(value),
            Err(e) => Savepoint::Broken(e.into()),
        },
        Err(e) => match AnsiTransactionManager::rollback_transaction(c) {
            Ok(()) => Savepoint::RolledBack(e),
            Err(_) => Savepoint::Broken(e),
        },
    }
}

#[cfg(test)]
mod tests;
