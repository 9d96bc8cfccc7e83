//! A block device whose driver may be replaced under it: when the serving
//! driver fails (`BlockError::DriverFailed`, a contained fault), the
//! supervisor asks its recovery policy for a replacement (a restarted
//! instance of the same driver, or another driver) bound to the same
//! function, and re-issues the request that failed, so the file system above
//! sees no error. The policy decides how often and with what; the supervisor
//! bounds the replacements one request may cause.
//!
//! Re-issuing is safe because every block request is idempotent: a read
//! fills the same buffer again; a write the failed driver may have partly
//! performed is written again in full; a flush flushes again. Requests that
//! completed before the failure were acknowledged and stay done.

use alloc::boxed::Box;
use alloc::string::String;

use ddk::{BlockDevice, BlockError, Lba};

/// Binds a replacement driver for the same device; returns it and its name.
/// Called with the replacements made so far; `Err` means the policy has
/// nothing left to offer.
pub type Fallback = Box<dyn FnMut(Attempt) -> Result<(Box<dyn BlockDevice>, &'static str), String>>;

/// Which replacement the policy is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Replacements made on this device so far (0 for the first failure).
    pub total: u32,
    /// Replacements made for the request that failed now (0 the first time
    /// it failed): a policy backs off on repeated failures of one request,
    /// not on failures spread over many requests that each recovered.
    pub in_request: u32,
}

/// Replacements one request may cause before its failure is returned.
const MAX_REPLACEMENTS_PER_REQUEST: u32 = 16;

/// See the module documentation.
pub struct Supervised {
    current: Box<dyn BlockDevice>,
    driver: &'static str,
    fallback: Option<Fallback>,
    /// What the device was called, for the log.
    label: String,
    replacements: u32,
    /// The driver failed and nothing replaced it: every request fails
    /// without reaching it.
    failed: bool,
}

impl Supervised {
    /// `current` served by `driver`; `fallback` (if any) is asked for a
    /// replacement on every driver failure until it gives up.
    pub fn new(
        label: String,
        current: Box<dyn BlockDevice>,
        driver: &'static str,
        fallback: Option<Fallback>,
    ) -> Supervised {
        Supervised {
            current,
            driver,
            fallback,
            label,
            replacements: 0,
            failed: false,
        }
    }

    /// The driver serving the device now.
    pub fn driver(&self) -> &'static str {
        self.driver
    }

    /// How many times the driver was replaced.
    pub fn replacements(&self) -> u32 {
        self.replacements
    }

    /// Replaces the driver on purpose (live replacement): flushes the
    /// current one (its completed writes made durable; a driver here serves
    /// one request at a time, so nothing else is in flight), drops it (which
    /// unbinds it: a native driver resets its device, a managed one runs its
    /// `Unregister`), then installs what `bind` brings up, with `policy` as
    /// the new recovery policy. If the flush fails nothing changes; if `bind`
    /// fails (or brings up another geometry) the device is failed, and the
    /// caller may rebind again. Returns (flush, unbind, bind) in `clock` units.
    pub fn rebind(
        &mut self,
        clock: fn() -> u64,
        bind: impl FnOnce() -> Result<(Box<dyn BlockDevice>, &'static str), String>,
        policy: Option<Fallback>,
    ) -> Result<(u64, u64, u64), String> {
        let t0 = clock();
        if !self.failed {
            self.current
                .flush()
                .map_err(|e| alloc::format!("flush before unbinding {}: {e}", self.driver))?;
        }
        let t1 = clock();
        let (blocks, block_size) = (self.current.block_count(), self.current.block_size());
        let old = core::mem::replace(&mut self.current, Box::new(Detached { blocks, block_size }));
        drop(old);
        self.failed = true;
        let t2 = clock();
        let (dev, name) = bind()?;
        if dev.block_size() != block_size || dev.block_count() != blocks {
            return Err(alloc::format!(
                "{name} sees a different geometry ({} x {} B, was {blocks} x {block_size} B)",
                dev.block_count(),
                dev.block_size()
            ));
        }
        let t3 = clock();
        log::info!(
            "supervisor: {}: {} replaced by {} on request",
            self.label,
            self.driver,
            name
        );
        self.current = dev;
        self.driver = name;
        self.fallback = policy;
        self.failed = false;
        Ok((t1 - t0, t2 - t1, t3 - t2))
    }

    /// Replaces the failed driver; `Err` keeps the failure.
    fn replace(&mut self, what: &str, in_request: u32) -> Result<(), BlockError> {
        let Some(fallback) = self.fallback.as_mut() else {
            log::error!(
                "supervisor: {}: {} failed and there is no fallback: the device is failed",
                self.label,
                self.driver
            );
            return Err(BlockError::DriverFailed);
        };
        match fallback(Attempt {
            total: self.replacements,
            in_request,
        }) {
            Ok((dev, name)) => {
                if dev.block_size() != self.current.block_size()
                    || dev.block_count() != self.current.block_count()
                {
                    log::error!(
                        "supervisor: {}: {} sees a different geometry ({} x {} B, was {} x {} B): not used",
                        self.label,
                        name,
                        dev.block_count(),
                        dev.block_size(),
                        self.current.block_count(),
                        self.current.block_size()
                    );
                    self.fallback = None;
                    return Err(BlockError::DriverFailed);
                }
                log::warn!(
                    "supervisor: {}: {} replaced by {}; re-issuing the {}",
                    self.label,
                    self.driver,
                    name,
                    what
                );
                self.current = dev;
                self.driver = name;
                self.replacements += 1;
                Ok(())
            }
            Err(e) => {
                log::error!(
                    "supervisor: {}: no replacement for {}: {}: the device is failed",
                    self.label,
                    self.driver,
                    e
                );
                self.fallback = None;
                Err(BlockError::DriverFailed)
            }
        }
    }

    fn supervise(
        &mut self,
        what: impl Fn() -> String,
        mut op: impl FnMut(&mut dyn BlockDevice) -> Result<(), BlockError>,
    ) -> Result<(), BlockError> {
        if self.failed {
            return Err(BlockError::DriverFailed);
        }
        let mut tries = 0;
        loop {
            match op(&mut *self.current) {
                Err(BlockError::DriverFailed) if tries < MAX_REPLACEMENTS_PER_REQUEST => {
                    tries += 1;
                    if let Err(e) = self.replace(&what(), tries - 1) {
                        self.failed = true;
                        return Err(e);
                    }
                }
                r => return r,
            }
        }
    }
}

/// Stands in while a device has no driver (between unbind and bind).
struct Detached {
    blocks: u64,
    block_size: usize,
}

impl BlockDevice for Detached {
    fn block_size(&self) -> usize {
        self.block_size
    }
    fn block_count(&self) -> u64 {
        self.blocks
    }
    fn is_read_only(&self) -> bool {
        false
    }
    fn read_blocks(&mut self, _: Lba, _: &mut [u8]) -> Result<(), BlockError> {
        Err(BlockError::DriverFailed)
    }
    fn write_blocks(&mut self, _: Lba, _: &[u8]) -> Result<(), BlockError> {
        Err(BlockError::DriverFailed)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        Err(BlockError::DriverFailed)
    }
}

impl BlockDevice for Supervised {
    fn block_size(&self) -> usize {
        self.current.block_size()
    }
    fn block_count(&self) -> u64 {
        self.current.block_count()
    }
    fn is_read_only(&self) -> bool {
        self.current.is_read_only()
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        let n = buf.len();
        self.supervise(
            || alloc::format!("read of {n} bytes at LBA {}", lba.as_u64()),
            |d| d.read_blocks(lba, buf),
        )
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        self.supervise(
            || alloc::format!("write of {} bytes at LBA {}", buf.len(), lba.as_u64()),
            |d| d.write_blocks(lba, buf),
        )
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        self.supervise(|| String::from("flush"), |d| d.flush())
    }
    fn read_many(&mut self, reqs: &mut [ddk::ReadRequest<'_>]) -> Result<(), BlockError> {
        let n = reqs.len();
        // Reads are idempotent: a replacement driver re-issues the batch whole.
        self.supervise(
            || alloc::format!("batch of {n} reads"),
            |d| d.read_many(reqs),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use alloc::vec;
    use core::cell::Cell;

    /// A disk that serves `ok` requests, then reports its driver failed.
    struct Flaky {
        ok: u32,
        blocks: u64,
    }

    impl BlockDevice for Flaky {
        fn block_size(&self) -> usize {
            512
        }
        fn block_count(&self) -> u64 {
            self.blocks
        }
        fn is_read_only(&self) -> bool {
            false
        }
        fn read_blocks(&mut self, _: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
            if self.ok == 0 {
                return Err(BlockError::DriverFailed);
            }
            self.ok -= 1;
            buf.fill(7);
            Ok(())
        }
        fn write_blocks(&mut self, _: Lba, _: &[u8]) -> Result<(), BlockError> {
            Err(BlockError::Io)
        }
        fn flush(&mut self) -> Result<(), BlockError> {
            Ok(())
        }
    }

    fn flaky(ok: u32) -> Box<dyn BlockDevice> {
        Box::new(Flaky { ok, blocks: 8 })
    }

    #[test]
    fn restarts_then_gives_up_and_stays_failed() {
        let calls = Rc::new(Cell::new(0u32));
        let c = calls.clone();
        // Two restarts, each serving one request, then nothing.
        let policy: Fallback = Box::new(move |a: Attempt| {
            c.set(c.get() + 1);
            if a.total < 2 {
                Ok((flaky(1), "restarted"))
            } else {
                Err(String::from("restarts used up"))
            }
        });
        let mut s = Supervised::new(String::from("t"), flaky(1), "first", Some(policy));
        let mut buf = vec![0u8; 512];
        for _ in 0..3 {
            assert_eq!(s.read_blocks(Lba::new(0), &mut buf), Ok(()));
        }
        assert_eq!(s.replacements(), 2);
        assert_eq!(s.driver(), "restarted");
        assert_eq!(
            s.read_blocks(Lba::new(0), &mut buf),
            Err(BlockError::DriverFailed)
        );
        assert_eq!(
            s.read_blocks(Lba::new(0), &mut buf),
            Err(BlockError::DriverFailed)
        );
        assert_eq!(
            calls.get(),
            3,
            "the policy is not asked again once it gave up"
        );
        // A failed device fails every request without reaching the driver.
        assert_eq!(
            s.write_blocks(Lba::new(0), &buf),
            Err(BlockError::DriverFailed)
        );
    }

    #[test]
    fn a_policy_that_never_helps_is_bounded_per_request() {
        let policy: Fallback = Box::new(|_| Ok((flaky(0), "useless")));
        let mut s = Supervised::new(String::from("t"), flaky(0), "first", Some(policy));
        let mut buf = vec![0u8; 512];
        assert_eq!(
            s.read_blocks(Lba::new(0), &mut buf),
            Err(BlockError::DriverFailed)
        );
        assert_eq!(s.replacements(), MAX_REPLACEMENTS_PER_REQUEST);
    }

    #[test]
    fn a_replacement_with_another_geometry_is_refused() {
        let policy: Fallback = Box::new(|_| Ok((Box::new(Flaky { ok: 9, blocks: 9 }), "bigger")));
        let mut s = Supervised::new(String::from("t"), flaky(0), "first", Some(policy));
        let mut buf = vec![0u8; 512];
        assert_eq!(
            s.read_blocks(Lba::new(0), &mut buf),
            Err(BlockError::DriverFailed)
        );
        assert_eq!(s.driver(), "first");
        assert_eq!(s.block_count(), 8);
    }

    fn no_clock() -> u64 {
        0
    }

    #[test]
    fn rebind_swaps_the_driver_and_a_failed_bind_leaves_the_device_failed() {
        let mut s = Supervised::new(String::from("t"), flaky(5), "first", None);
        let mut buf = vec![0u8; 512];
        s.rebind(no_clock, || Ok((flaky(2), "second")), None)
            .unwrap();
        assert_eq!(s.driver(), "second");
        assert_eq!(s.read_blocks(Lba::new(0), &mut buf), Ok(()));
        let e = s.rebind(no_clock, || Err(String::from("no such driver")), None);
        assert_eq!(e, Err(String::from("no such driver")));
        assert_eq!(
            s.read_blocks(Lba::new(0), &mut buf),
            Err(BlockError::DriverFailed)
        );
        // A later rebind brings it back (no flush of the failed driver).
        s.rebind(no_clock, || Ok((flaky(1), "third")), None)
            .unwrap();
        assert_eq!(s.read_blocks(Lba::new(0), &mut buf), Ok(()));
        let e = s.rebind(
            no_clock,
            || {
                Ok((
                    Box::new(Flaky { ok: 1, blocks: 9 }) as Box<dyn BlockDevice>,
                    "big",
                ))
            },
            None,
        );
        assert!(e.unwrap_err().contains("different geometry"));
    }

    #[test]
    fn a_batch_of_reads_is_reissued_whole_on_the_replacement() {
        // The first driver fails on the second read of the batch; the
        // replacement serves the whole batch again.
        let policy: Fallback = Box::new(|_| Ok((flaky(3), "replacement")));
        let mut s = Supervised::new(String::from("t"), flaky(1), "first", Some(policy));
        let mut bufs = [[0u8; 512]; 3];
        let [a, b, c] = &mut bufs;
        let mut reqs = [a, b, c].map(|buf| ddk::ReadRequest {
            lba: Lba::new(1),
            buf: &mut buf[..],
        });
        assert_eq!(s.read_many(&mut reqs), Ok(()));
        assert_eq!(s.driver(), "replacement");
        assert_eq!(s.replacements(), 1);
        assert!(bufs.iter().all(|b| b.iter().all(|&x| x == 7)));
    }

    #[test]
    fn other_errors_pass_through_without_replacement() {
        let policy: Fallback = Box::new(|_| panic!("not a driver failure"));
        let mut s = Supervised::new(String::from("t"), flaky(5), "first", Some(policy));
        assert_eq!(
            s.write_blocks(Lba::new(0), &[0u8; 512]),
            Err(BlockError::Io)
        );
        assert_eq!(s.replacements(), 0);
    }
}
