//! The storage runs: `selftest`, `shell` and `bench-blk`, over the block
//! devices the driver manager bound, with FAT timestamps from the RTC.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

use disks::fs::{TimeSource, Timestamp, Volume};
use disks::shell::CommandStatus;

use crate::lineedit::{Editor, Line};
use crate::{bench, drivers, platform, rtc, serial};

/// `core::fmt::Write` to the serial console, no prefix.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        serial::write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Fallback when the RTC reads as garbage.
const EPOCH: Timestamp = Timestamp::new(2000, 1, 1, 0, 0, 0);

fn rtc_timestamp() -> Timestamp {
    match rtc::now() {
        Some(t) => {
            let ts = Timestamp::new(t.year, t.month, t.day, t.hour, t.minute, t.second);
            if ts.is_valid() {
                ts
            } else {
                EPOCH
            }
        }
        None => EPOCH,
    }
}

/// FAT timestamps from the CMOS RTC.
pub fn time_source() -> TimeSource {
    TimeSource::Clock(rtc_timestamp)
}

type Dev = Box<dyn ddk::BlockDevice>;

fn first_device() -> Result<(u32, String, Dev), String> {
    let devs = platform::block_devices();
    let Some(&(id, ..)) = devs.first() else {
        return Err(String::from(
            "no block device bound (attach a virtio-blk disk)",
        ));
    };
    let (name, dev) =
        platform::take_block_device(id).ok_or_else(|| String::from("block device busy"))?;
    Ok((id, name, dev))
}

/// `run=selftest`: the disks crate's self-test on every bound device.
pub fn selftest() -> ! {
    let devs = platform::block_devices();
    if devs.is_empty() {
        crate::exit::fail(format_args!(
            "selftest: no block device bound (attach a virtio-blk disk)"
        ));
    }
    let mut failed = 0;
    for (id, ..) in devs {
        let Some((name, dev)) = platform::take_block_device(id) else {
            continue;
        };
        log::info!(
            "selftest: device {} ({}), RTC {}",
            name,
            id,
            rtc_timestamp()
        );
        let out = disks::selftest::run(dev, time_source(), &mut Console);
        if !out.passed {
            failed += 1;
        }
        if let Some(dev) = out.device {
            platform::return_block_device(id, dev);
        }
    }
    if failed == 0 {
        crate::exit::pass()
    }
    crate::exit::fail(format_args!("selftest failed on {} device(s)", failed))
}

/// `run=shell`: a prompt over serial with the disks crate's commands plus
/// `devices`, `drivers`, `help` and `exit`.
pub fn shell() -> ! {
    let mut vol: Option<(u32, Volume<Dev>)> = None;
    match first_device() {
        Ok((id, name, dev)) => match Volume::mount(dev, time_source()) {
            Ok(v) => {
                log::info!("shell: mounted {} (block device {})", name, id);
                vol = Some((id, v));
            }
            Err(e) => {
                log::error!("shell: {}: {}", name, e.error);
                if let Some(d) = e.device {
                    platform::return_block_device(id, d);
                }
            }
        },
        Err(e) => log::warn!("shell: {e}; file commands unavailable"),
    }
    crate::rawln!("kernel shell: type 'help' for commands, 'exit' to quit");
    let mut ed = Editor::default();
    let mut c = Console;
    loop {
        let line = match ed.read_line("> ") {
            Line::Text(t) => t,
            Line::Interrupted => continue,
            Line::Eof => String::from("exit"),
        };
        let word = line.split_whitespace().next().unwrap_or("");
        match word {
            "exit" => break,
            "devices" => {
                let _ = drivers::print_devices(&mut c);
                continue;
            }
            "drivers" => {
                let _ = drivers::print_drivers(&mut c);
                continue;
            }
            _ => {}
        }
        let status = match &vol {
            Some((_, v)) => {
                disks::shell::run_command(v, &line, &mut c).unwrap_or(CommandStatus::Failed)
            }
            None if word.is_empty() => CommandStatus::Empty,
            None if disks::shell::COMMANDS.contains(&word) && word != "help" => {
                crate::rawln!("{word}: no volume mounted");
                CommandStatus::Failed
            }
            None => CommandStatus::NotMine,
        };
        if word == "help" || status == CommandStatus::NotMine {
            if status == CommandStatus::NotMine && word != "help" {
                crate::rawln!("{word}: unknown command");
            }
            crate::rawln!("kernel commands: devices, drivers, exit");
            if vol.is_none() && word == "help" {
                crate::rawln!("file commands: (no volume mounted)");
            }
        }
    }
    if let Some((id, v)) = vol {
        match v.unmount() {
            Ok(d) => platform::return_block_device(id, d),
            Err(e) => crate::exit::fail(format_args!("shell: unmount failed: {e}")),
        }
    }
    crate::exit::pass()
}

/// `run=bench-blk`: raw-device figures, then a large file through fatfs.
pub fn bench_blk() -> ! {
    let (id, name, mut dev) = match first_device() {
        Ok(d) => d,
        Err(e) => crate::exit::fail(format_args!("bench-blk: {e}")),
    };
    log::info!(
        "bench-blk: device {} ({} blocks of {} B)",
        name,
        dev.block_count(),
        dev.block_size()
    );
    if let Err(e) = bench::raw_device(&mut *dev) {
        crate::exit::fail(format_args!("bench-blk: {e}"));
    }
    let vol = match Volume::mount(dev, time_source()) {
        Ok(v) => v,
        Err(e) => crate::exit::fail(format_args!("bench-blk: {}", e.error)),
    };
    if let Err(e) = bench::fat_file(&vol) {
        crate::exit::fail(format_args!("bench-blk: {e}"));
    }
    match vol.unmount() {
        Ok(d) => platform::return_block_device(id, d),
        Err(e) => crate::exit::fail(format_args!("bench-blk: unmount: {e}")),
    }
    crate::exit::pass()
}
