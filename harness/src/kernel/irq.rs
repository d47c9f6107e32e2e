//! A CPU's interrupt and preemption state and the assertions on it: `local_irq_*()`,
//! `preempt_*()`, `spin_lock_irqsave()`, `might_sleep()`, `lockdep_assert_*()`.
//!
//! The state is the running actor's own (per CPU), kept as ghost state: interrupts are not
//! modelled, so disabling them changes no execution, only what the assertions see. Each
//! assertion is a property with the kernel's name; list it in a model's properties when some
//! variant can break it (an unlisted one still fails as unexpected).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

use crate::rt::{actor_local, violation};
use crate::sync::{Mutex, MutexGuard};

/// `lockdep_assert_irqs_disabled()` failed.
pub const LOCKDEP_ASSERT_IRQS_DISABLED: &str = "lockdep-assert-irqs-disabled";
/// `lockdep_assert_irqs_enabled()` failed.
pub const LOCKDEP_ASSERT_IRQS_ENABLED: &str = "lockdep-assert-irqs-enabled";
/// `lockdep_assert_held()` failed.
pub const LOCKDEP_ASSERT_HELD: &str = "lockdep-assert-held";
/// `lockdep_assert_preemption_disabled()` failed.
pub const LOCKDEP_ASSERT_PREEMPTION_DISABLED: &str = "lockdep-assert-preemption-disabled";
/// `might_sleep()`: "BUG: sleeping function called from invalid context".
pub const MIGHT_SLEEP: &str = "might-sleep";
/// `schedule_debug()`: "BUG: scheduling while atomic".
pub const SCHEDULING_WHILE_ATOMIC: &str = "scheduling-while-atomic";
/// `preempt_count_sub()`'s `DEBUG_LOCKS_WARN_ON(val > preempt_count())`.
pub const PREEMPT_COUNT_UNDERFLOW: &str = "preempt-count-underflow";

/// The running CPU's interrupt and preemption state.
#[derive(Default)]
struct CpuState {
    irqs_off: AtomicBool,
    preempt_count: AtomicU32,
}

fn cpu() -> Arc<CpuState> {
    actor_local(CpuState::default)
}

/// Saved interrupt state (`unsigned long flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct IrqFlags {
    irqs_off: bool,
}

/// `local_irq_disable()`.
pub fn local_irq_disable() {
    cpu().irqs_off.store(true, Relaxed);
}

/// `local_irq_enable()`.
pub fn local_irq_enable() {
    cpu().irqs_off.store(false, Relaxed);
}

/// `local_irq_save(flags)`: disables interrupts, returns the previous state.
pub fn local_irq_save() -> IrqFlags {
    IrqFlags {
        irqs_off: cpu().irqs_off.swap(true, Relaxed),
    }
}

/// `local_irq_restore(flags)`.
pub fn local_irq_restore(flags: IrqFlags) {
    cpu().irqs_off.store(flags.irqs_off, Relaxed);
}

/// `irqs_disabled()`.
pub fn irqs_disabled() -> bool {
    cpu().irqs_off.load(Relaxed)
}

/// `preempt_disable()`: `preempt_count_inc()` (the engines still switch CPUs: preemption of
/// the modelled CPU by another task is not modelled).
pub fn preempt_disable() {
    cpu().preempt_count.fetch_add(1, Relaxed);
}

/// `preempt_enable()`: `preempt_count_dec()`; below zero is [`PREEMPT_COUNT_UNDERFLOW`].
pub fn preempt_enable() {
    let c = cpu();
    let n = c.preempt_count.load(Relaxed);
    if n == 0 {
        violation(
            PREEMPT_COUNT_UNDERFLOW,
            "preempt_enable() with preempt_count() == 0".into(),
        );
        return;
    }
    c.preempt_count.store(n - 1, Relaxed);
}

/// `preempt_count()` (the preemption-disable depth only).
pub fn preempt_count() -> u32 {
    cpu().preempt_count.load(Relaxed)
}

/// `lockdep_assert_irqs_disabled()`.
pub fn lockdep_assert_irqs_disabled() {
    if !irqs_disabled() {
        violation(
            LOCKDEP_ASSERT_IRQS_DISABLED,
            "lockdep_assert_irqs_disabled() with interrupts enabled".into(),
        );
    }
}

/// `lockdep_assert_irqs_enabled()`.
pub fn lockdep_assert_irqs_enabled() {
    if irqs_disabled() {
        violation(
            LOCKDEP_ASSERT_IRQS_ENABLED,
            "lockdep_assert_irqs_enabled() with interrupts disabled".into(),
        );
    }
}

/// `lockdep_assert_preemption_disabled()`.
pub fn lockdep_assert_preemption_disabled() {
    if preempt_count() == 0 && !irqs_disabled() {
        violation(
            LOCKDEP_ASSERT_PREEMPTION_DISABLED,
            "lockdep_assert_preemption_disabled() with preemption enabled".into(),
        );
    }
}

/// `lockdep_assert_held(lock)`: the running actor holds `lock`.
pub fn lockdep_assert_held<T>(lock: &Mutex<T>) {
    if !lock.held_by_current() {
        violation(
            LOCKDEP_ASSERT_HELD,
            format!(
                "lockdep_assert_held({}) without holding it",
                lock.name().unwrap_or("lock")
            ),
        );
    }
}

/// `might_sleep()` (`__might_sleep()`): sleeping with interrupts or preemption disabled is
/// "BUG: sleeping function called from invalid context" ([`MIGHT_SLEEP`]).
pub fn might_sleep() {
    let (off, count) = (irqs_disabled(), preempt_count());
    if off || count != 0 {
        violation(
            MIGHT_SLEEP,
            format!(
                "sleeping function called from invalid context: irqs_disabled(): {}, \
                 preempt_count(): {count}",
                u8::from(off)
            ),
        );
    }
}

/// `schedule_debug()`: `schedule()` with preemption disabled is "BUG: scheduling while atomic"
/// ([`SCHEDULING_WHILE_ATOMIC`]).
pub(super) fn schedule_debug() {
    let count = preempt_count();
    if count != 0 {
        violation(
            SCHEDULING_WHILE_ATOMIC,
            format!("scheduling while atomic: preempt_count() = {count}"),
        );
    }
}

/// A spinlock held with interrupts (and preemption) disabled; dropping it is
/// `spin_unlock_irqrestore()` (or `spin_unlock_irq()`).
pub struct IrqGuard<'a, T> {
    guard: Option<MutexGuard<'a, T>>,
    /// What to restore: `Some` for `irqsave`, `None` for `spin_lock_irq()` (enable).
    flags: Option<IrqFlags>,
}

impl<T> std::ops::Deref for IrqGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("held")
    }
}

impl<T> std::ops::DerefMut for IrqGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("held")
    }
}

impl<T> Drop for IrqGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.guard.take());
        match self.flags {
            Some(f) => local_irq_restore(f),
            None => local_irq_enable(),
        }
        if !std::thread::panicking() {
            preempt_enable();
        }
    }
}

/// `spin_lock_irqsave(lock, flags)`: `local_irq_save()`, `preempt_disable()`, `spin_lock()`.
pub fn spin_lock_irqsave<T>(lock: &Mutex<T>) -> IrqGuard<'_, T> {
    let flags = local_irq_save();
    preempt_disable();
    IrqGuard {
        guard: Some(lock.lock()),
        flags: Some(flags),
    }
}

/// `spin_unlock_irqrestore(lock, flags)`: `spin_unlock()`, `local_irq_restore()`,
/// `preempt_enable()`.
pub fn spin_unlock_irqrestore<T>(g: IrqGuard<'_, T>) {
    drop(g)
}

/// `spin_lock_irq(lock)`: `local_irq_disable()`, `preempt_disable()`, `spin_lock()`.
pub fn spin_lock_irq<T>(lock: &Mutex<T>) -> IrqGuard<'_, T> {
    local_irq_disable();
    preempt_disable();
    IrqGuard {
        guard: Some(lock.lock()),
        flags: None,
    }
}

/// `spin_unlock_irq(lock)`: `spin_unlock()`, `local_irq_enable()`, `preempt_enable()`.
pub fn spin_unlock_irq<T>(g: IrqGuard<'_, T>) {
    drop(g)
}
