//! `cargo xtask matrix`: both drivers on identical disks, identical results
//! demanded. For each golden image (built from `disks/manifests/`) and each
//! transport, the kernel boots once with `driver=native` and once with
//! `driver=managed`, each on its own byte-identical copy, and runs the same
//! scripted workload (`run=workload`). The workload transcripts must be equal,
//! the resulting images byte-identical and `fsck.fat -n` clean; on a read-only
//! device both drivers must refuse the same writes with the same errors; and a
//! run that replaces the driver native → managed → native in the middle of
//! the workload (`run=workload-swap`) must end with the same image.
//!
//! When something differs, the report names the first differing transcript
//! line and the first differing sector with the cluster and the file or
//! directory it belongs to (the host walks the FAT: `disks::locate`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::qemu::{self, Boot, Transport};
use crate::{artifacts, disk, managed, setup};

/// Every image of the full matrix.
pub const ALL_IMAGES: &[&str] = &["small", "fragmented", "nearly-full", "clusters-4k", "large"];
/// What `cargo xtask matrix` runs without `--full` (a quick check while
/// working; `cargo xtask test` runs every image: about 3 minutes on 2 cores
/// under TCG).
pub const QUICK_IMAGES: &[&str] = &["small", "fragmented"];

/// What one matrix run covers.
#[derive(Clone, Debug)]
pub struct Plan {
    pub images: Vec<String>,
    pub transports: Vec<Transport>,
    /// Also the read-only and live-swap runs (on the first image, modern).
    pub extras: bool,
    /// Boot module for the managed runs (default: the normal bundle); the
    /// broken-driver check passes a variant here.
    pub managed_module: Option<PathBuf>,
}

/// One cell's outcome.
#[derive(Clone, Debug)]
pub struct Cell {
    pub image: String,
    pub transport: &'static str,
    pub run: String,
    pub verdict: String,
    pub seconds: f64,
    /// The workload's block throughput (MB/s, 10^6 B/s), as the kernel
    /// measured it, when it reported one.
    pub mb_per_s: Option<f64>,
    pub ok: bool,
}

/// The whole outcome: the table and the reports of every difference.
#[derive(Debug, Default)]
pub struct Outcome {
    pub cells: Vec<Cell>,
    pub problems: Vec<String>,
    pub seconds: f64,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && self.cells.iter().all(|c| c.ok)
    }

    pub fn table(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "  {:<14} {:<8} {:<22} {:<8} {:>8} {:>10}\n",
            "image", "transp.", "run", "verdict", "seconds", "MB/s"
        ));
        for c in &self.cells {
            s.push_str(&format!(
                "  {:<14} {:<8} {:<22} {:<8} {:>8.1} {:>10}\n",
                c.image,
                c.transport,
                c.run,
                c.verdict,
                c.seconds,
                c.mb_per_s.map_or(String::from("-"), |v| format!("{v:.1}"))
            ));
        }
        s.push_str(&format!(
            "  total {:.1} s, {} cell(s), {}\n",
            self.seconds,
            self.cells.len(),
            if self.passed() {
                "all equal"
            } else {
                "DIFFERENCES"
            }
        ));
        s
    }
}

fn transport_name(t: Transport) -> &'static str {
    match t {
        Transport::Modern => "modern",
        Transport::Legacy => "legacy",
    }
}

fn matrix_dir() -> PathBuf {
    artifacts::target_dir().join("matrix")
}

/// Builds (when out of date) and returns the golden image of `name`.
pub fn golden(name: &str) -> Result<PathBuf, String> {
    let manifest = artifacts::workspace_root()
        .join("disks/manifests")
        .join(format!("{name}.manifest"));
    if !manifest.is_file() {
        return Err(format!("no manifest {}", manifest.display()));
    }
    let out = matrix_dir().join(format!("golden-{name}.img"));
    std::fs::create_dir_all(matrix_dir()).map_err(|e| e.to_string())?;
    disk::ensure_image(&manifest, &out)?;
    Ok(out)
}

/// A boot's result: the transcript (the `workload: ` lines), verdict, time.
struct Ran {
    transcript: Vec<String>,
    mb_per_s: Option<f64>,
    passed: bool,
    seconds: f64,
    failure: Option<String>,
}

fn boot(
    kernel: &Path,
    cmdline: &str,
    module: &Path,
    image: &Path,
    transport: Transport,
    read_only: bool,
) -> Result<Ran, String> {
    let started = Instant::now();
    let r = qemu::run(&Boot {
        initrd: Some(module.to_path_buf()),
        disks: vec![qemu::Disk {
            path: image.to_path_buf(),
            transport,
            read_only,
        }],
        ..Boot::new(kernel, cmdline, Duration::from_secs(600))
    })?;
    let transcript: Vec<String> = r
        .serial
        .lines()
        .filter(|l| l.starts_with("workload: "))
        .map(String::from)
        .collect();
    let complete = transcript.last().map(String::as_str) == Some("workload: END");
    // `... 123 B written, 45.6 MB/s` on the kernel's `workload run:` line.
    let mb_per_s = r
        .serial
        .lines()
        .find(|l| l.contains(" run: ") && l.contains(" MB/s"))
        .and_then(|l| l.rsplit(", ").next())
        .and_then(|t| t.strip_suffix(" MB/s"))
        .and_then(|v| v.trim().parse().ok());
    let passed = r.passed() && complete;
    Ok(Ran {
        transcript,
        mb_per_s,
        passed,
        seconds: started.elapsed().as_secs_f64(),
        failure: (!passed).then(|| {
            r.failure_report(if complete {
                "the kernel did not pass"
            } else {
                "the workload did not reach `workload: END`"
            })
        }),
    })
}

/// The first differing line of two transcripts, for the report.
fn transcript_difference(a: &[String], b: &[String]) -> Option<String> {
    let n = a.len().max(b.len());
    (0..n).find_map(|i| {
        let (x, y) = (a.get(i), b.get(i));
        (x != y).then(|| {
            format!(
                "transcripts differ at line {}:\n    native : {}\n    managed: {}",
                i + 1,
                x.map_or("(ended)", String::as_str),
                y.map_or("(ended)", String::as_str)
            )
        })
    })
}

/// Compares two images; `Err` describes the first difference with its owner.
fn image_difference(a: &Path, b: &Path) -> Result<(), String> {
    let x = std::fs::read(a).map_err(|e| format!("{}: {e}", a.display()))?;
    let y = std::fs::read(b).map_err(|e| format!("{}: {e}", b.display()))?;
    let Some(at) = disks::locate::first_difference(&x, &y) else {
        return Ok(());
    };
    let differing = x.iter().zip(&y).filter(|(p, q)| p != q).count();
    let place = match disks::locate::locate(&x, at) {
        Ok(l) => l.to_string(),
        Err(e) => format!("byte 0x{at:x} (not located: {e})"),
    };
    Err(format!(
        "images differ ({differing} byte(s); sizes {} and {}): first difference at {place}\n    {}\n    {}",
        x.len(),
        y.len(),
        a.display(),
        b.display()
    ))
}

/// Runs `plan`; never stops early (every cell is reported).
pub fn run(plan: &Plan) -> Result<Outcome, String> {
    setup::ensure()?;
    let started = Instant::now();
    let kernel = artifacts::build_kernel()?;
    let bundle = managed::bundle()?;
    let managed_module = plan
        .managed_module
        .clone()
        .unwrap_or_else(|| bundle.clone());
    let mut out = Outcome::default();
    for (k, image) in plan.images.iter().enumerate() {
        let golden = golden(image)?;
        for &transport in &plan.transports {
            let tn = transport_name(transport);
            let mut results = Vec::new();
            for (driver, module) in [("native", &bundle), ("managed", &managed_module)] {
                let copy = matrix_dir().join(format!("{image}-{tn}-{driver}.img"));
                std::fs::copy(&golden, &copy).map_err(|e| format!("{}: {e}", copy.display()))?;
                let ran = boot(
                    &kernel,
                    &format!("driver={driver} run=workload"),
                    module,
                    &copy,
                    transport,
                    false,
                )?;
                let mut ok = ran.passed;
                if let Some(f) = &ran.failure {
                    out.problems.push(format!("{image}/{tn}/{driver}: {f}"));
                }
                if let Err(e) = disk::fsck(&copy) {
                    ok = false;
                    out.problems.push(format!("{image}/{tn}/{driver}: {e}"));
                }
                out.cells.push(Cell {
                    image: image.clone(),
                    transport: tn,
                    run: driver.to_string(),
                    verdict: if ok { "pass".into() } else { "FAIL".into() },
                    seconds: ran.seconds,
                    mb_per_s: ran.mb_per_s,
                    ok,
                });
                results.push((copy, ran.transcript));
            }
            let before = out.problems.len();
            if let Some(d) = transcript_difference(&results[0].1, &results[1].1) {
                out.problems.push(format!("{image}/{tn}: {d}"));
            }
            if let Err(d) = image_difference(&results[0].0, &results[1].0) {
                out.problems.push(format!("{image}/{tn}: {d}"));
            }
            // Differing images stay for inspection (`cargo xtask disk diff`).
            let keep = out.problems.len() > before;
            // The live swap: native -> managed -> native mid-workload, same image.
            if plan.extras && k == 0 && transport == Transport::Modern {
                let copy = matrix_dir().join(format!("{image}-{tn}-swap.img"));
                std::fs::copy(&golden, &copy).map_err(|e| e.to_string())?;
                let ran = boot(
                    &kernel,
                    "driver=native run=workload-swap",
                    &managed_module,
                    &copy,
                    transport,
                    false,
                )?;
                let mut ok = ran.passed;
                if let Some(f) = &ran.failure {
                    out.problems.push(format!("{image}/{tn}/swap: {f}"));
                }
                if let Some(d) = transcript_difference(&results[0].1, &ran.transcript) {
                    ok = false;
                    out.problems
                        .push(format!("{image}/{tn}/swap (vs native): {d}"));
                }
                if let Err(d) = image_difference(&results[0].0, &copy) {
                    ok = false;
                    out.problems
                        .push(format!("{image}/{tn}/swap (vs native): {d}"));
                }
                out.cells.push(Cell {
                    image: image.clone(),
                    transport: tn,
                    run: "native>managed>native".into(),
                    verdict: if ok { "pass".into() } else { "FAIL".into() },
                    seconds: ran.seconds,
                    mb_per_s: ran.mb_per_s,
                    ok,
                });
                let _ = std::fs::remove_file(&copy);
            }
            if !keep {
                for (copy, _) in &results {
                    let _ = std::fs::remove_file(copy);
                }
            }
        }
        // Read-only device: both drivers refuse the same writes the same way,
        // and the image is untouched.
        if plan.extras && k == 0 {
            let mut transcripts = Vec::new();
            for (driver, module) in [("native", &bundle), ("managed", &managed_module)] {
                let ran = boot(
                    &kernel,
                    &format!("driver={driver} run=workload"),
                    module,
                    &golden,
                    Transport::Modern,
                    true,
                )?;
                let mut ok = ran.passed;
                if let Some(f) = &ran.failure {
                    out.problems
                        .push(format!("{image}/read-only/{driver}: {f}"));
                }
                if !ran
                    .transcript
                    .iter()
                    .any(|l| l.contains("device is read-only"))
                {
                    ok = false;
                    out.problems.push(format!(
                        "{image}/read-only/{driver}: no write was refused with \"device is read-only\""
                    ));
                }
                out.cells.push(Cell {
                    image: image.clone(),
                    transport: "modern",
                    run: format!("{driver} read-only"),
                    verdict: if ok { "pass".into() } else { "FAIL".into() },
                    seconds: ran.seconds,
                    mb_per_s: ran.mb_per_s,
                    ok,
                });
                transcripts.push(ran.transcript);
            }
            if let Some(d) = transcript_difference(&transcripts[0], &transcripts[1]) {
                out.problems.push(format!("{image}/read-only: {d}"));
            }
            // The golden image itself was the read-only disk: it must still be
            // what its manifest builds.
            let rebuilt = matrix_dir().join(format!("rebuilt-{image}.img"));
            let manifest = artifacts::workspace_root()
                .join("disks/manifests")
                .join(format!("{image}.manifest"));
            disk::build(&manifest, &rebuilt)?;
            if let Err(d) = image_difference(&rebuilt, &golden) {
                out.problems
                    .push(format!("{image}/read-only: the device was written: {d}"));
            }
            let _ = std::fs::remove_file(&rebuilt);
        }
    }
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

/// The broken-driver check: the managed driver variant that corrupts one
/// byte of one write must make the matrix fail, and the report must point at
/// the sector and its owner. Returns the report it produced.
pub fn broken_driver_is_caught() -> Result<String, String> {
    let variant = managed::faulty_bundle(managed::FaultKind::CorruptWrite, CORRUPT_AT)?;
    let plan = Plan {
        images: vec![String::from("default")],
        transports: vec![Transport::Modern],
        extras: false,
        managed_module: Some(variant),
    };
    let out = run(&plan)?;
    let report = out.problems.join("\n");
    if out.passed() {
        return Err(String::from(
            "the matrix passed with a managed driver that corrupts a write",
        ));
    }
    if !report.contains("images differ (1 byte(s)")
        || !report.contains("first difference at sector")
    {
        return Err(format!(
            "the matrix failed, but its report does not locate the byte:\n{report}"
        ));
    }
    Ok(report)
}

/// The request at which the broken variant corrupts a write.
pub const CORRUPT_AT: u32 = 2000;

/// `cargo xtask matrix …`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Every golden image (as `cargo xtask test` runs it)
    #[arg(long, conflicts_with = "images")]
    full: bool,
    /// These golden images (disks/manifests/NAME.manifest)
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    images: Vec<String>,
    /// Only the modern transport
    #[arg(long)]
    modern_only: bool,
    /// Run the corrupt-write driver variant and show the report
    #[arg(long, conflicts_with_all = ["full", "images", "modern_only"])]
    broken_driver: bool,
}

pub fn main(args: Args) -> Result<(), String> {
    if args.broken_driver {
        let report = broken_driver_is_caught()?;
        println!("matrix: the broken managed driver was caught:\n{report}");
        return Ok(());
    }
    let images: Vec<String> = if args.full {
        ALL_IMAGES.iter().map(|s| s.to_string()).collect()
    } else if !args.images.is_empty() {
        args.images
    } else {
        QUICK_IMAGES.iter().map(|s| s.to_string()).collect()
    };
    let transports = if args.modern_only {
        vec![Transport::Modern]
    } else {
        vec![Transport::Modern, Transport::Legacy]
    };
    let out = run(&Plan {
        images,
        transports,
        extras: true,
        managed_module: None,
    })?;
    println!("matrix (image x transport x driver; each boot on its own copy of the golden image)");
    print!("{}", out.table());
    if out.passed() {
        Ok(())
    } else {
        Err(format!("the drivers differ:\n{}", out.problems.join("\n")))
    }
}
