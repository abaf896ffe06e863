//! The journal writer: a thread that commits the journal batches nobody waits for (those due
//! at the journal's one-second deadline) while the engine goes on with its next inputs, so
//! that on a machine with a second core the store's work runs beside the engine's.
//!
//! It shares the engine's SQLite connection (one page cache; each transaction holds the
//! connection, so the two take turns) and commits one batch at a time. The engine keeps its
//! promises around it: a batch's events go out once the writer reports it committed; before
//! any other write the engine waits for the batch in flight, so the store sees every fact in
//! the order the engine decided it; an agent's command is still answered only after its own
//! commit. On PostgreSQL the engine commits in place, as before.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::{EngineError, commit_entries};
use crate::runtime::journal::Entry;
use crate::store::direct::DirectDb;
use crate::users::UserId;

/// What the writer reports for a batch: the agents whose stored state another process had
/// changed first.
pub(super) type Written = Result<Vec<UserId>, EngineError>;

/// One batch to commit.
struct Job {
    entries: Vec<Entry>,
    node: String,
    done: oneshot::Sender<Written>,
}

/// The writer thread of one engine.
pub(super) struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts a writer on SQLite, sharing `direct`'s connection; none on PostgreSQL.
    pub(super) fn start(direct: &DirectDb) -> Option<Self> {
        if !matches!(direct, DirectDb::Sqlite { .. }) {
            return None;
        }
        let mut direct = direct.shared();
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("paceline-journal".into())
            .spawn(move || {
                // The store's calls are async for PostgreSQL's sake; on SQLite they never
                // wait, so a bare current-thread runtime drives them.
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("a current-thread runtime needs no resources");
                while let Ok(job) = queue.recv() {
                    let written = runtime.block_on(commit_entries(&mut direct, &job.entries, &job.node));
                    let _ = job.done.send(written);
                }
            })
            .ok()?;
        Some(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Hands a batch over; the receiver reports when it is committed.
    pub(super) fn submit(&self, entries: Vec<Entry>, node: &str) -> oneshot::Receiver<Written> {
        let (done, report) = oneshot::channel();
        let job = Job {
            entries,
            node: node.to_string(),
            done,
        };
        if let Some(jobs) = &self.jobs
            && let Err(mpsc::SendError(job)) = jobs.send(job)
        {
            let _ = job.done.send(Err(EngineError::WriterStopped));
        }
        report
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // The batch in flight, if any, is finished before the thread ends.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
