//! The audit trail's queue: requests hand their event to a channel (a few hundred
//! nanoseconds) and one thread appends them in batches (one transaction per batch).
//! [`Audit::shutdown`] drains the queue before the server exits, so a clean shutdown
//! loses nothing; events are also flushed at least every [`FLUSH_EVERY`].

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::model::register::AuditEvent;
use crate::store::{AuditSink, Store};

/// Longest time an event waits in the queue (and a flush waits for the writer).
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Largest batch written in one transaction.
const BATCH: usize = 2_000;

enum Message {
    /// An event, and when it happened (Unix milliseconds) if its `time` is still empty:
    /// the writer formats the time, off the request path.
    Event(Box<AuditEvent>, i64),
}

/// The handle requests record through. Cheap to clone.
#[derive(Clone)]
pub struct Audit {
    queue: Sender<Message>,
    /// Flush requests go on their own channel, which the writer waits on: a flush wakes
    /// it at once, while events (on `queue`) never wake it.
    flushes: Sender<Sender<()>>,
    worker: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Audit")
    }
}

impl Audit {
    /// Starts the writer thread on its own connection to `store`'s file.
    pub fn start(store: &Store) -> crate::store::Result<Audit> {
        let sink = store.audit_sink()?;
        let (queue, events) = mpsc::channel();
        let (flushes, flush_requests) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("nomen-audit".into())
            .spawn(move || write_loop(sink, events, flush_requests))
            .expect("spawn audit thread");
        Ok(Audit {
            queue,
            flushes,
            worker: Arc::new(Mutex::new(Some(worker))),
        })
    }

    /// Queues an event; its time is now if it has none.
    pub fn record(&self, event: AuditEvent) {
        let at = chrono::Utc::now().timestamp_millis();
        if self
            .queue
            .send(Message::Event(Box::new(event), at))
            .is_err()
        {
            tracing::error!("audit event dropped: the audit writer has stopped");
        }
    }

    /// Waits until everything queued before this call is stored (admin reads of the
    /// audit call this, so an auditor sees their own last request).
    pub fn flush(&self) {
        let (done, wait) = mpsc::channel();
        if self.flushes.send(done).is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(30));
        }
    }

    /// Flushes and stops the writer (at shutdown).
    pub fn shutdown(&self) {
        self.flush();
        let worker = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(worker) = worker {
            // The thread ends when every sender is gone; here it is enough that the
            // queue is empty, so it is detached rather than joined.
            drop(worker);
        }
    }
}

/// The current time as the audit stores it (sortable text).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Formats event times as [`now`] does. A busy server records thousands of events a
/// second, so the text up to the second is kept and only the milliseconds are written.
#[derive(Default)]
struct TimeFormat {
    second: i64,
    prefix: String,
}

impl TimeFormat {
    fn format(&mut self, millis: i64) -> String {
        let second = millis.div_euclid(1000);
        if self.prefix.is_empty() || second != self.second {
            let t = chrono::DateTime::from_timestamp(second, 0).unwrap_or_default();
            self.prefix = t.format("%Y-%m-%dT%H:%M:%S").to_string();
            self.second = second;
        }
        format!("{}.{:03}Z", self.prefix, millis.rem_euclid(1000))
    }
}

/// The writer wakes every [`FLUSH_EVERY`], or at once when a flush is asked for, rather
/// than on each event: a request's send then never has a sleeping thread to wake (no
/// futex call on the request path), and a busy server writes a few large batches a second
/// instead of many small ones. Flushes are answered after everything queued before them
/// is written.
fn write_loop(mut sink: AuditSink, events: Receiver<Message>, flushes: Receiver<Sender<()>>) {
    let mut batch: Vec<AuditEvent> = Vec::new();
    let mut times = TimeFormat::default();
    loop {
        let mut waiting: Vec<Sender<()>> = Vec::new();
        let mut stopping = false;
        match flushes.recv_timeout(FLUSH_EVERY) {
            Ok(done) => waiting.push(done),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => stopping = true,
        }
        waiting.extend(flushes.try_iter());
        loop {
            match events.try_recv() {
                Ok(Message::Event(mut e, at)) => {
                    if e.time.is_empty() {
                        e.time = times.format(at);
                    }
                    batch.push(*e);
                    if batch.len() >= BATCH {
                        write(&mut sink, &mut batch);
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    stopping = true;
                    break;
                }
            }
        }
        if !batch.is_empty() {
            write(&mut sink, &mut batch);
        }
        for done in waiting {
            let _ = done.send(());
        }
        if stopping {
            return;
        }
    }
}

/// Appends a batch, retrying a busy database for a while; events are kept, never
/// silently dropped, until they are written or the retries run out (then logged).
fn write(sink: &mut AuditSink, batch: &mut Vec<AuditEvent>) {
    for attempt in 0..10 {
        match sink.append(batch) {
            Ok(()) => {
                batch.clear();
                return;
            }
            Err(e) => {
                tracing::warn!(attempt, "audit write failed, retrying: {e}");
                std::thread::sleep(Duration::from_millis(200 * (attempt + 1)));
            }
        }
    }
    for e in batch.drain(..) {
        tracing::error!(event = ?e, "audit event could not be stored");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_are_formatted_as_now_formats_them() {
        let mut times = TimeFormat::default();
        for millis in [
            0,
            999,
            1_000,
            1_764_620_884_458,
            1_764_620_884_001,
            1_764_620_885_000,
        ] {
            let expected = chrono::DateTime::from_timestamp_millis(millis)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            assert_eq!(times.format(millis), expected, "{millis}");
        }
        assert_eq!(now().len(), times.format(1_764_620_884_458).len());
    }
}
