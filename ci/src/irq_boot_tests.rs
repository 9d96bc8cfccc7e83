//! QEMU boot tests of interrupt completion (`completion=irq`, issue 13 item
//! 2): the self-test under the native and the managed driver on the modern
//! (MSI-X) and the legacy (INTx) transport, each image fsck'd afterwards,
//! plus the refusal of a bad `completion=` value.

use std::time::Duration;

use crate::boot_tests::{Case, Expect};
use crate::qemu::Transport;

pub fn cases() -> Vec<Case> {
    let t = Duration::from_secs(240);
    let on = |transport, case: Case| Case {
        disk: Some(transport),
        ..case
    };
    vec![
        on(
            Transport::Modern,
            Case::new(
                "irq-selftest-native-modern",
                "driver=native run=selftest completion=irq",
                t,
                Expect::Pass(&[
                    "irq: local APIC",
                    "MSI-X entry 0 -> vector",
                    "selftest: PASS",
                    "(0 timed out)",
                ]),
            ),
        ),
        on(
            Transport::Legacy,
            Case::new(
                "irq-selftest-native-legacy",
                "driver=native run=selftest completion=irq",
                t,
                Expect::Pass(&[
                    "irq: local APIC",
                    "INTx (GSI",
                    "selftest: PASS",
                    "(0 timed out)",
                ]),
            ),
        ),
        on(
            Transport::Modern,
            Case::new(
                "irq-selftest-managed-modern",
                "driver=managed run=selftest completion=irq",
                t,
                Expect::Pass(&[
                    "irq: local APIC",
                    "MSI-X entry 0 -> vector",
                    "selftest: PASS",
                    "(0 timed out)",
                ]),
            ),
        ),
        on(
            Transport::Legacy,
            Case::new(
                "irq-selftest-managed-legacy",
                "driver=managed run=selftest completion=irq",
                t,
                Expect::Pass(&[
                    "irq: local APIC",
                    "INTx (GSI",
                    "selftest: PASS",
                    "(0 timed out)",
                ]),
            ),
        ),
        Case::new(
            "irq-completion-bad-value-refused",
            "completion=interrupt",
            Duration::from_secs(60),
            Expect::Fail(&[
                "cmdline: bad value 'interrupt' for key 'completion' (expected poll|irq)",
            ]),
        ),
    ]
}
