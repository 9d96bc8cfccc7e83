//! Kernel command line: whitespace-separated `key=value` tokens.
//!
//! Known keys: `driver=native|managed|auto` (default `auto`), or a comma list
//! of those assigning drivers to virtio-blk functions in PCI order (the last
//! entry applies to every further function), `run=<name>` (default `hello`),
//! `log=error|warn|info|debug|trace` (default `info`), `restart=N` (0..=10000,
//! default 2: how many times a faulted managed driver is restarted on its
//! device before `auto` falls back to the native driver or `managed` gives
//! the device up), `completion=poll|irq` (default `poll`: how drivers wait
//! for a request; `irq` halts the CPU until the device's MSI-X interrupt).
//! An unknown key, a token without `=`, a bad value or a repeated key is an
//! error: a typo must never silently run the wrong configuration.

use core::fmt;

/// Which virtio-blk driver the driver manager binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverChoice {
    Native,
    Managed,
    Auto,
}

impl DriverChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            DriverChoice::Native => "native",
            DriverChoice::Managed => "managed",
            DriverChoice::Auto => "auto",
        }
    }

    fn parse(s: &str) -> Option<DriverChoice> {
        Some(match s {
            "native" => DriverChoice::Native,
            "managed" => DriverChoice::Managed,
            "auto" => DriverChoice::Auto,
            _ => return None,
        })
    }
}

/// The `driver=` value: one choice per virtio-blk function in PCI order, the
/// last repeating (validated when parsed, so never empty).
#[derive(Clone, Copy, Debug)]
pub struct DriverPlan<'a>(&'a str);

impl<'a> DriverPlan<'a> {
    /// The choice for the `index`-th virtio-blk function.
    pub fn choice(&self, index: usize) -> DriverChoice {
        let mut last = DriverChoice::Auto;
        for (i, s) in self.0.split(',').enumerate() {
            last = DriverChoice::parse(s).unwrap_or(DriverChoice::Auto);
            if i == index {
                break;
            }
        }
        last
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// Most restarts `restart=` accepts (a fault-injection campaign restarts
/// the driver once per injected fault, hundreds of times in one boot).
pub const MAX_RESTARTS: u32 = 10_000;
/// Restarts when the command line says nothing.
pub const DEFAULT_RESTARTS: u32 = 2;

/// The parsed command line.
#[derive(Clone, Copy, Debug)]
pub struct Config<'a> {
    pub driver: DriverPlan<'a>,
    pub run: &'a str,
    pub log: log::LevelFilter,
    /// Restarts of a faulted managed driver before falling back.
    pub restart: u32,
    /// `completion=irq`: drivers wait for interrupts instead of polling.
    pub irq: bool,
}

/// Why a command line was rejected. `Display` gives the exact serial text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdlineError<'a> {
    UnknownKey(&'a str),
    BadValue {
        key: &'a str,
        value: &'a str,
        expected: &'static str,
    },
    NotKeyValue(&'a str),
    Duplicate(&'a str),
}

impl fmt::Display for CmdlineError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdlineError::UnknownKey(k) => write!(f, "cmdline: unknown key '{k}'"),
            CmdlineError::BadValue {
                key,
                value,
                expected,
            } => {
                write!(
                    f,
                    "cmdline: bad value '{value}' for key '{key}' (expected {expected})"
                )
            }
            CmdlineError::NotKeyValue(t) => {
                write!(f, "cmdline: bad token '{t}' (expected key=value)")
            }
            CmdlineError::Duplicate(k) => write!(f, "cmdline: key '{k}' given twice"),
        }
    }
}

/// Parses the command line. Run names are checked by the run dispatcher.
pub fn parse(line: &str) -> Result<Config<'_>, CmdlineError<'_>> {
    let mut cfg = Config {
        driver: DriverPlan("auto"),
        run: "hello",
        log: log::LevelFilter::Info,
        restart: DEFAULT_RESTARTS,
        irq: false,
    };
    let mut seen = [false; 5];
    for token in line.split_ascii_whitespace() {
        let Some((key, value)) = token.split_once('=') else {
            return Err(CmdlineError::NotKeyValue(token));
        };
        let slot = match key {
            "driver" => {
                if value.split(',').any(|c| DriverChoice::parse(c).is_none()) {
                    return Err(CmdlineError::BadValue {
                        key,
                        value,
                        expected: "native|managed|auto, or a comma list of them",
                    });
                }
                cfg.driver = DriverPlan(value);
                0
            }
            "run" => {
                if value.is_empty() {
                    return Err(CmdlineError::BadValue {
                        key,
                        value,
                        expected: "a run name",
                    });
                }
                cfg.run = value;
                1
            }
            "log" => {
                cfg.log = match value {
                    "error" => log::LevelFilter::Error,
                    "warn" => log::LevelFilter::Warn,
                    "info" => log::LevelFilter::Info,
                    "debug" => log::LevelFilter::Debug,
                    "trace" => log::LevelFilter::Trace,
                    _ => {
                        return Err(CmdlineError::BadValue {
                            key,
                            value,
                            expected: "error|warn|info|debug|trace",
                        })
                    }
                };
                2
            }
            "restart" => {
                cfg.restart = match value.parse::<u32>() {
                    Ok(n) if n <= MAX_RESTARTS => n,
                    _ => {
                        return Err(CmdlineError::BadValue {
                            key,
                            value,
                            expected: "a number of restarts, 0 to 10000",
                        })
                    }
                };
                3
            }
            "completion" => {
                cfg.irq = match value {
                    "poll" => false,
                    "irq" => true,
                    _ => {
                        return Err(CmdlineError::BadValue {
                            key,
                            value,
                            expected: "poll|irq",
                        })
                    }
                };
                4
            }
            _ => return Err(CmdlineError::UnknownKey(key)),
        };
        if seen[slot] {
            return Err(CmdlineError::Duplicate(key));
        }
        seen[slot] = true;
    }
    Ok(cfg)
}
