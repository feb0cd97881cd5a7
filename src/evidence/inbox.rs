//! The inbox: the exchanges a SUT sent to the harness's simulated actors, recorded as they arrive
//! and waited for by the scenario that made the SUT act.
//!
//! The reference's simulators (XDS-I.b, MHD, the DIMSE SCP) push what they receive; the steps wait
//! for the exchange of the transaction they triggered and the checks judge it like any other. A
//! simulator records, a scenario reads: neither needs the other's internals.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::Notify;

use crate::evidence::{Body, Exchange};
use crate::transaction::Transaction;

/// Inbound exchanges: what SUTs sent to the simulated actors, in arrival order.
///
/// A scenario takes the exchange it waits for (a copy sharing the body bytes) and the inbox keeps
/// it for the rest of the run; so that a run of many scenarios, or a SUT that keeps calling, does
/// not hold every body it ever sent, the bodies of the oldest exchanges are dropped once the
/// bodies held pass a budget (the exchanges stay, with size and SHA-256 of their bodies).
#[derive(Debug, Default)]
pub struct Inbox {
    log: Mutex<InboxLog>,
    notify: Notify,
}

#[derive(Debug, Default)]
struct InboxLog {
    entries: Vec<Exchange>,
    /// Bytes of bodies (and multipart documents) held by the entries.
    held: u64,
    /// The most bytes held before the oldest bodies are dropped; 0: no limit.
    budget: u64,
    /// Entries before this one have had their bodies dropped.
    trimmed: usize,
}

fn held_bytes(ex: &Exchange) -> u64 {
    let mut n = ex.request.body.kept.len() as u64;
    if let Some(r) = &ex.response {
        n += r.body.kept.len() as u64;
    }
    if let Some(m) = &ex.multipart {
        n += m
            .parts
            .iter()
            .filter_map(|p| p.document.as_ref())
            .map(|d| d.len() as u64)
            .sum::<u64>();
    }
    n
}

fn drop_bodies(ex: &mut Exchange) {
    let drop = |b: &mut Body| {
        if !b.kept.is_empty() {
            b.kept = Bytes::new();
            b.complete = false;
        }
    };
    drop(&mut ex.request.body);
    if let Some(r) = ex.response.as_mut() {
        drop(&mut r.body);
    }
    if let Some(m) = ex.multipart.as_mut() {
        for p in &mut m.parts {
            p.document = None;
        }
    }
}

impl Inbox {
    /// How many exchanges arrived so far (a mark for [`Inbox::wait_for`]).
    pub fn len(&self) -> usize {
        self.log.lock().map(|l| l.entries.len()).unwrap_or(0)
    }

    /// True when nothing arrived.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The exchange at `index`, in arrival order.
    pub fn get(&self, index: usize) -> Option<Exchange> {
        self.log
            .lock()
            .ok()
            .and_then(|l| l.entries.get(index).cloned())
    }

    /// Hold at most `bytes` of bodies (0: no limit); past it the oldest exchanges lose theirs.
    pub fn set_budget(&self, bytes: u64) {
        let mut l = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        l.budget = bytes;
    }

    /// The bytes of bodies the inbox holds.
    pub fn held(&self) -> u64 {
        self.log.lock().map(|l| l.held).unwrap_or(0)
    }

    /// Record an inbound exchange (the simulators: XDS-I.b, MHD and DIMSE).
    pub(crate) fn push(&self, ex: Exchange) {
        if let Ok(mut l) = self.log.lock() {
            l.held += held_bytes(&ex);
            l.entries.push(ex);
            // The newest exchange keeps its body: its scenario has not taken it yet.
            while l.budget > 0 && l.held > l.budget && l.trimmed + 1 < l.entries.len() {
                let i = l.trimmed;
                let freed = held_bytes(&l.entries[i]);
                drop_bodies(&mut l.entries[i]);
                l.held = l.held.saturating_sub(freed);
                l.trimmed += 1;
            }
        }
        self.notify.notify_waiters();
    }

    /// The first exchange of `transaction` that arrived after `mark` and satisfies `matches`,
    /// waiting up to `timeout`.
    pub async fn wait_for(
        &self,
        mark: usize,
        transaction: Transaction,
        timeout: Duration,
        matches: &(dyn Fn(&Exchange) -> bool + Sync),
    ) -> Option<Exchange> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            if let Some(ex) = self.log.lock().ok().and_then(|l| {
                l.entries
                    .iter()
                    .skip(mark)
                    .find(|x| x.transaction == transaction && matches(x))
                    .cloned()
            }) {
                return Some(ex);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let _ = tokio::time::timeout(deadline - now, notified).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(body: usize) -> Exchange {
        let mut ex = Exchange::synthetic("http://x", &[], 200, &[], b"");
        ex.request.body = Body::from_bytes(Bytes::from(vec![b'x'; body]));
        ex
    }

    #[test]
    fn the_inbox_drops_the_oldest_bodies_past_its_budget() {
        let inbox = Inbox::default();
        inbox.set_budget(250);
        for _ in 0..3 {
            inbox.push(exchange(100));
        }
        assert_eq!(inbox.len(), 3);
        assert!(inbox.held() <= 250, "{}", inbox.held());
        let first = inbox.get(0).unwrap();
        assert!(first.request.body.kept.is_empty());
        assert!(!first.request.body.complete);
        assert_eq!(first.request.body.size, 100, "size and digest stay");
        assert_eq!(inbox.get(2).unwrap().request.body.kept.len(), 100);
        // The newest keeps its body even alone over the budget.
        inbox.push(exchange(1000));
        assert_eq!(inbox.get(3).unwrap().request.body.kept.len(), 1000);
    }
}
