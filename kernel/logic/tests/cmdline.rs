//! The kernel command line (`kernel_logic::cmdline`) on the host: defaults,
//! every key, driver lists in PCI order, and each way a line is refused with
//! the exact text the kernel prints.

use kernel_logic::cmdline::{parse, CmdlineError, DriverChoice, DEFAULT_RESTARTS};

#[test]
fn an_empty_line_gives_the_defaults() {
    let c = parse("").unwrap();
    assert_eq!(c.run, "hello");
    assert_eq!(c.driver.choice(0), DriverChoice::Auto);
    assert_eq!(c.log, log::LevelFilter::Info);
    assert_eq!(c.restart, DEFAULT_RESTARTS);
    assert!(!c.irq);
}

#[test]
fn every_key_is_read() {
    let c =
        parse("  driver=managed run=selftest\tlog=trace restart=10000 completion=irq ").unwrap();
    assert_eq!(c.run, "selftest");
    assert_eq!(c.driver.choice(0), DriverChoice::Managed);
    assert_eq!(c.log, log::LevelFilter::Trace);
    assert_eq!(c.restart, 10_000);
    assert!(c.irq);
}

#[test]
fn a_driver_list_assigns_in_pci_order_and_the_last_repeats() {
    let c = parse("driver=managed,native").unwrap();
    assert_eq!(c.driver.choice(0), DriverChoice::Managed);
    assert_eq!(c.driver.choice(1), DriverChoice::Native);
    assert_eq!(c.driver.choice(7), DriverChoice::Native);
    assert_eq!(c.driver.as_str(), "managed,native");
}

#[test]
fn bad_lines_are_refused_with_the_reason() {
    let cases: [(&str, CmdlineError<'_>, &str); 6] = [
        (
            "drvier=native",
            CmdlineError::UnknownKey("drvier"),
            "cmdline: unknown key 'drvier'",
        ),
        (
            "run",
            CmdlineError::NotKeyValue("run"),
            "cmdline: bad token 'run' (expected key=value)",
        ),
        (
            "run=a run=b",
            CmdlineError::Duplicate("run"),
            "cmdline: key 'run' given twice",
        ),
        (
            "driver=native,nativ",
            CmdlineError::BadValue {
                key: "driver",
                value: "native,nativ",
                expected: "native|managed|auto, or a comma list of them",
            },
            "cmdline: bad value 'native,nativ' for key 'driver' (expected native|managed|auto, or a comma list of them)",
        ),
        (
            "restart=10001",
            CmdlineError::BadValue {
                key: "restart",
                value: "10001",
                expected: "a number of restarts, 0 to 10000",
            },
            "cmdline: bad value '10001' for key 'restart' (expected a number of restarts, 0 to 10000)",
        ),
        (
            "completion=interrupt",
            CmdlineError::BadValue {
                key: "completion",
                value: "interrupt",
                expected: "poll|irq",
            },
            "cmdline: bad value 'interrupt' for key 'completion' (expected poll|irq)",
        ),
    ];
    for (line, err, text) in cases {
        let got = parse(line).expect_err(line);
        assert_eq!(got, err, "{line}");
        assert_eq!(got.to_string(), text, "{line}");
    }
    assert!(parse("run=").is_err(), "an empty run name");
    assert!(parse("driver=").is_err(), "an empty driver list");
    assert!(parse("log=verbose").is_err());
    assert!(parse("restart=-1").is_err());
}
