//! Boot tests for larger machines: the self-test with 4 GiB and 8 GiB of
//! RAM (q35 then splits RAM around the 32-bit PCI hole and puts the rest
//! above 4 GiB), and with the disk behind a PCI-to-PCI bridge, where under
//! qboot the kernel itself programs the bridge's windows and the BARs behind
//! it. Both drivers, both transports behind the bridge, and SeaBIOS (which
//! programs everything) for contrast.

use crate::boot_tests::{Case, Expect};
use crate::qemu::Transport;
use std::time::Duration;

pub fn cases() -> Vec<Case> {
    let t = Duration::from_secs(180);
    let selftest = Expect::Pass(&[
        "selftest: verify-manifest ok",
        "selftest: verify-after-remount ok",
        "selftest: PASS",
    ]);
    // Under qboot the kernel programs the bridge: the log must say so.
    let bridged = Expect::Pass(&[
        "pci: bridge 00:01.0 to bus 01: memory window 0x",
        "01:01.0 BAR",
        "is vda",
        "selftest: PASS",
    ]);
    let big = |memory: &'static str, case: Case| Case {
        memory,
        disk: Some(Transport::Modern),
        ..case
    };
    let bridge = |transport, case: Case| Case {
        bridge: true,
        disk: Some(transport),
        ..case
    };
    let native = "driver=native run=selftest";
    let managed = "driver=managed run=selftest";
    vec![
        big("4G", Case::new("memory-4g-native", native, t, selftest)),
        big("4G", Case::new("memory-4g-managed", managed, t, selftest)),
        big("8G", Case::new("memory-8g-managed", managed, t, selftest)),
        Case {
            seabios: true,
            ..big("4G", Case::new("memory-4g-seabios", managed, t, selftest))
        },
        bridge(
            Transport::Modern,
            Case::new("bridge-native-modern", native, t, bridged),
        ),
        bridge(
            Transport::Modern,
            Case::new("bridge-managed-modern", managed, t, bridged),
        ),
        bridge(
            Transport::Legacy,
            Case::new("bridge-native-legacy", native, t, bridged),
        ),
        bridge(
            Transport::Legacy,
            Case::new("bridge-managed-legacy", managed, t, bridged),
        ),
        Case {
            seabios: true,
            ..bridge(
                Transport::Modern,
                Case::new("bridge-seabios-managed", managed, t, selftest),
            )
        },
        Case {
            memory: "4G",
            ..bridge(
                Transport::Modern,
                Case::new("bridge-memory-4g-managed", managed, t, bridged),
            )
        },
    ]
}
