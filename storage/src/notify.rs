//! Shard-local wake-ups (no locks, no atomics: everything lives on one executor).

use std::cell::{Cell, RefCell};
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

/// Waiters for a monotonically growing offset (the commit log's visible end).
#[derive(Debug, Default)]
pub struct OffsetWaiters {
    waiters: RefCell<Vec<(u64, Waker)>>,
}

impl OffsetWaiters {
    /// Registers `waker` to be woken when the offset reaches `target`.
    pub fn register(&self, target: u64, waker: &Waker) {
        let mut waiters = self.waiters.borrow_mut();
        if let Some(entry) = waiters
            .iter_mut()
            .find(|(t, w)| *t == target && w.will_wake(waker))
        {
            entry.1.clone_from(waker);
            return;
        }
        waiters.push((target, waker.clone()));
    }

    /// Wakes every waiter whose target is `<= reached`.
    pub fn advance(&self, reached: u64) {
        let ready: Vec<Waker> = {
            let mut waiters = self.waiters.borrow_mut();
            let mut ready = Vec::new();
            waiters.retain(|(target, waker)| {
                if *target <= reached {
                    ready.push(waker.clone());
                    false
                } else {
                    true
                }
            });
            ready
        };
        for waker in ready {
            waker.wake();
        }
    }

    /// Wakes every waiter (failure or shutdown).
    pub fn wake_all(&self) {
        let all: Vec<(u64, Waker)> = self.waiters.borrow_mut().drain(..).collect();
        for (_, waker) in all {
            waker.wake();
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
