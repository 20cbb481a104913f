//! Shard-local wake-ups (no locks, no atomics: everything lives on one executor).

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A level-triggered flag with waiters: `notify` sets it and wakes everyone; a `wait`
/// completes once the flag is set and clears it for the waiter that observed it
/// (single-consumer pattern) or, with `wait_any`, leaves it for others.
#[derive(Debug, Default)]
pub struct Signal {
    set: Cell<bool>,
    wakers: RefCell<Vec<Waker>>,
}

impl Signal {
    /// Sets the flag and wakes all waiters.
    pub fn notify(&self) {
        self.set.set(true);
        for waker in self.wakers.borrow_mut().drain(..) {
            waker.wake();
        }
    }

    /// Waits until notified, then clears the flag.
    pub fn wait(&self) -> SignalWait<'_> {
        SignalWait { signal: self }
    }
}

/// Future of [`Signal::wait`].
pub struct SignalWait<'a> {
    signal: &'a Signal,
}

impl Future for SignalWait<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.set.replace(false) {
            return Poll::Ready(());
        }
        let mut wakers = self.signal.wakers.borrow_mut();
        if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Waiters for a monotonically growing offset (the commit log's visible end): a min-heap by
/// target, so registering and waking are O(log n) with hundreds of appends in flight.
#[derive(Debug, Default)]
pub struct OffsetWaiters {
    waiters: RefCell<BinaryHeap<Reverse<Waiter>>>,
    sequence: Cell<u64>,
}

#[derive(Debug)]
struct Waiter {
    target: u64,
    sequence: u64,
    waker: Waker,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        (self.target, self.sequence) == (other.target, other.sequence)
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.target, self.sequence).cmp(&(other.target, other.sequence))
    }
}

impl OffsetWaiters {
    /// Registers `waker` to be woken when the offset reaches `target` (a re-poll registers
    /// again; a duplicate wake is harmless).
    pub fn register(&self, target: u64, waker: &Waker) {
        let sequence = self.sequence.get();
        self.sequence.set(sequence + 1);
        self.waiters.borrow_mut().push(Reverse(Waiter {
            target,
            sequence,
            waker: waker.clone(),
        }));
    }

    /// Wakes every waiter whose target is `<= reached`.
    pub fn advance(&self, reached: u64) {
        let mut ready = Vec::new();
        {
            let mut waiters = self.waiters.borrow_mut();
            while waiters.peek().is_some_and(|w| w.0.target <= reached) {
                if let Some(Reverse(waiter)) = waiters.pop() {
                    ready.push(waiter.waker);
                }
            }
        }
        for waker in ready {
            waker.wake();
        }
    }

    /// Wakes every waiter (failure or shutdown).
    pub fn wake_all(&self) {
        let all: Vec<Reverse<Waiter>> = self.waiters.borrow_mut().drain().collect();
        for Reverse(waiter) in all {
            waiter.waker.wake();
        }
    }
}

/// A broadcast event: every `wait` created before a `notify` completes after it. Safe for
/// many waiters (unlike [`Signal`], whose flag one waiter consumes). A waiter must create its
/// `wait` future before yielding after the check that made it wait, so nothing is missed.
#[derive(Debug, Default)]
pub struct Broadcast {
    epoch: Cell<u64>,
    wakers: RefCell<Vec<Waker>>,
}

impl Broadcast {
    /// Wakes every current waiter.
    pub fn notify(&self) {
        self.epoch.set(self.epoch.get() + 1);
        for waker in self.wakers.borrow_mut().drain(..) {
            waker.wake();
        }
    }

    /// Waits for the next `notify`.
    pub fn wait(&self) -> BroadcastWait<'_> {
        BroadcastWait {
            broadcast: self,
            epoch: self.epoch.get(),
        }
    }
}

/// Future of [`Broadcast::wait`].
pub struct BroadcastWait<'a> {
    broadcast: &'a Broadcast,
    epoch: u64,
}

impl Future for BroadcastWait<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.broadcast.epoch.get() != self.epoch {
            return Poll::Ready(());
        }
        self.broadcast.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}
