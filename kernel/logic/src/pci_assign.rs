//! PCI resource assignment for what firmware left empty (PCI 3.0 §6.2.5.1
//! for BARs; PCI-to-PCI Bridge Architecture Spec 1.2 §3.2.5.6–§3.2.5.10 for
//! bridge windows and bus numbers).
//!
//! SeaBIOS assigns every BAR and bridge window and enables decoding; QEMU's
//! minimal firmware qboot numbers the buses but leaves BARs at 0 and bridge
//! windows unprogrammed, as Linux expects to do it itself. Here:
//!
//! - The memory window is taken from the boot memory map (e820 / PVH), not
//!   assumed: it starts above the highest RAM below 4 GiB (q35 puts RAM
//!   below 2 GiB or 2.75 GiB depending on `-m`, i440fx below 3.5 GiB) and
//!   ends at the IOAPIC (0xFEC0_0000); every non-RAM region the map lists in
//!   it (q35's ECAM at 0xB000_0000, firmware areas) and every BAR firmware
//!   already assigned are avoided. I/O ports come from 0xC000–0xFFFF.
//! - A bridge whose whole subtree is unassigned gets a memory window and an
//!   I/O window sized for that subtree (1 MiB / 4 KiB granular, §3.2.5.8,
//!   §3.2.5.6), placed like one large BAR of its parent bus; the devices
//!   behind it are then placed inside the window, recursively, and the
//!   bridge's memory, I/O and bus-master enables are set (bus mastering on a
//!   bridge forwards its devices' DMA upstream). The prefetchable window is
//!   switched off (base above limit): prefetchable BARs may sit in the
//!   non-prefetchable window (§3.2.5.10 allows it for 32-bit addresses).
//! - A subtree that firmware assigned in part is left as it is, with a
//!   warning: moving a live window would move BARs firmware already gave out.
//!
//! Placement is largest-first with natural alignment, which packs
//! power-of-two BARs without holes.

use alloc::vec::Vec;

use ddk::pci::{command, Bar, ConfigAccess, PciAddress, PciDevice};

use crate::memmap::{Region, REGION_RAM};

/// The IOAPIC's page: the 32-bit hole ends below it on every PC chipset.
const MEM_WINDOW_END: u64 = 0xfec0_0000;
/// I/O window (ports below 0xC000 are the legacy ISA/chipset ones).
const IO_WINDOW: (u64, u64) = (0xc000, 0x1_0000);
/// Bridge window granularity: memory 1 MiB, I/O 4 KiB (PCI-PCI bridge 1.2).
const BRIDGE_MEM_ALIGN: u64 = 1 << 20;
const BRIDGE_IO_ALIGN: u64 = 1 << 12;

/// q35 host bridge (MCH) id and its PCIEXBAR register (ICH9/3 Series MCH
/// datasheet §5.1.9): bit 0 enable, bits 2:1 length, bits 35:28 base.
const Q35_MCH: (u16, u16) = (0x8086, 0x29c0);
const Q35_PCIEXBAR: u16 = 0x60;

/// Bridge config registers (type 1 header).
mod bridge_reg {
    pub const SECONDARY_BUS: u16 = 0x19;
    pub const IO_BASE: u16 = 0x1c;
    pub const IO_LIMIT: u16 = 0x1d;
    pub const MEM_BASE: u16 = 0x20;
    pub const MEM_LIMIT: u16 = 0x22;
    pub const PREF_BASE: u16 = 0x24;
    pub const PREF_LIMIT: u16 = 0x26;
    pub const PREF_BASE_UPPER: u16 = 0x28;
    pub const PREF_LIMIT_UPPER: u16 = 0x2c;
    pub const IO_BASE_UPPER: u16 = 0x30;
    pub const IO_LIMIT_UPPER: u16 = 0x32;
}

/// A half-open address range `[start, end)` in memory or I/O space.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub start: u64,
    pub end: u64,
}

impl Range {
    fn overlaps(&self, other: &Range) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// One thing to place on a bus: a BAR or a bridge window.
#[derive(Clone, Copy)]
enum Item {
    Bar { dev: usize, bar: usize },
    Window { bridge: usize },
}

/// A request for `size` bytes aligned to `align` in memory or I/O space.
#[derive(Clone, Copy)]
struct Need {
    item: Item,
    size: u64,
    align: u64,
    io: bool,
}

/// A bridge and what sits behind it.
struct Bridge {
    dev: usize,
    secondary: u8,
    /// The subtree has BARs and none of them is assigned: ours to program.
    ours: bool,
    /// Sizes of its memory and I/O windows (0: none needed).
    mem: (u64, u64),
    io: (u64, u64),
}

/// The 32-bit memory window from the memory map: from the end of the highest
/// RAM region below 4 GiB up to the IOAPIC. Non-RAM regions inside it are
/// returned as ranges to avoid.
pub fn mem_window(regions: &[Region]) -> (Range, Vec<Range>) {
    let ram_top = regions
        .iter()
        .filter(|r| r.kind == REGION_RAM && r.start < MEM_WINDOW_END)
        .map(|r| (r.start + r.len).min(MEM_WINDOW_END))
        .max()
        .unwrap_or(0);
    let start = align_up(ram_top, BRIDGE_MEM_ALIGN).unwrap_or(MEM_WINDOW_END);
    let avoid = regions
        .iter()
        .filter(|r| r.kind != REGION_RAM && r.len > 0)
        .map(|r| Range {
            start: r.start,
            end: r.start.saturating_add(r.len),
        })
        .filter(|r| r.start < MEM_WINDOW_END && r.end > start)
        .collect();
    (
        Range {
            start,
            end: MEM_WINDOW_END,
        },
        avoid,
    )
}

/// Assigns what firmware left empty, reading and programming the functions
/// through `config` (the enumeration's accessor); see the module
/// documentation.
pub fn assign_unassigned(config: &dyn ConfigAccess, found: &mut [PciDevice], regions: &[Region]) {
    let unassigned = |d: &PciDevice| d.bars.iter().flatten().any(|b| b.address() == 0);
    if !found.iter().any(unassigned) {
        return;
    }
    let (window, mut used_mem) = mem_window(regions);
    let mut used_io: Vec<Range> = Vec::new();
    for d in found.iter() {
        for bar in d.bars.iter().flatten().filter(|b| b.address() != 0) {
            let r = Range {
                start: bar.address(),
                end: bar.address().saturating_add(bar.size()),
            };
            if bar.is_io() {
                used_io.push(r);
            } else {
                used_mem.push(r);
            }
        }
    }
    if let Some(host) = found
        .iter()
        .find(|d| d.address.bus() == 0 && d.class == 0x06 && d.subclass == 0x00)
    {
        if (host.vendor_id, host.device_id) == Q35_MCH {
            if let Some(ecam) = q35_ecam(config, host.address) {
                used_mem.push(ecam);
            }
        }
    }
    log::info!(
        "pci: memory window for unassigned BARs 0x{:x}-0x{:x} (above RAM per the memory map, below the IOAPIC), {} range(s) in it avoided",
        window.start,
        window.end,
        used_mem.len()
    );
    let mut bridges = bridges(config, found);
    // Deepest bridges first: a window's size needs its children's windows.
    for i in (0..bridges.len()).rev() {
        if bridges[i].ours {
            let needs = bus_needs(found, &bridges, bridges[i].secondary);
            bridges[i].mem = pack(&needs, false, BRIDGE_MEM_ALIGN);
            bridges[i].io = pack(&needs, true, BRIDGE_IO_ALIGN);
        }
    }
    let mut a = Assigner {
        config,
        found,
        bridges: &bridges,
    };
    a.place_bus(0, (window.start, window.end), IO_WINDOW, used_mem, used_io);
}

/// Every bridge found, in scan order (parents before children), with its
/// secondary bus and whether its subtree is ours to program.
fn bridges(config: &dyn ConfigAccess, found: &[PciDevice]) -> Vec<Bridge> {
    let mut out: Vec<Bridge> = found
        .iter()
        .enumerate()
        .filter(|(_, d)| is_bridge(d))
        .filter_map(|(dev, d)| {
            let secondary = config.read_u8(d.address, bridge_reg::SECONDARY_BUS).ok()?;
            (secondary != 0).then_some(Bridge {
                dev,
                secondary,
                ours: false,
                mem: (0, 0),
                io: (0, 0),
            })
        })
        .collect();
    for i in 0..out.len() {
        let buses = subtree_buses(found, &out, out[i].secondary);
        let bars: Vec<&Bar> = found
            .iter()
            .filter(|d| buses.contains(&d.address.bus()))
            .flat_map(|d| d.bars.iter().flatten())
            .collect();
        let assigned = bars.iter().filter(|b| b.address() != 0).count();
        out[i].ours = !bars.is_empty() && assigned == 0;
        if assigned != 0 && assigned != bars.len() {
            log::warn!(
                "pci: behind bridge {}: {} BAR(s) assigned by firmware, {} not; the window is left as firmware set it",
                found[out[i].dev].address,
                assigned,
                bars.len() - assigned
            );
        }
    }
    out
}

/// `bus` and every bus below it.
fn subtree_buses(found: &[PciDevice], bridges: &[Bridge], bus: u8) -> Vec<u8> {
    let mut buses = alloc::vec![bus];
    let mut i = 0;
    while i < buses.len() {
        let b = buses[i];
        for br in bridges.iter().filter(|br| found[br.dev].address.bus() == b) {
            if !buses.contains(&br.secondary) {
                buses.push(br.secondary);
            }
        }
        i += 1;
    }
    buses
}

fn is_bridge(d: &PciDevice) -> bool {
    d.header_type == 1 && d.class == 0x06 && d.subclass == 0x04
}

/// What has to be placed on `bus`: its devices' unassigned BARs and the
/// windows of the bridges on it that are ours.
fn bus_needs(found: &[PciDevice], bridges: &[Bridge], bus: u8) -> Vec<Need> {
    let mut needs = Vec::new();
    for (dev, d) in found.iter().enumerate() {
        if d.address.bus() != bus {
            continue;
        }
        for (bar, b) in d.bars.iter().enumerate() {
            let Some(b) = b else { continue };
            if b.address() == 0 && b.size() > 0 {
                needs.push(Need {
                    item: Item::Bar { dev, bar },
                    size: b.size(),
                    align: b.size(),
                    io: b.is_io(),
                });
            }
        }
    }
    for (i, br) in bridges.iter().enumerate() {
        if found[br.dev].address.bus() != bus || !br.ours {
            continue;
        }
        for (io, (size, align)) in [(false, br.mem), (true, br.io)] {
            if size > 0 {
                needs.push(Need {
                    item: Item::Window { bridge: i },
                    size,
                    align,
                    io,
                });
            }
        }
    }
    needs.sort_by_key(|n| core::cmp::Reverse((n.align, n.size)));
    needs
}

/// The size and alignment of a window holding the `io` needs, packed
/// largest-alignment first from offset 0 and rounded up to `granule`.
fn pack(needs: &[Need], io: bool, granule: u64) -> (u64, u64) {
    let mut end = 0u64;
    let mut align = granule;
    for n in needs.iter().filter(|n| n.io == io) {
        let Some(start) = align_up(end, n.align) else {
            return (0, 0);
        };
        end = start.saturating_add(n.size);
        align = align.max(n.align);
    }
    match align_up(end, granule) {
        Some(size) => (size, align),
        None => (0, 0),
    }
}

struct Assigner<'a> {
    config: &'a dyn ConfigAccess,
    found: &'a mut [PciDevice],
    bridges: &'a [Bridge],
}

impl Assigner<'_> {
    /// Places everything `bus` needs inside `mem`/`io`, avoiding `used_*`,
    /// then recurses into the bridges placed, and enables decoding.
    fn place_bus(
        &mut self,
        bus: u8,
        mem: (u64, u64),
        io: (u64, u64),
        mut used_mem: Vec<Range>,
        mut used_io: Vec<Range>,
    ) {
        let needs = bus_needs(self.found, self.bridges, bus);
        // Per device: decode bits earned by placed BARs.
        let mut enable: Vec<(usize, u16)> = Vec::new();
        let mut windows: Vec<(usize, Option<Range>, Option<Range>)> = Vec::new();
        for n in &needs {
            let (window, used, bit) = if n.io {
                (io, &mut used_io, command::IO_SPACE)
            } else {
                (mem, &mut used_mem, command::MEMORY_SPACE)
            };
            let Some(start) = place(window, n.size, n.align, used) else {
                let what = match n.item {
                    Item::Bar { dev, bar } => {
                        alloc::format!("{} BAR{bar}", self.found[dev].address)
                    }
                    Item::Window { bridge } => alloc::format!(
                        "bridge {} window",
                        self.found[self.bridges[bridge].dev].address
                    ),
                };
                log::warn!(
                    "pci: {what} ({}) does not fit the free {} window 0x{:x}-0x{:x}; left unassigned",
                    Size(n.size),
                    if n.io { "I/O" } else { "memory" },
                    window.0,
                    window.1
                );
                continue;
            };
            let r = Range {
                start,
                end: start + n.size,
            };
            used.push(r);
            match n.item {
                Item::Bar { dev, bar } => {
                    self.program_bar(dev, bar, start, n.size);
                    match enable.iter_mut().find(|e| e.0 == dev) {
                        Some(e) => e.1 |= bit,
                        None => enable.push((dev, bit)),
                    }
                }
                Item::Window { bridge } => {
                    let slot = match windows.iter().position(|w| w.0 == bridge) {
                        Some(i) => i,
                        None => {
                            windows.push((bridge, None, None));
                            windows.len() - 1
                        }
                    };
                    if n.io {
                        windows[slot].2 = Some(r);
                    } else {
                        windows[slot].1 = Some(r);
                    }
                }
            }
        }
        for (dev, bits) in enable {
            let a = self.found[dev].address;
            if let Ok(cmd) = self.config.read_u16(a, 0x04) {
                let _ = self.config.write_u16(a, 0x04, cmd | bits);
            }
        }
        for (bridge, m, i) in windows {
            self.program_bridge(bridge, m, i);
            let secondary = self.bridges[bridge].secondary;
            let empty = (0, 0);
            self.place_bus(
                secondary,
                m.map_or(empty, |r| (r.start, r.end)),
                i.map_or(empty, |r| (r.start, r.end)),
                Vec::new(),
                Vec::new(),
            );
        }
    }

    fn program_bar(&mut self, dev: usize, bar: usize, start: u64, size: u64) {
        let d = &mut self.found[dev];
        let off = 0x10 + 4 * bar as u16;
        let c = self.config;
        let kind = match d.bars[bar].as_mut() {
            Some(Bar::Memory32 { address, .. }) => {
                *address = start as u32;
                let _ = c.write_u32(d.address, off, start as u32);
                "32-bit"
            }
            Some(Bar::Memory64 { address, .. }) => {
                *address = start;
                let _ = c.write_u32(d.address, off, start as u32);
                let _ = c.write_u32(d.address, off + 4, (start >> 32) as u32);
                "64-bit"
            }
            Some(Bar::Io { port, .. }) => {
                *port = start as u16;
                let _ = c.write_u32(d.address, off, start as u32);
                "I/O"
            }
            None => return,
        };
        log::info!(
            "pci: {} BAR{} assigned 0x{:x} ({}, {})",
            d.address,
            bar,
            start,
            Size(size),
            kind
        );
    }

    /// Writes a bridge's windows (a missing one is closed: base above
    /// limit), closes its prefetchable window, and enables forwarding.
    fn program_bridge(&mut self, bridge: usize, mem: Option<Range>, io: Option<Range>) {
        let a = self.found[self.bridges[bridge].dev].address;
        let c = self.config;
        use bridge_reg::*;
        let (mb, ml) = match mem {
            Some(r) => (
                (r.start >> 16) as u16 & 0xfff0,
                ((r.end - 1) >> 16) as u16 & 0xfff0,
            ),
            None => (0xfff0, 0),
        };
        let _ = c.write_u16(a, MEM_BASE, mb);
        let _ = c.write_u16(a, MEM_LIMIT, ml);
        let (ib, il) = match io {
            Some(r) => ((r.start >> 8) as u8 & 0xf0, ((r.end - 1) >> 8) as u8 & 0xf0),
            None => (0xf0, 0),
        };
        let _ = c.write_u16(a, IO_BASE_UPPER, 0);
        let _ = c.write_u16(a, IO_LIMIT_UPPER, 0);
        let _ = c.write_u8(a, IO_BASE, ib);
        let _ = c.write_u8(a, IO_LIMIT, il);
        let _ = c.write_u16(a, PREF_BASE, 0xfff0);
        let _ = c.write_u16(a, PREF_LIMIT, 0);
        let _ = c.write_u32(a, PREF_BASE_UPPER, 0);
        let _ = c.write_u32(a, PREF_LIMIT_UPPER, 0);
        let mut bits = command::BUS_MASTER;
        if mem.is_some() {
            bits |= command::MEMORY_SPACE;
        }
        if io.is_some() {
            bits |= command::IO_SPACE;
        }
        if let Ok(cmd) = c.read_u16(a, 0x04) {
            let _ = c.write_u16(a, 0x04, cmd | bits);
        }
        let show = |r: Option<Range>| match r {
            Some(r) => alloc::format!("0x{:x}-0x{:x}", r.start, r.end - 1),
            None => alloc::string::String::from("closed"),
        };
        log::info!(
            "pci: bridge {} to bus {:02x}: memory window {}, I/O window {}, prefetchable closed",
            a,
            self.bridges[bridge].secondary,
            show(mem),
            show(io)
        );
    }
}

fn align_up(x: u64, align: u64) -> Option<u64> {
    x.checked_add(align - 1).map(|v| v & !(align - 1))
}

/// Lowest `align`-aligned `size`-byte range in `window` overlapping none of
/// `used`.
fn place(window: (u64, u64), size: u64, align: u64, used: &[Range]) -> Option<u64> {
    if size == 0 || !align.is_power_of_two() {
        return None;
    }
    let mut start = align_up(window.0, align)?;
    loop {
        let r = Range {
            start,
            end: start.checked_add(size)?,
        };
        if r.end > window.1 {
            return None;
        }
        match used.iter().filter(|u| u.overlaps(&r)).map(|u| u.end).max() {
            Some(end) => start = align_up(end, align)?,
            None => return Some(start),
        }
    }
}

/// The ECAM window q35's PCIEXBAR enables, if any.
fn q35_ecam(config: &dyn ConfigAccess, host: PciAddress) -> Option<Range> {
    let lo = config.read_u32(host, Q35_PCIEXBAR).ok()?;
    let hi = config.read_u32(host, Q35_PCIEXBAR + 4).ok()?;
    if lo & 1 == 0 {
        return None;
    }
    let len: u64 = match (lo >> 1) & 3 {
        0 => 256 << 20,
        1 => 128 << 20,
        2 => 64 << 20,
        _ => return None,
    };
    let base = (u64::from(hi & 0xf) << 32 | u64::from(lo)) & !(len - 1);
    Some(Range {
        start: base,
        end: base + len,
    })
}

/// A byte count in the largest binary unit that divides it (`16 KiB`).
pub struct Size(pub u64);

impl core::fmt::Display for Size {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let n = self.0;
        if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
            write!(f, "{} GiB", n >> 30)
        } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
            write!(f, "{} MiB", n >> 20)
        } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
            write!(f, "{} KiB", n >> 10)
        } else {
            write!(f, "{} B", n)
        }
    }
}
