//! The managed driver's copies of the virtio wire constants
//! (`managed/drivers/virtio-blk/Virtio.cs`) held to the Rust definitions in
//! `ddk::virtio` (and the native driver's feature set): every literal field
//! of those C# classes is read from the compiled assembly's Constant table
//! (ECMA-335 §II.22.9) and compared with the Rust value it mirrors. A C#
//! constant with no Rust counterpart listed here fails the test too, so the
//! two cannot drift apart silently.

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

/// `Class.Name` → the Rust value it must equal.
fn rust_value(name: &str) -> Option<u64> {
    let v = |x: usize| Some(x as u64);
    Some(match name {
        "VirtioIds.VendorId" => virtio::VIRTIO_VENDOR_ID.into(),
        "VirtioIds.TransitionalBlockId" => virtio::VIRTIO_BLK_TRANSITIONAL_ID.into(),
        "VirtioIds.ModernBlockId" => virtio::VIRTIO_BLK_MODERN_ID.into(),
        "VirtioIds.DeviceTypeBlock" => virtio::VIRTIO_DEVICE_TYPE_BLOCK.into(),
        "DeviceStatus.Acknowledge" => status::ACKNOWLEDGE.into(),
        "DeviceStatus.Driver" => status::DRIVER.into(),
        "DeviceStatus.DriverOk" => status::DRIVER_OK.into(),
        "DeviceStatus.FeaturesOk" => status::FEATURES_OK.into(),
        "DeviceStatus.DeviceNeedsReset" => status::DEVICE_NEEDS_RESET.into(),
        "DeviceStatus.Failed" => status::FAILED.into(),
        "Features.BlkSizeMax" => features::BLK_SIZE_MAX,
        "Features.BlkSegMax" => features::BLK_SEG_MAX,
        "Features.BlkRo" => features::BLK_RO,
        "Features.BlkBlkSize" => features::BLK_BLK_SIZE,
        "Features.BlkFlush" => features::BLK_FLUSH,
        "Features.Version1" => features::VERSION_1,
        "Features.Supported" => virtio_blk::SUPPORTED_FEATURES,
        "CfgType.Common" => cfg_type::COMMON.into(),
        "CfgType.Notify" => cfg_type::NOTIFY.into(),
        "CfgType.Isr" => cfg_type::ISR.into(),
        "CfgType.Device" => cfg_type::DEVICE.into(),
        "CommonCfg.DeviceFeatureSelect" => return v(common::DEVICE_FEATURE_SELECT.offset()),
        "CommonCfg.DeviceFeature" => return v(common::DEVICE_FEATURE.offset()),
        "CommonCfg.DriverFeatureSelect" => return v(common::DRIVER_FEATURE_SELECT.offset()),
        "CommonCfg.DriverFeature" => return v(common::DRIVER_FEATURE.offset()),
        "CommonCfg.NumQueues" => return v(common::NUM_QUEUES.offset()),
        "CommonCfg.DeviceStatus" => return v(common::DEVICE_STATUS.offset()),
        "CommonCfg.ConfigGeneration" => return v(common::CONFIG_GENERATION.offset()),
        "CommonCfg.QueueSelect" => return v(common::QUEUE_SELECT.offset()),
        "CommonCfg.QueueSize" => return v(common::QUEUE_SIZE.offset()),
        "CommonCfg.QueueEnable" => return v(common::QUEUE_ENABLE.offset()),
        "CommonCfg.QueueMsixVector" => return v(common::QUEUE_MSIX_VECTOR.offset()),
        "CommonCfg.QueueNotifyOff" => return v(common::QUEUE_NOTIFY_OFF.offset()),
        "CommonCfg.QueueDescLo" => return v(common::QUEUE_DESC_LO.offset()),
        "CommonCfg.QueueDescHi" => return v(common::QUEUE_DESC_HI.offset()),
        "CommonCfg.QueueDriverLo" => return v(common::QUEUE_DRIVER_LO.offset()),
        "CommonCfg.QueueDriverHi" => return v(common::QUEUE_DRIVER_HI.offset()),
        "CommonCfg.QueueDeviceLo" => return v(common::QUEUE_DEVICE_LO.offset()),
        "CommonCfg.QueueDeviceHi" => return v(common::QUEUE_DEVICE_HI.offset()),
        "CommonCfg.MinLength" => return v(virtio::COMMON_CFG_MIN_LEN),
        "LegacyRegs.DeviceFeatures" => return v(legacy::DEVICE_FEATURES.offset()),
        "LegacyRegs.DriverFeatures" => return v(legacy::DRIVER_FEATURES.offset()),
        "LegacyRegs.QueueAddress" => return v(legacy::QUEUE_ADDRESS.offset()),
        "LegacyRegs.QueueSize" => return v(legacy::QUEUE_SIZE.offset()),
        "LegacyRegs.QueueSelect" => return v(legacy::QUEUE_SELECT.offset()),
        "LegacyRegs.QueueNotify" => return v(legacy::QUEUE_NOTIFY.offset()),
        "LegacyRegs.DeviceStatus" => return v(legacy::DEVICE_STATUS.offset()),
        "LegacyRegs.IsrStatus" => return v(legacy::ISR_STATUS.offset()),
        "LegacyRegs.DeviceConfig" => return v(legacy::DEVICE_CONFIG),
        "LegacyRegs.QueueAlign" => return v(legacy::QUEUE_ALIGN),
        "LegacyRegs.PageShift" => legacy::PAGE_SHIFT.into(),
        "BlkConfig.Capacity" => return v(blk_config::CAPACITY),
        "BlkConfig.SizeMax" => return v(blk_config::SIZE_MAX),
        "BlkConfig.SegMax" => return v(blk_config::SEG_MAX),
        "BlkConfig.BlkSize" => return v(blk_config::BLK_SIZE),
        "DescFlags.Next" => desc_flags::NEXT.into(),
        "DescFlags.Write" => desc_flags::WRITE.into(),
        "RingFlags.AvailNoInterrupt" => virtio::VIRTQ_AVAIL_F_NO_INTERRUPT.into(),
        "RingFlags.UsedNoNotify" => virtio::VIRTQ_USED_F_NO_NOTIFY.into(),
        "ReqType.In" => req_type::IN.into(),
        "ReqType.Out" => req_type::OUT.into(),
        "ReqType.Flush" => req_type::FLUSH.into(),
        "BlkStatus.Ok" => blk_status::OK.into(),
        "BlkStatus.IoErr" => blk_status::IOERR.into(),
        "BlkStatus.Unsupp" => blk_status::UNSUPP.into(),
        _ => return None,
    })
}

/// Every literal field of `class` with its value (little-endian, zero-extended).
fn constants(ts: &TypeSystem, class: &str) -> Vec<(String, u64)> {
    let full = format!("VirtioBlk.{class}");
    let t = ts
        .find_type_by_full_name(&full)
        .unwrap_or_else(|| panic!("{full} not found in VirtioBlk.dll"));
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

#[test]
fn virtio_constants_in_the_managed_driver_are_the_ddk_ones() {
    let src = toolchain::managed_src_dir();
    let ddk = toolchain::build_library("Ddk", &toolchain::cs_files(&src.join("ddk")).unwrap(), &[])
        .expect("mcs: Ddk");
    let drv = toolchain::build_library(
        "VirtioBlk",
        &toolchain::cs_files(&src.join("drivers/virtio-blk")).unwrap(),
        std::slice::from_ref(&ddk),
    )
    .expect("mcs: VirtioBlk");
    let mut ts = TypeSystem::new();
    for p in [toolchain::corlib().unwrap(), ddk, drv] {
        ts.load(std::fs::read(&p).unwrap())
            .unwrap_or_else(|e| panic!("load {}: {e}", p.display()));
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    for class in CLASSES {
        for (name, managed) in constants(&ts, class) {
            match rust_value(&name) {
                Some(rust) if rust == managed => checked += 1,
                Some(rust) => problems.push(format!(
                    "{name} = {managed:#x} in Virtio.cs, {rust:#x} in Rust"
                )),
                None => problems.push(format!(
                    "{name} has no Rust counterpart listed in this test"
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 60, "only {checked} constants found");
}
