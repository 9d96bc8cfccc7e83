//! Virtio 1.2 wire structures (OASIS virtio v1.2): device status (§2.1),
//! feature bits (§2.2, §6, §5.2.3), split virtqueues (§2.7), the PCI
//! capabilities and common configuration (§4.1.4), the legacy PCI register
//! layout (§4.1.4.8), and virtio-blk configuration and requests (§5.2.4,
//! §5.2.6). All device-visible structures are `#[repr(C)]`, little-endian
//! and alignment 1 (zerocopy `little_endian` types), so their byte layout is
//! exactly the spec's, checked by `const` size assertions.

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// PCI vendor id of virtio devices.
pub const VIRTIO_VENDOR_ID: u16 = 0x1af4;
/// Transitional virtio-blk (legacy I/O BAR, maybe modern capabilities too).
pub const VIRTIO_BLK_TRANSITIONAL_ID: u16 = 0x1001;
/// Modern-only virtio-blk: 0x1040 + device type 2 (§4.1.2).
pub const VIRTIO_BLK_MODERN_ID: u16 = 0x1042;
/// Virtio device type of a block device (§5).
pub const VIRTIO_DEVICE_TYPE_BLOCK: u16 = 2;

/// Device status bits (§2.1).
pub mod status {
    pub const ACKNOWLEDGE: u8 = 1;
    pub const DRIVER: u8 = 2;
    pub const DRIVER_OK: u8 = 4;
    pub const FEATURES_OK: u8 = 8;
    pub const DEVICE_NEEDS_RESET: u8 = 64;
    pub const FAILED: u8 = 128;
}

/// Feature bits: device-independent (§6) and virtio-blk (§5.2.3).
pub mod features {
    pub const BLK_SIZE_MAX: u64 = 1 << 1;
    pub const BLK_SEG_MAX: u64 = 1 << 2;
    pub const BLK_GEOMETRY: u64 = 1 << 4;
    pub const BLK_RO: u64 = 1 << 5;
    pub const BLK_BLK_SIZE: u64 = 1 << 6;
    pub const BLK_FLUSH: u64 = 1 << 9;
    pub const BLK_TOPOLOGY: u64 = 1 << 10;
    pub const BLK_CONFIG_WCE: u64 = 1 << 11;
    pub const BLK_MQ: u64 = 1 << 12;
    pub const BLK_DISCARD: u64 = 1 << 13;
    pub const BLK_WRITE_ZEROES: u64 = 1 << 14;
    pub const BLK_LIFETIME: u64 = 1 << 15;
    pub const BLK_SECURE_ERASE: u64 = 1 << 16;
    pub const INDIRECT_DESC: u64 = 1 << 28;
    pub const EVENT_IDX: u64 = 1 << 29;
    pub const VERSION_1: u64 = 1 << 32;
    pub const ACCESS_PLATFORM: u64 = 1 << 33;
    pub const RING_PACKED: u64 = 1 << 34;
    pub const IN_ORDER: u64 = 1 << 35;
    pub const ORDER_PLATFORM: u64 = 1 << 36;
    pub const SR_IOV: u64 = 1 << 37;
    pub const NOTIFICATION_DATA: u64 = 1 << 38;
    pub const NOTIF_CONFIG_DATA: u64 = 1 << 39;
    pub const RING_RESET: u64 = 1 << 40;
}

/// `virtio_pci_cap.cfg_type` values (§4.1.4).
pub mod cfg_type {
    pub const COMMON: u8 = 1;
    pub const NOTIFY: u8 = 2;
    pub const ISR: u8 = 3;
    pub const DEVICE: u8 = 4;
    pub const PCI: u8 = 5;
    pub const SHARED_MEMORY: u8 = 8;
    pub const VENDOR: u8 = 9;
}

/// `struct virtio_pci_cap` (§4.1.4), found as a vendor-specific (0x09) PCI capability.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct VirtioPciCap {
    pub cap_vndr: u8,
    pub cap_next: u8,
    pub cap_len: u8,
    pub cfg_type: u8,
    pub bar: u8,
    pub id: u8,
    pub padding: [u8; 2],
    pub offset: U32,
    pub length: U32,
}
const _: () = assert!(core::mem::size_of::<VirtioPciCap>() == 16);

/// `struct virtio_pci_notify_cap` (§4.1.4.4): the cap plus the multiplier.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct VirtioPciNotifyCap {
    pub cap: VirtioPciCap,
    pub notify_off_multiplier: U32,
}
const _: () = assert!(core::mem::size_of::<VirtioPciNotifyCap>() == 20);

/// `struct virtio_pci_common_cfg` (§4.1.4.3), 1.2 layout.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct VirtioPciCommonCfg {
    pub device_feature_select: U32,
    pub device_feature: U32,
    pub driver_feature_select: U32,
    pub driver_feature: U32,
    pub config_msix_vector: U16,
    pub num_queues: U16,
    pub device_status: u8,
    pub config_generation: u8,
    pub queue_select: U16,
    pub queue_size: U16,
    pub queue_msix_vector: U16,
    pub queue_enable: U16,
    pub queue_notify_off: U16,
    pub queue_desc: U64,
    pub queue_driver: U64,
    pub queue_device: U64,
    pub queue_notif_config_data: U16,
    pub queue_reset: U16,
}
const _: () = assert!(core::mem::size_of::<VirtioPciCommonCfg>() == 0x3c);

/// The common-config bytes a driver needs (up to `queue_device`, virtio 1.0).
pub const COMMON_CFG_MIN_LEN: usize = 0x38;

/// Typed registers of the common configuration, at the offsets of
/// [`VirtioPciCommonCfg`] (derived, so they cannot disagree).
pub mod common {
    use super::VirtioPciCommonCfg as C;
    use crate::mmio::{ReadOnly, ReadWrite};
    use core::mem::offset_of;
    pub const DEVICE_FEATURE_SELECT: ReadWrite<u32> =
        ReadWrite::at(offset_of!(C, device_feature_select));
    pub const DEVICE_FEATURE: ReadOnly<u32> = ReadOnly::at(offset_of!(C, device_feature));
    pub const DRIVER_FEATURE_SELECT: ReadWrite<u32> =
        ReadWrite::at(offset_of!(C, driver_feature_select));
    pub const DRIVER_FEATURE: ReadWrite<u32> = ReadWrite::at(offset_of!(C, driver_feature));
    pub const CONFIG_MSIX_VECTOR: ReadWrite<u16> = ReadWrite::at(offset_of!(C, config_msix_vector));
    pub const NUM_QUEUES: ReadOnly<u16> = ReadOnly::at(offset_of!(C, num_queues));
    pub const DEVICE_STATUS: ReadWrite<u8> = ReadWrite::at(offset_of!(C, device_status));
    pub const CONFIG_GENERATION: ReadOnly<u8> = ReadOnly::at(offset_of!(C, config_generation));
    pub const QUEUE_SELECT: ReadWrite<u16> = ReadWrite::at(offset_of!(C, queue_select));
    pub const QUEUE_SIZE: ReadWrite<u16> = ReadWrite::at(offset_of!(C, queue_size));
    pub const QUEUE_MSIX_VECTOR: ReadWrite<u16> = ReadWrite::at(offset_of!(C, queue_msix_vector));
    pub const QUEUE_ENABLE: ReadWrite<u16> = ReadWrite::at(offset_of!(C, queue_enable));
    pub const QUEUE_NOTIFY_OFF: ReadOnly<u16> = ReadOnly::at(offset_of!(C, queue_notify_off));
    /// 64-bit fields: access the halves with 32-bit accesses (§4.1.3.1).
    pub const QUEUE_DESC_LO: ReadWrite<u32> = ReadWrite::at(offset_of!(C, queue_desc));
    pub const QUEUE_DESC_HI: ReadWrite<u32> = ReadWrite::at(offset_of!(C, queue_desc) + 4);
    pub const QUEUE_DRIVER_LO: ReadWrite<u32> = ReadWrite::at(offset_of!(C, queue_driver));
    pub const QUEUE_DRIVER_HI: ReadWrite<u32> = ReadWrite::at(offset_of!(C, queue_driver) + 4);
    pub const QUEUE_DEVICE_LO: ReadWrite<u32> = ReadWrite::at(offset_of!(C, queue_device));
    pub const QUEUE_DEVICE_HI: ReadWrite<u32> = ReadWrite::at(offset_of!(C, queue_device) + 4);
}

/// Legacy (transitional) PCI register layout in I/O BAR0 (§4.1.4.8), without
/// MSI-X: device-specific configuration starts at [`legacy::DEVICE_CONFIG`].
/// Multi-byte registers are guest-endian (little on x86).
pub mod legacy {
    use crate::mmio::{ReadOnly, ReadWrite};
    pub const DEVICE_FEATURES: ReadOnly<u32> = ReadOnly::at(0x00);
    pub const DRIVER_FEATURES: ReadWrite<u32> = ReadWrite::at(0x04);
    /// Queue address as a 4096-byte page frame number.
    pub const QUEUE_ADDRESS: ReadWrite<u32> = ReadWrite::at(0x08);
    pub const QUEUE_SIZE: ReadOnly<u16> = ReadOnly::at(0x0c);
    pub const QUEUE_SELECT: ReadWrite<u16> = ReadWrite::at(0x0e);
    pub const QUEUE_NOTIFY: ReadWrite<u16> = ReadWrite::at(0x10);
    pub const DEVICE_STATUS: ReadWrite<u8> = ReadWrite::at(0x12);
    pub const ISR_STATUS: ReadOnly<u8> = ReadOnly::at(0x13);
    /// With MSI-X enabled: config vector at 0x14, queue vector at 0x16, config at 0x18.
    pub const DEVICE_CONFIG: usize = 0x14;
    pub const DEVICE_CONFIG_MSIX: usize = 0x18;
    /// Legacy rings: the used ring starts on the next 4096-byte boundary (§2.7 legacy layout).
    pub const QUEUE_ALIGN: usize = 4096;
    /// `QUEUE_ADDRESS` unit.
    pub const PAGE_SHIFT: u32 = 12;
}

/// Split virtqueue descriptor (§2.7.5).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct VirtqDesc {
    pub addr: U64,
    pub len: U32,
    pub flags: U16,
    pub next: U16,
}
const _: () = assert!(core::mem::size_of::<VirtqDesc>() == 16);

/// Descriptor flags (§2.7.5).
pub mod desc_flags {
    pub const NEXT: u16 = 1;
    pub const WRITE: u16 = 2;
    pub const INDIRECT: u16 = 4;
}

/// Head of the driver area / available ring (§2.7.6); `ring[N]` and
/// `used_event` follow.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct VirtqAvailHeader {
    pub flags: U16,
    pub idx: U16,
}
/// `avail.flags`: the driver does not want interrupts.
pub const VIRTQ_AVAIL_F_NO_INTERRUPT: u16 = 1;

/// One used-ring element (§2.7.8).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct VirtqUsedElem {
    pub id: U32,
    pub len: U32,
}
const _: () = assert!(core::mem::size_of::<VirtqUsedElem>() == 8);

/// Head of the device area / used ring (§2.7.8); `ring[N]` and `avail_event` follow.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct VirtqUsedHeader {
    pub flags: U16,
    pub idx: U16,
}
/// `used.flags`: the device does not need notifications.
pub const VIRTQ_USED_F_NO_NOTIFY: u16 = 1;

/// Where the three parts of a split ring of `size` entries sit inside one
/// contiguous allocation, in the legacy layout (§2.7.2 legacy interfaces),
/// which also satisfies the modern alignment rules (16/2/4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitRingLayout {
    pub size: u16,
    pub avail_offset: usize,
    pub used_offset: usize,
    pub total: usize,
}

impl SplitRingLayout {
    pub const fn new(size: u16) -> SplitRingLayout {
        let n = size as usize;
        let desc = 16 * n;
        let avail = 4 + 2 * n + 2;
        let used_offset = (desc + avail).next_multiple_of(legacy::QUEUE_ALIGN);
        let used = 4 + 8 * n + 2;
        SplitRingLayout {
            size,
            avail_offset: desc,
            used_offset,
            total: (used_offset + used).next_multiple_of(legacy::QUEUE_ALIGN),
        }
    }
    /// Offset of `avail.ring[i]`.
    pub const fn avail_ring(&self, i: u16) -> usize {
        self.avail_offset + 4 + 2 * i as usize
    }
    /// Offset of `used.ring[i]`.
    pub const fn used_ring(&self, i: u16) -> usize {
        self.used_offset + 4 + 8 * i as usize
    }
}

/// `virtio_blk_config` (§5.2.4).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct VirtioBlkConfig {
    /// In 512-byte sectors, whatever `blk_size` says.
    pub capacity: U64,
    pub size_max: U32,
    pub seg_max: U32,
    pub geometry_cylinders: U16,
    pub geometry_heads: u8,
    pub geometry_sectors: u8,
    pub blk_size: U32,
    pub physical_block_exp: u8,
    pub alignment_offset: u8,
    pub min_io_size: U16,
    pub opt_io_size: U32,
    pub writeback: u8,
    pub unused0: u8,
    pub num_queues: U16,
    pub max_discard_sectors: U32,
    pub max_discard_seg: U32,
    pub discard_sector_alignment: U32,
    pub max_write_zeroes_sectors: U32,
    pub max_write_zeroes_seg: U32,
    pub write_zeroes_may_unmap: u8,
    pub unused1: [u8; 3],
    pub max_secure_erase_sectors: U32,
    pub max_secure_erase_seg: U32,
    pub secure_erase_sector_alignment: U32,
}
const _: () = assert!(core::mem::size_of::<VirtioBlkConfig>() == 72);

/// Byte offsets of the blk config fields a driver reads.
pub mod blk_config {
    use super::VirtioBlkConfig as C;
    use core::mem::offset_of;
    pub const CAPACITY: usize = offset_of!(C, capacity);
    pub const SIZE_MAX: usize = offset_of!(C, size_max);
    pub const SEG_MAX: usize = offset_of!(C, seg_max);
    pub const BLK_SIZE: usize = offset_of!(C, blk_size);
}

/// Request header, the first (device-readable) part of every request (§5.2.6).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct VirtioBlkReqHeader {
    pub req_type: U32,
    pub reserved: U32,
    /// Always in 512-byte units.
    pub sector: U64,
}
const _: () = assert!(core::mem::size_of::<VirtioBlkReqHeader>() == 16);

/// `virtio_blk_req.type` (§5.2.6).
pub mod req_type {
    pub const IN: u32 = 0;
    pub const OUT: u32 = 1;
    pub const FLUSH: u32 = 4;
    pub const GET_ID: u32 = 8;
    pub const GET_LIFETIME: u32 = 10;
    pub const DISCARD: u32 = 11;
    pub const WRITE_ZEROES: u32 = 13;
    pub const SECURE_ERASE: u32 = 14;
}

/// The status byte the device writes last (§5.2.6).
pub mod blk_status {
    pub const OK: u8 = 0;
    pub const IOERR: u8 = 1;
    pub const UNSUPP: u8 = 2;
}

/// The unit of `VirtioBlkReqHeader::sector` and `capacity`.
pub const SECTOR_SIZE: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;
    use zerocopy::IntoBytes;

    #[test]
    fn layouts_match_the_spec_offsets() {
        assert_eq!(
            core::mem::offset_of!(VirtioPciCommonCfg, device_status),
            0x14
        );
        assert_eq!(
            core::mem::offset_of!(VirtioPciCommonCfg, queue_notify_off),
            0x1e
        );
        assert_eq!(core::mem::offset_of!(VirtioPciCommonCfg, queue_desc), 0x20);
        assert_eq!(
            core::mem::offset_of!(VirtioPciCommonCfg, queue_device),
            0x30
        );
        assert_eq!(blk_config::BLK_SIZE, 20);
        assert_eq!(core::mem::offset_of!(VirtioBlkConfig, num_queues), 34);
    }

    #[test]
    fn header_bytes_are_little_endian() {
        let h = VirtioBlkReqHeader {
            req_type: U32::new(req_type::OUT),
            reserved: U32::new(0),
            sector: U64::new(0x0102_0304_0506_0708),
        };
        assert_eq!(
            h.as_bytes(),
            &[1, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]
        );
    }

    #[test]
    fn legacy_ring_layout() {
        let l = SplitRingLayout::new(256);
        assert_eq!(l.avail_offset, 4096);
        assert_eq!(l.used_offset, 8192);
        assert_eq!(l.total, 12288);
        let l = SplitRingLayout::new(128);
        assert_eq!((l.avail_offset, l.used_offset), (2048, 4096));
        assert_eq!(l.used_ring(1), 4096 + 12);
    }
}
