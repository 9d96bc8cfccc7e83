//! The managed driver's copies of the virtio wire constants
//! (`managed/drivers/virtio-blk/Virtio.cs`) held to the Rust definitions in
//! `ddk::virtio` (and the native driver's feature set): every literal field
//! of those C# classes is read from the compiled assembly's Constant table
//! (ECMA-335 §II.22.9) and compared with the Rust value it mirrors. A C#
//! constant with no Rust counterpart listed here fails the test too, and so
//! does a listed Rust constant whose C# mirror is gone, so the two cannot
//! drift apart silently. The managed DDK's own mirrors (`managed/ddk/*.cs`:
//! PCI registers, BAR kinds, the I/O handle tag, the descriptor size) are
//! held the same way against `ddk::pci` and `ddk::abi`.

#[path = "common/mod.rs"]
mod test_common;

use cil_compat::metadata::{ConstantRow, TableId, Token};
use cil_compat::toolchain;
use cil_compat::types::TypeSystem;
use ddk::virtio::{self, blk_config, blk_status, cfg_type, common, desc_flags, features, legacy};
use ddk::virtio::{req_type, status};

/// The C# classes of Virtio.cs whose constants mirror `ddk::virtio`.
const CLASSES: &[&str] = &[
    "VirtioIds",
    "DeviceStatus",
    "Features",
    "CfgType",
    "CommonCfg",
    "LegacyRegs",
    "BlkConfig",
    "DescFlags",
    "RingFlags",
    "ReqType",
    "BlkStatus",
];

/// `Class.Name` of every C# constant in Virtio.cs → the Rust value it mirrors.
fn virtio_mirrors() -> Vec<(&'static str, u64)> {
    let v = |x: usize| x as u64;
    vec![
        ("VirtioIds.VendorId", virtio::VIRTIO_VENDOR_ID.into()),
        (
            "VirtioIds.TransitionalBlockId",
            virtio::VIRTIO_BLK_TRANSITIONAL_ID.into(),
        ),
        (
            "VirtioIds.ModernBlockId",
            virtio::VIRTIO_BLK_MODERN_ID.into(),
        ),
        (
            "VirtioIds.DeviceTypeBlock",
            virtio::VIRTIO_DEVICE_TYPE_BLOCK.into(),
        ),
        ("DeviceStatus.Acknowledge", status::ACKNOWLEDGE.into()),
        ("DeviceStatus.Driver", status::DRIVER.into()),
        ("DeviceStatus.DriverOk", status::DRIVER_OK.into()),
        ("DeviceStatus.FeaturesOk", status::FEATURES_OK.into()),
        (
            "DeviceStatus.DeviceNeedsReset",
            status::DEVICE_NEEDS_RESET.into(),
        ),
        ("DeviceStatus.Failed", status::FAILED.into()),
        ("Features.BlkSizeMax", features::BLK_SIZE_MAX),
        ("Features.BlkSegMax", features::BLK_SEG_MAX),
        ("Features.BlkRo", features::BLK_RO),
        ("Features.BlkBlkSize", features::BLK_BLK_SIZE),
        ("Features.BlkFlush", features::BLK_FLUSH),
        ("Features.Version1", features::VERSION_1),
        ("Features.Supported", virtio_blk::SUPPORTED_FEATURES),
        ("CfgType.Common", cfg_type::COMMON.into()),
        ("CfgType.Notify", cfg_type::NOTIFY.into()),
        ("CfgType.Isr", cfg_type::ISR.into()),
        ("CfgType.Device", cfg_type::DEVICE.into()),
        (
            "CommonCfg.DeviceFeatureSelect",
            v(common::DEVICE_FEATURE_SELECT.offset()),
        ),
        (
            "CommonCfg.DeviceFeature",
            v(common::DEVICE_FEATURE.offset()),
        ),
        (
            "CommonCfg.DriverFeatureSelect",
            v(common::DRIVER_FEATURE_SELECT.offset()),
        ),
        (
            "CommonCfg.DriverFeature",
            v(common::DRIVER_FEATURE.offset()),
        ),
        ("CommonCfg.NumQueues", v(common::NUM_QUEUES.offset())),
        ("CommonCfg.DeviceStatus", v(common::DEVICE_STATUS.offset())),
        (
            "CommonCfg.ConfigGeneration",
            v(common::CONFIG_GENERATION.offset()),
        ),
        ("CommonCfg.QueueSelect", v(common::QUEUE_SELECT.offset())),
        ("CommonCfg.QueueSize", v(common::QUEUE_SIZE.offset())),
        ("CommonCfg.QueueEnable", v(common::QUEUE_ENABLE.offset())),
        (
            "CommonCfg.QueueMsixVector",
            v(common::QUEUE_MSIX_VECTOR.offset()),
        ),
        (
            "CommonCfg.QueueNotifyOff",
            v(common::QUEUE_NOTIFY_OFF.offset()),
        ),
        ("CommonCfg.QueueDescLo", v(common::QUEUE_DESC_LO.offset())),
        ("CommonCfg.QueueDescHi", v(common::QUEUE_DESC_HI.offset())),
        (
            "CommonCfg.QueueDriverLo",
            v(common::QUEUE_DRIVER_LO.offset()),
        ),
        (
            "CommonCfg.QueueDriverHi",
            v(common::QUEUE_DRIVER_HI.offset()),
        ),
        (
            "CommonCfg.QueueDeviceLo",
            v(common::QUEUE_DEVICE_LO.offset()),
        ),
        (
            "CommonCfg.QueueDeviceHi",
            v(common::QUEUE_DEVICE_HI.offset()),
        ),
        ("CommonCfg.MinLength", v(virtio::COMMON_CFG_MIN_LEN)),
        (
            "LegacyRegs.DeviceFeatures",
            v(legacy::DEVICE_FEATURES.offset()),
        ),
        (
            "LegacyRegs.DriverFeatures",
            v(legacy::DRIVER_FEATURES.offset()),
        ),
        ("LegacyRegs.QueueAddress", v(legacy::QUEUE_ADDRESS.offset())),
        ("LegacyRegs.QueueSize", v(legacy::QUEUE_SIZE.offset())),
        ("LegacyRegs.QueueSelect", v(legacy::QUEUE_SELECT.offset())),
        ("LegacyRegs.QueueNotify", v(legacy::QUEUE_NOTIFY.offset())),
        ("LegacyRegs.DeviceStatus", v(legacy::DEVICE_STATUS.offset())),
        ("LegacyRegs.IsrStatus", v(legacy::ISR_STATUS.offset())),
        ("LegacyRegs.DeviceConfig", v(legacy::DEVICE_CONFIG)),
        ("LegacyRegs.QueueAlign", v(legacy::QUEUE_ALIGN)),
        ("LegacyRegs.PageShift", legacy::PAGE_SHIFT.into()),
        ("BlkConfig.Capacity", v(blk_config::CAPACITY)),
        ("BlkConfig.SizeMax", v(blk_config::SIZE_MAX)),
        ("BlkConfig.SegMax", v(blk_config::SEG_MAX)),
        ("BlkConfig.BlkSize", v(blk_config::BLK_SIZE)),
        ("DescFlags.Next", desc_flags::NEXT.into()),
        ("DescFlags.Write", desc_flags::WRITE.into()),
        (
            "RingFlags.AvailNoInterrupt",
            virtio::VIRTQ_AVAIL_F_NO_INTERRUPT.into(),
        ),
        (
            "RingFlags.UsedNoNotify",
            virtio::VIRTQ_USED_F_NO_NOTIFY.into(),
        ),
        ("ReqType.In", req_type::IN.into()),
        ("ReqType.Out", req_type::OUT.into()),
        ("ReqType.Flush", req_type::FLUSH.into()),
        ("BlkStatus.Ok", blk_status::OK.into()),
        ("BlkStatus.IoErr", blk_status::IOERR.into()),
        ("BlkStatus.Unsupp", blk_status::UNSUPP.into()),
    ]
}

/// The DDK's own constants mirrored in the managed DDK (`managed/ddk/*.cs`):
/// PCI registers and bits, BAR kinds and flags, the capability limit, the
/// I/O handle tag and the block-device descriptor's size. (Status codes, log
/// levels and `Abi.Version` are held by `managed_sources.rs`.)
fn ddk_mirrors() -> Vec<(&'static str, u64)> {
    use ddk::pci::{bar_flags, bar_kind, cap_id, command, reg};
    vec![
        ("PciReg.VendorId", reg::VENDOR_ID.into()),
        ("PciReg.DeviceId", reg::DEVICE_ID.into()),
        ("PciReg.Command", reg::COMMAND.into()),
        ("PciReg.Status", reg::STATUS.into()),
        ("PciReg.Revision", reg::REVISION.into()),
        ("PciReg.ProgIf", reg::PROG_IF.into()),
        ("PciReg.Subclass", reg::SUBCLASS.into()),
        ("PciReg.Class", reg::CLASS.into()),
        ("PciReg.HeaderType", reg::HEADER_TYPE.into()),
        ("PciReg.Bar0", reg::BAR0.into()),
        ("PciReg.SubsystemVendorId", reg::SUBSYSTEM_VENDOR_ID.into()),
        ("PciReg.SubsystemId", reg::SUBSYSTEM_ID.into()),
        ("PciReg.CapabilitiesPtr", reg::CAPABILITIES_PTR.into()),
        ("PciReg.InterruptLine", reg::INTERRUPT_LINE.into()),
        ("PciReg.InterruptPin", reg::INTERRUPT_PIN.into()),
        ("PciReg.CommandIoSpace", command::IO_SPACE.into()),
        ("PciReg.CommandMemorySpace", command::MEMORY_SPACE.into()),
        ("PciReg.CommandBusMaster", command::BUS_MASTER.into()),
        ("PciReg.CommandIntxDisable", command::INTX_DISABLE.into()),
        ("PciReg.StatusCapList", ddk::pci::STATUS_CAP_LIST.into()),
        ("PciReg.CapMsi", cap_id::MSI.into()),
        ("PciReg.CapVendorSpecific", cap_id::VENDOR_SPECIFIC.into()),
        ("PciReg.CapPcie", cap_id::PCIE.into()),
        ("PciReg.CapMsix", cap_id::MSIX.into()),
        ("BarKind.None", bar_kind::NONE.into()),
        ("BarKind.Memory32", bar_kind::MEMORY32.into()),
        ("BarKind.Memory64", bar_kind::MEMORY64.into()),
        ("BarKind.Io", bar_kind::IO.into()),
        (
            "PciBarInfo.FlagPrefetchable",
            bar_flags::PREFETCHABLE.into(),
        ),
        (
            "PciDeviceInfo.MaxCapabilities",
            ddk::pci::MAX_CAPABILITIES as u64,
        ),
        ("MmioRegion.IoHandleTag", ddk::abi::IO_HANDLE_TAG),
        (
            "BlockDeviceDesc.ExpectedSize",
            std::mem::size_of::<ddk::abi::BlockDeviceDesc>() as u64,
        ),
    ]
}

/// Every literal field of `namespace.class` with its value (little-endian,
/// zero-extended).
fn constants(ts: &TypeSystem, namespace: &str, class: &str) -> Vec<(String, u64)> {
    let full = format!("{namespace}.{class}");
    let t = ts
        .find_type_by_full_name(&full)
        .unwrap_or_else(|| panic!("{full} not found"));
    let mut out = Vec::new();
    for &f in &ts.info(t).fields {
        let fd = ts.field(f);
        if !fd.is_literal() {
            continue;
        }
        let md = ts.metadata(fd.asm).unwrap();
        let row = (1..=md.row_count(TableId::Constant))
            .map(|r| md.row::<ConstantRow>(r).unwrap())
            .find(|c| Token(c.parent) == fd.token)
            .unwrap_or_else(|| panic!("{full}.{} has no Constant row", fd.name));
        let blob = md.blob(row.value).unwrap();
        assert!(blob.len() <= 8, "{full}.{}: {} bytes", fd.name, blob.len());
        let mut b = [0u8; 8];
        b[..blob.len()].copy_from_slice(blob);
        out.push((format!("{class}.{}", fd.name), u64::from_le_bytes(b)));
    }
    out
}

/// The corlib, the managed DDK and the managed driver, compiled and loaded.
fn load() -> TypeSystem {
    let (ddk, drv) = test_common::ddk_and_driver();
    let mut ts = TypeSystem::new();
    for p in [toolchain::corlib().unwrap(), ddk, drv] {
        ts.load(std::fs::read(&p).unwrap())
            .unwrap_or_else(|e| panic!("load {}: {e}", p.display()));
    }
    ts
}

/// Both directions: every constant of the C# `classes` equals the Rust value
/// listed for it, and every listed Rust value has its C# constant. Returns
/// how many were compared.
fn check(ts: &TypeSystem, namespace: &str, classes: &[&str], mirrors: &[(&str, u64)]) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for class in classes {
        for (name, managed) in constants(ts, namespace, class) {
            match mirrors.iter().find(|(n, _)| *n == name) {
                Some(&(_, rust)) if rust == managed => {
                    seen.insert(name);
                }
                Some(&(_, rust)) => problems.push(format!(
                    "{namespace}.{name} = {managed:#x} in C#, {rust:#x} in Rust"
                )),
                None => problems.push(format!(
                    "{namespace}.{name} has no Rust counterpart listed in this test"
                )),
            }
        }
    }
    for (name, _) in mirrors {
        if !seen.contains(*name) && !problems.iter().any(|p| p.contains(name)) {
            problems.push(format!(
                "{namespace}.{name}: the Rust constant's C# mirror is missing"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    seen.len()
}

#[test]
fn virtio_constants_in_the_managed_driver_are_the_ddk_ones() {
    let ts = load();
    let checked = check(&ts, "VirtioBlk", CLASSES, &virtio_mirrors());
    assert!(checked >= 60, "only {checked} constants found");
}

/// The C# classes of the managed DDK whose constants mirror `ddk`.
const DDK_CLASSES: &[&str] = &[
    "PciReg",
    "BarKind",
    "PciBarInfo",
    "PciDeviceInfo",
    "MmioRegion",
    "BlockDeviceDesc",
];

#[test]
fn ddk_constants_in_the_managed_ddk_are_the_rust_ones() {
    let ts = load();
    let mirrors = ddk_mirrors();
    assert_eq!(check(&ts, "Ddk", DDK_CLASSES, &mirrors), mirrors.len());
}
