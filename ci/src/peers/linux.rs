//! The Linux peer: Debian's Linux 6.1 cloud kernel with an initramfs of
//! busybox and our static benchmark program (`ci/peers/blkbench.c`), booted
//! under the same QEMU as our kernel. Everything is fetched (`apt-get
//! download`), extracted (`dpkg-deb -x`), built (`gcc -static`) and packed
//! (`cpio -H newc`) on first use, cached under `target/peers/`.

use crate::{artifacts, qemu};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The drivers Debian's cloud kernel builds as modules that a virtio-blk disk
/// on PCI needs; their dependencies are read from the modules themselves.
const ROOT_MODULES: &[&str] = &["virtio_pci", "virtio_blk"];

/// The printed line that says the device node exists (the boot benchmark's
/// end point).
pub const READY: &str = "blkbench: /dev/vda ready";

/// Queue depths above 1 the Linux peer also runs (4 KiB random reads through
/// Linux AIO); QD1 is the synchronous loop every peer runs.
pub const QUEUE_DEPTHS: &[u32] = &[4, 16, 32];

/// `/init`: mount devtmpfs, load the virtio modules, hand over to blkbench
/// with the mode (`blkbench=` on the kernel command line becomes an
/// environment variable of init) and the arguments after `--`.
fn init_script(modules: &[String]) -> String {
    let mut s = String::from("#!/bin/busybox sh\n/bin/busybox mount -t devtmpfs dev /dev\n");
    for m in modules {
        s.push_str(&format!(
            "/bin/busybox insmod /lib/modules/{m}.ko || echo 'init: insmod {m} failed'\n"
        ));
    }
    s.push_str("exec /blkbench /dev/vda \"$blkbench\" \"$@\"\n");
    s
}

/// What a Linux boot needs, ready on disk.
pub struct Peer {
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
    /// The Debian package the kernel came from.
    pub package: String,
}

/// What the peer is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Wait for /dev/vda, print [`READY`], exit.
    Boot,
    /// The block benchmark (then the queue depths of [`QUEUE_DEPTHS`]).
    Bench,
}

pub fn dir() -> PathBuf {
    artifacts::target_dir().join("peers")
}

/// Fetches, builds and packs what is missing; cheap when everything is there.
pub fn prepare() -> Result<Peer, String> {
    let dir = dir();
    let root = dir.join("linux-root");
    let busybox = dir.join("busybox-root/bin/busybox");
    let stamp = dir.join("linux-package");
    if !stamp.is_file() || !busybox.is_file() {
        fetch(&dir)?;
    }
    let package = std::fs::read_to_string(&stamp)
        .map_err(|e| format!("{}: {e}", stamp.display()))?
        .trim()
        .to_string();
    let release = package
        .strip_prefix("linux-image-")
        .ok_or_else(|| format!("{}: unexpected package name '{package}'", stamp.display()))?;
    let kernel = root.join(format!("boot/vmlinuz-{release}"));
    let modules = root.join(format!("lib/modules/{release}/kernel"));
    if !kernel.is_file() {
        return Err(format!(
            "{} is missing; delete {} to fetch again",
            kernel.display(),
            dir.display()
        ));
    }
    let blkbench = build_blkbench(&dir)?;
    let initramfs = pack_initramfs(&dir, &busybox, &blkbench, &modules)?;
    Ok(Peer {
        kernel,
        initramfs,
        package,
    })
}

/// The newest `linux-image-6.1.0-N-cloud-amd64` apt knows of.
fn pick_package() -> Result<String, String> {
    let search = || -> Result<Option<String>, String> {
        let out = Command::new("apt-cache")
            .args([
                "search",
                "--names-only",
                r"^linux-image-6\.1\.0-[0-9]+-cloud-amd64$",
            ])
            .output()
            .map_err(|e| format!("apt-cache: {e}"))?;
        Ok(newest_cloud_kernel(&String::from_utf8_lossy(&out.stdout)))
    };
    if let Some(p) = search()? {
        return Ok(p);
    }
    // An old or empty package list: refresh it once.
    let _ = Command::new("apt-get")
        .args(["update", "-qq"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    search()?.ok_or_else(|| {
        "apt-cache knows no linux-image-6.1.0-*-cloud-amd64 package (Debian 12's archive); \
         run: apt-get update"
            .to_string()
    })
}

/// From `apt-cache search` output, the package with the highest ABI number.
fn newest_cloud_kernel(listing: &str) -> Option<String> {
    listing
        .lines()
        .filter_map(|l| {
            let name = l.split_whitespace().next()?;
            let abi: u32 = name
                .strip_prefix("linux-image-6.1.0-")?
                .strip_suffix("-cloud-amd64")?
                .parse()
                .ok()?;
            Some((abi, name.to_string()))
        })
        .max()
        .map(|(_, n)| n)
}

fn run_tool(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `apt-get download` of the kernel and busybox-static, `dpkg-deb -x` of each.
fn fetch(dir: &Path) -> Result<(), String> {
    let package = pick_package()?;
    let debs = dir.join("debs");
    let _ = std::fs::remove_dir_all(&debs);
    std::fs::create_dir_all(&debs).map_err(|e| format!("{}: {e}", debs.display()))?;
    eprintln!(
        "xtask: fetching {package} and busybox-static (apt-get download) into {}",
        debs.display()
    );
    run_tool(Command::new("apt-get").current_dir(&debs).args([
        "download",
        "-qq",
        &package,
        "busybox-static",
    ]))?;
    for (prefix, into) in [
        (package.as_str(), "linux-root"),
        ("busybox-static", "busybox-root"),
    ] {
        let deb = std::fs::read_dir(&debs)
            .map_err(|e| format!("{}: {e}", debs.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{prefix}_")) && n.ends_with(".deb"))
            })
            .ok_or_else(|| {
                format!(
                    "apt-get download left no {prefix}_*.deb in {}",
                    debs.display()
                )
            })?;
        let to = dir.join(into);
        let _ = std::fs::remove_dir_all(&to);
        run_tool(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&to))?;
    }
    let stamp = dir.join("linux-package");
    std::fs::write(&stamp, format!("{package}\n")).map_err(|e| format!("{}: {e}", stamp.display()))
}

/// `gcc -static` of ci/peers/blkbench.c (always: it takes a fraction of a
/// second and can then never be stale).
fn build_blkbench(dir: &Path) -> Result<PathBuf, String> {
    let src = artifacts::workspace_root().join("ci/peers/blkbench.c");
    let out = dir.join("blkbench");
    run_tool(
        Command::new("gcc")
            .args(["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&out)
            .arg(&src),
    )
    .map_err(|e| format!("{e}\n(static linking needs libc6-dev)"))?;
    Ok(out)
}

/// Stages the initramfs tree and packs it with `cpio -o -H newc`. The kernel's
/// built-in initramfs already holds /dev/console.
fn pack_initramfs(
    dir: &Path,
    busybox: &Path,
    blkbench: &Path,
    modules: &Path,
) -> Result<PathBuf, String> {
    let stage = dir.join("initramfs");
    let _ = std::fs::remove_dir_all(&stage);
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    for d in ["bin", "dev", "lib/modules"] {
        let p = stage.join(d);
        std::fs::create_dir_all(&p).map_err(|e| io(&p, e))?;
    }
    let copy =
        |from: &Path, to: &Path| std::fs::copy(from, to).map(|_| ()).map_err(|e| io(from, e));
    copy(busybox, &stage.join("bin/busybox"))?;
    copy(blkbench, &stage.join("blkbench"))?;
    let ordered = module_load_order(modules)?;
    for (name, path) in &ordered {
        copy(path, &stage.join(format!("lib/modules/{name}.ko")))?;
    }
    let names: Vec<String> = ordered.into_iter().map(|(n, _)| n).collect();
    let init = stage.join("init");
    std::fs::write(&init, init_script(&names)).map_err(|e| io(&init, e))?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&init, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| io(&init, e))?;

    let mut list = Vec::new();
    walk(&stage, Path::new(""), &mut list).map_err(|e| io(&stage, e))?;
    let cpio_path = dir.join("initramfs.cpio");
    let file = std::fs::File::create(&cpio_path).map_err(|e| io(&cpio_path, e))?;
    let mut child = Command::new("cpio")
        .args(["-o", "-H", "newc", "--quiet"])
        .current_dir(&stage)
        .stdin(Stdio::piped())
        .stdout(file)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cpio: {e}"))?;
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(list.join("\n").as_bytes())
            .and_then(|_| stdin.write_all(b"\n"))
            .map_err(|e| format!("cpio: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("cpio: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cpio -o failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(cpio_path)
}

/// [`ROOT_MODULES`] and everything they depend on (the `depends=` entry of
/// each module's `.modinfo`), dependencies first, as (name, file).
fn module_load_order(tree: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut files = Vec::new();
    walk(tree, Path::new(""), &mut files).map_err(|e| format!("{}: {e}", tree.display()))?;
    // `modules.builtin` (beside `kernel/`) lists what this build compiled in.
    let builtin = tree
        .parent()
        .map(|p| std::fs::read_to_string(p.join("modules.builtin")).unwrap_or_default())
        .unwrap_or_default();
    let module_name = |path: &str| {
        Path::new(path)
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".ko"))
            .map(|n| n.replace('-', "_"))
    };
    // The module's file, or `None` when it is built into the kernel.
    let find = |name: &str| -> Result<Option<PathBuf>, String> {
        if let Some(f) = files
            .iter()
            .find(|f| module_name(f).as_deref() == Some(name))
        {
            return Ok(Some(tree.join(f)));
        }
        if builtin
            .lines()
            .any(|l| module_name(l.trim()).as_deref() == Some(name))
        {
            return Ok(None);
        }
        Err(format!(
            "module {name} is neither under {} nor built in",
            tree.display()
        ))
    };
    let mut order: Vec<(String, PathBuf)> = Vec::new();
    // Depth-first, a module after its dependencies; `visiting` stops a cycle.
    fn visit(
        name: &str,
        find: &dyn Fn(&str) -> Result<Option<PathBuf>, String>,
        order: &mut Vec<(String, PathBuf)>,
        visiting: &mut Vec<String>,
    ) -> Result<(), String> {
        if order.iter().any(|(n, _)| n == name) {
            return Ok(());
        }
        if visiting.iter().any(|n| n == name) {
            return Err(format!("module dependency cycle through {name}"));
        }
        let Some(path) = find(name)? else {
            return Ok(());
        };
        visiting.push(name.to_string());
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for dep in depends(&bytes) {
            visit(&dep, find, order, visiting)?;
        }
        visiting.pop();
        order.push((name.to_string(), path));
        Ok(())
    }
    let mut visiting = Vec::new();
    for root in ROOT_MODULES {
        visit(root, &find, &mut order, &mut visiting)?;
    }
    Ok(order)
}

/// The module names in a `.ko`'s `depends=a,b` modinfo string.
fn depends(ko: &[u8]) -> Vec<String> {
    let key = b"\0depends=";
    let Some(at) = ko.windows(key.len()).position(|w| w == key) else {
        return Vec::new();
    };
    let rest = &ko[at + key.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end])
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Every path under `root/rel`, relative to `root`, parents before children.
fn walk(root: &Path, rel: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(rel))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for name in entries {
        let p = rel.join(&name);
        out.push(p.display().to_string());
        if root.join(&p).is_dir() {
            walk(root, &p, out)?;
        }
    }
    Ok(())
}

/// The kernel command line: serial console, quiet like a distribution's
/// default, a panic ends QEMU (`-no-reboot`) instead of hanging,
/// `no_timer_check` because the IO-APIC timer check fails under TCG on a
/// loaded host, and the TSC as clocksource so `clock_gettime` is as cheap as
/// our kernel's `rdtsc` (without it Linux falls back to the HPET).
pub fn cmdline(mode: Mode) -> String {
    let base = "console=ttyS0 quiet panic=1 no_timer_check clocksource=tsc tsc=reliable";
    match mode {
        Mode::Boot => format!("{base} blkbench=boot"),
        Mode::Bench => {
            let qds: Vec<String> = QUEUE_DEPTHS.iter().map(u32::to_string).collect();
            format!("{base} blkbench=bench -- {}", qds.join(" "))
        }
    }
}

/// A boot of the peer over `disks` (the caller's, so every peer gets the same
/// `-drive` options).
pub fn boot(peer: &Peer, mode: Mode, disks: Vec<qemu::Disk>, timeout: Duration) -> qemu::Boot {
    qemu::Boot {
        initrd: Some(peer.initramfs.clone()),
        disks,
        ..qemu::Boot::new(&peer.kernel, cmdline(mode), timeout)
    }
}

/// What a benchmark boot printed.
#[derive(Debug, PartialEq)]
pub struct Run {
    /// The `bench-config:` line after the prefix (the requests issued).
    pub config: String,
    pub figures: Vec<(String, f64, String)>,
}

/// Checks a benchmark boot's console and takes its figures: the program must
/// have said it is done, printed its config and at least one figure, and no
/// error line.
pub fn parse_run(serial: &str) -> Result<Run, String> {
    // The console ends lines with CR LF.
    let lines = || serial.lines().map(str::trim);
    if let Some(err) = lines()
        .find(|l| l.starts_with("blkbench: ") && !l.ends_with(" ready") && *l != "blkbench: done")
    {
        return Err(format!("the Linux peer failed: {err}"));
    }
    if let Some(l) = lines().find(|l| l.starts_with("init: ")) {
        return Err(format!("the Linux peer's init failed: {l}"));
    }
    if !lines().any(|l| l == "blkbench: done") {
        return Err("the Linux peer did not finish (no `blkbench: done`)".into());
    }
    let config = config_line(serial).ok_or("the Linux peer printed no `bench-config:` line")?;
    let figures = crate::bench_lines::parse_bench_lines(serial);
    if figures.is_empty() {
        return Err("the Linux peer printed no `bench:` lines".into());
    }
    Ok(Run { config, figures })
}

/// The `bench-config:` line's content (our kernel prints the same line).
pub fn config_line(serial: &str) -> Option<String> {
    serial
        .lines()
        .find_map(|l| l.trim().strip_prefix("bench-config: "))
        .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
[    0.000000] Linux version 6.1.0-54-cloud-amd64
blkbench: /dev/vda ready
bench-config: chunk 1048576 seq-span 67108864 seq-passes 16 rand-size 4096 rand-ops 8192 rand-slots 16384 seed 0x9e3779b97f4a7c15
bench: blk-seq-read 415.8 MB/s
bench: blk-seq-write 379.4 MB/s
bench: blk-rand-read-4k-qd1 1967.6 IOPS
bench: blk-rand-read-4k-qd4 3100.0 IOPS
blkbench: done
";

    #[test]
    fn a_complete_run_gives_config_and_figures() {
        let r = parse_run(GOOD).unwrap();
        assert!(r.config.starts_with("chunk 1048576 seq-span 67108864"));
        assert_eq!(r.figures.len(), 4);
        assert_eq!(r.figures[0], ("blk-seq-read".into(), 415.8, "MB/s".into()));
        assert_eq!(r.figures[3].0, "blk-rand-read-4k-qd4");
    }

    #[test]
    fn an_error_line_or_a_missing_end_is_refused() {
        let failed = GOOD.replace(
            "bench: blk-seq-write 379.4 MB/s",
            "blkbench: seq write at byte 1048576: Input/output error",
        );
        let e = parse_run(&failed).unwrap_err();
        assert!(e.contains("seq write at byte 1048576"), "{e}");
        let cut = GOOD.replace("blkbench: done\n", "");
        assert!(parse_run(&cut).unwrap_err().contains("did not finish"));
        let no_config = GOOD.replace("bench-config:", "bench-cfg:");
        assert!(parse_run(&no_config).unwrap_err().contains("bench-config"));
        let bad_init = format!("init: insmod virtio_blk failed\n{GOOD}");
        assert!(parse_run(&bad_init)
            .unwrap_err()
            .contains("insmod virtio_blk"));
        // The serial console's CR LF line ends change nothing.
        assert_eq!(
            parse_run(&GOOD.replace('\n', "\r\n")).unwrap(),
            parse_run(GOOD).unwrap()
        );
    }

    #[test]
    fn module_dependencies_come_from_modinfo() {
        let ko = b"\x7fELF...\0license=GPL\0depends=virtio_ring,virtio\0retpoline=Y\0";
        assert_eq!(depends(ko), ["virtio_ring", "virtio"]);
        assert!(depends(b"\0depends=\0name=virtio_ring\0").is_empty());
        assert!(depends(b"no modinfo").is_empty());
        let s = init_script(&["virtio_ring".into(), "virtio".into()]);
        let ring = s.find("insmod /lib/modules/virtio_ring.ko").unwrap();
        assert!(ring < s.find("insmod /lib/modules/virtio.ko").unwrap());
    }

    #[test]
    fn modules_load_after_their_dependencies_and_builtins_are_skipped() {
        let root = std::env::temp_dir().join(format!("xtask-modules-{}", std::process::id()));
        let tree = root.join("kernel");
        let ko = |rel: &str, deps: &str| {
            let p = tree.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, format!("\x7fELF\0license=GPL\0depends={deps}\0")).unwrap();
        };
        ko("drivers/virtio/virtio_pci.ko", "virtio_ring,virtio");
        ko("drivers/virtio/virtio_ring.ko", "");
        ko("drivers/block/virtio_blk.ko", "virtio,virtio_ring");
        std::fs::write(
            root.join("modules.builtin"),
            "kernel/drivers/virtio/virtio.ko\n",
        )
        .unwrap();
        let order = module_load_order(&tree);
        std::fs::remove_file(tree.join("drivers/virtio/virtio_ring.ko")).unwrap();
        let missing = module_load_order(&tree);
        let _ = std::fs::remove_dir_all(&root);
        let names: Vec<String> = order.unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["virtio_ring", "virtio_pci", "virtio_blk"]);
        assert!(missing.unwrap_err().contains("virtio_ring is neither"));
    }

    #[test]
    fn the_newest_cloud_kernel_is_picked_numerically() {
        let listing = "\
linux-image-6.1.0-9-cloud-amd64 - Linux 6.1 for x86-64 cloud (signed)
linux-image-6.1.0-57-cloud-amd64 - Linux 6.1 for x86-64 cloud (signed)
linux-image-6.1.0-57-cloud-amd64-dbg - Debug symbols
linux-image-6.1.0-10-cloud-amd64 - Linux 6.1 for x86-64 cloud (signed)
";
        assert_eq!(
            newest_cloud_kernel(listing).as_deref(),
            Some("linux-image-6.1.0-57-cloud-amd64")
        );
        assert_eq!(newest_cloud_kernel("nothing here\n"), None);
    }

    #[test]
    fn the_bench_command_line_passes_the_queue_depths_to_init() {
        let c = cmdline(Mode::Bench);
        assert!(c.contains("console=ttyS0"));
        assert!(c.ends_with("blkbench=bench -- 4 16 32"), "{c}");
        assert!(cmdline(Mode::Boot).ends_with("blkbench=boot"));
    }
}
