//! The virtio transport abstraction (virtio 1.2 §4.1: virtio over PCI) and
//! the device initialisation sequence every transport shares (§3.1.1).
//! Two transports exist — modern (§4.1.4) and legacy (§4.1.4.8) — and the set
//! is closed, so [`SomeTransport`] is an enum rather than a `dyn`.
#![forbid(unsafe_code)]

pub mod legacy;
pub mod modern;

use core::fmt;

use ddk::abi::DdkError;
use ddk::driver::BindError;
use ddk::virtio::{features, status, SplitRingLayout};
use ddk::PhysAddr;

pub use legacy::LegacyTransport;
pub use modern::ModernTransport;

/// Why a device could not be brought up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InitError {
    /// A platform call failed.
    Platform(DdkError),
    /// The device lacks something this driver needs.
    Unsupported(&'static str),
    /// The device broke the spec during initialisation.
    Device(&'static str),
    /// The device cleared FEATURES_OK: it rejected our feature subset (§3.1.1 step 6).
    FeaturesRejected,
    /// The device did not finish a reset within the spin budget.
    ResetTimeout,
}

impl From<DdkError> for InitError {
    fn from(e: DdkError) -> Self {
        InitError::Platform(e)
    }
}

impl From<InitError> for BindError {
    fn from(e: InitError) -> Self {
        match e {
            InitError::Platform(p) => BindError::Platform(p),
            InitError::Unsupported(w) => BindError::Unsupported(w),
            InitError::Device(w) => BindError::Device(w),
            InitError::FeaturesRejected => {
                BindError::Device("device rejected the negotiated features")
            }
            InitError::ResetTimeout => BindError::Device("device did not complete reset"),
        }
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        BindError::from(*self).fmt(f)
    }
}

/// Register access common to both PCI transports.
pub trait Transport {
    /// Legacy devices: 32 feature bits, no FEATURES_OK step, fixed queue size,
    /// one contiguous ring given by page number.
    fn is_legacy(&self) -> bool;
    fn device_features(&self) -> Result<u64, DdkError>;
    fn set_driver_features(&self, features: u64) -> Result<(), DdkError>;
    fn status(&self) -> Result<u8, DdkError>;
    fn set_status(&self, status: u8) -> Result<(), DdkError>;
    /// Maximum (modern) or fixed (legacy) size of `queue`; 0 if it does not exist.
    fn max_queue_size(&self, queue: u16) -> Result<u16, DdkError>;
    /// Tells the device where queue `queue` of `size` entries lives and enables it.
    fn activate_queue(
        &mut self,
        queue: u16,
        size: u16,
        ring: PhysAddr,
        layout: &SplitRingLayout,
    ) -> Result<(), InitError>;
    /// Notifies the device that queue `queue` has new buffers.
    fn notify(&self, queue: u16) -> Result<(), DdkError>;
    /// Points `queue`'s interrupt at MSI-X table entry `vector` (modern
    /// §4.1.4.3: before the queue is enabled); `Ok(true)` if the device took
    /// it (it reads back NO_VECTOR when it could not). Legacy: no.
    fn set_queue_vector(&self, queue: u16, vector: u16) -> Result<bool, DdkError> {
        let _ = (queue, vector);
        Ok(false)
    }
    /// Reads (and so clears) the ISR status, deasserting INTx (§4.1.4.5);
    /// only the legacy transport, which the driver runs on INTx, needs it.
    fn ack_interrupt(&self) -> Result<u8, DdkError> {
        Ok(0)
    }
    /// Device-specific configuration reads.
    fn config_read_u8(&self, offset: usize) -> Result<u8, DdkError>;
    fn config_read_u32(&self, offset: usize) -> Result<u32, DdkError>;
    /// `config_generation` (§4.1.4.3); legacy devices have none (always 0).
    fn config_generation(&self) -> Result<u8, DdkError> {
        Ok(0)
    }

    /// A 64-bit config field read as two 32-bit halves, retried until the
    /// generation is stable so the halves belong together (§2.5.1).
    fn config_read_u64(&self, offset: usize) -> Result<u64, InitError> {
        for _ in 0..16 {
            let g0 = self.config_generation()?;
            let lo = self.config_read_u32(offset)?;
            let hi = self.config_read_u32(offset + 4)?;
            if self.config_generation()? == g0 {
                return Ok((hi as u64) << 32 | lo as u64);
            }
        }
        Err(InitError::Device("configuration generation never settled"))
    }

    /// Resets the device and waits until it reads back 0 (§2.4, §4.1.4.3.2:
    /// the driver must not reinitialise before the reset completes; only then
    /// may ring memory the device knew about be reused or freed).
    fn reset(&self, spin_budget: u32) -> Result<(), InitError> {
        self.set_status(0)?;
        for _ in 0..spin_budget.max(1) {
            if self.status()? == 0 {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(InitError::ResetTimeout)
    }

    /// Steps 1–6 of §3.1.1: reset, ACKNOWLEDGE, DRIVER, read the offered
    /// features, accept `supported ∩ offered`, and (modern) set FEATURES_OK and
    /// check the device kept it. Returns the negotiated features; the caller
    /// does step 7 (queues, config) and then [`Transport::finish_init`].
    fn begin_init(&self, supported: u64, reset_spins: u32) -> Result<u64, InitError> {
        self.reset(reset_spins)?;
        self.set_status(status::ACKNOWLEDGE)?;
        self.set_status(status::ACKNOWLEDGE | status::DRIVER)?;
        let offered = self.device_features()?;
        let mut wanted = supported & offered;
        if self.is_legacy() {
            wanted &= 0xffff_ffff;
        } else {
            if offered & features::VERSION_1 == 0 {
                self.fail();
                return Err(InitError::Unsupported(
                    "modern device does not offer VIRTIO_F_VERSION_1",
                ));
            }
            wanted |= features::VERSION_1;
        }
        self.set_driver_features(wanted)?;
        if !self.is_legacy() {
            self.set_status(status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK)?;
            if self.status()? & status::FEATURES_OK == 0 {
                self.fail();
                return Err(InitError::FeaturesRejected);
            }
        }
        Ok(wanted)
    }

    /// Step 8 of §3.1.1: DRIVER_OK; the device is live.
    fn finish_init(&self) -> Result<(), InitError> {
        let s = self.status()?;
        if s & status::FAILED != 0 || s & status::DEVICE_NEEDS_RESET != 0 {
            return Err(InitError::Device(
                "device reported FAILED/NEEDS_RESET during init",
            ));
        }
        self.set_status(s | status::DRIVER_OK)?;
        Ok(())
    }

    /// Sets FAILED (§3.1.1: "if any of these steps go irrecoverably wrong").
    fn fail(&self) {
        if let Ok(s) = self.status() {
            let _ = self.set_status(s | status::FAILED);
        }
    }
}

/// The closed set of transports.
#[derive(Debug)]
pub enum SomeTransport {
    Modern(ModernTransport),
    Legacy(LegacyTransport),
}

macro_rules! delegate {
    ($self:ident, $t:ident => $e:expr) => {
        match $self {
            SomeTransport::Modern($t) => $e,
            SomeTransport::Legacy($t) => $e,
        }
    };
}

impl Transport for SomeTransport {
    fn is_legacy(&self) -> bool {
        delegate!(self, t => t.is_legacy())
    }
    fn device_features(&self) -> Result<u64, DdkError> {
        delegate!(self, t => t.device_features())
    }
    fn set_driver_features(&self, f: u64) -> Result<(), DdkError> {
        delegate!(self, t => t.set_driver_features(f))
    }
    fn status(&self) -> Result<u8, DdkError> {
        delegate!(self, t => t.status())
    }
    fn set_status(&self, s: u8) -> Result<(), DdkError> {
        delegate!(self, t => t.set_status(s))
    }
    fn max_queue_size(&self, q: u16) -> Result<u16, DdkError> {
        delegate!(self, t => t.max_queue_size(q))
    }
    fn activate_queue(
        &mut self,
        q: u16,
        size: u16,
        ring: PhysAddr,
        l: &SplitRingLayout,
    ) -> Result<(), InitError> {
        delegate!(self, t => t.activate_queue(q, size, ring, l))
    }
    fn notify(&self, q: u16) -> Result<(), DdkError> {
        delegate!(self, t => t.notify(q))
    }
    fn set_queue_vector(&self, q: u16, v: u16) -> Result<bool, DdkError> {
        delegate!(self, t => t.set_queue_vector(q, v))
    }
    fn ack_interrupt(&self) -> Result<u8, DdkError> {
        delegate!(self, t => t.ack_interrupt())
    }
    fn config_read_u8(&self, o: usize) -> Result<u8, DdkError> {
        delegate!(self, t => t.config_read_u8(o))
    }
    fn config_read_u32(&self, o: usize) -> Result<u32, DdkError> {
        delegate!(self, t => t.config_read_u32(o))
    }
    fn config_generation(&self) -> Result<u8, DdkError> {
        delegate!(self, t => t.config_generation())
    }
}
