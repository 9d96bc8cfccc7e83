//! `cargo xtask bench blk`: the block benchmark of our kernel with the native
//! and the managed driver, and of Linux 6.1 (`peers::linux`), booted
//! interleaved under the same QEMU on copies of the same image with the same
//! `-drive`, each repeated; medians, spread, same-run ratios, and a chart.

use crate::chart::{self, Chart, Curve, Metric, Stat};
use crate::peers::linux;
use crate::{artifacts, qemu, setup};
use std::path::PathBuf;
use std::time::Duration;

/// Who is measured (`--driver`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Peer {
    Native,
    Managed,
    /// The native driver with `completion=irq`.
    NativeIrq,
    /// The managed driver with `completion=irq`.
    ManagedIrq,
    Linux,
}

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Peer::Native => "native",
            Peer::Managed => "managed",
            Peer::NativeIrq => "native-irq",
            Peer::ManagedIrq => "managed-irq",
            Peer::Linux => "linux",
        }
    }

    /// The kernel command line of one of our peers.
    fn cmdline(self) -> String {
        match self {
            Peer::NativeIrq => "driver=native completion=irq run=bench-blk".into(),
            Peer::ManagedIrq => "driver=managed completion=irq run=bench-blk".into(),
            p => format!("driver={} completion=poll run=bench-blk", p.name()),
        }
    }
}

/// What `bench blk` runs (from `bench::BlkArgs`).
#[derive(Debug)]
pub struct Options {
    pub peers: Vec<Peer>,
    pub repeat: usize,
    pub legacy: bool,
    /// Every peer's disk served by a QEMU iothread (`qemu::Boot::iothread`).
    pub iothread: bool,
}

/// One boot's output.
struct Sample {
    config: String,
    figures: Vec<(String, f64, String)>,
}

pub fn run(o: &Options) -> Result<(), String> {
    setup::ensure()?;
    let transport = if o.legacy {
        qemu::Transport::Legacy
    } else {
        qemu::Transport::Modern
    };
    let ours = o.peers.iter().any(|p| *p != Peer::Linux);
    let kernel = if ours {
        Some(artifacts::build_kernel()?)
    } else {
        None
    };
    let bundle = if ours {
        Some(crate::managed::bundle()?)
    } else {
        None
    };
    let linux = if o.peers.contains(&Peer::Linux) {
        Some(linux::prepare()?)
    } else {
        None
    };
    let mut samples: Vec<Vec<Sample>> = o.peers.iter().map(|_| Vec::new()).collect();
    // Interleaved (native, managed, linux, native, ...): host load drifts
    // over minutes, and every peer should see the same drift.
    for round in 0..o.repeat {
        for (i, peer) in o.peers.iter().enumerate() {
            let image = crate::disk::scratch_copy_of(&bench_manifest(), "bench-blk")?;
            let disks = vec![qemu::Disk {
                path: image.clone(),
                transport,
                read_only: false,
            }];
            let timeout = Duration::from_secs(600);
            let mut boot = match (peer, &kernel, &linux) {
                (Peer::Linux, _, Some(l)) => linux::boot(l, linux::Mode::Bench, disks, timeout),
                (_, Some(k), _) => qemu::Boot {
                    initrd: bundle.clone(),
                    disks,
                    ..qemu::Boot::new(k, peer.cmdline(), timeout)
                },
                _ => unreachable!("the kernel or the Linux peer was prepared above"),
            };
            boot.iothread = o.iothread;
            let r = qemu::run(&boot);
            let _ = std::fs::remove_file(&image);
            let r = r?;
            let sample = if *peer == Peer::Linux {
                if r.outcome != qemu::Outcome::Pass {
                    return Err(r.failure_report("bench blk: the Linux peer did not pass"));
                }
                let run = linux::parse_run(&r.serial).map_err(|e| r.failure_report(&e))?;
                Sample {
                    config: run.config,
                    figures: run.figures,
                }
            } else {
                if !r.passed() {
                    return Err(r.failure_report(&format!(
                        "bench blk (driver={}): the kernel did not pass",
                        peer.name()
                    )));
                }
                let figures = crate::bench_lines::parse_bench_lines(&r.serial);
                let config = linux::config_line(&r.serial).ok_or_else(|| {
                    r.failure_report("bench blk: the kernel printed no `bench-config:` line")
                })?;
                Sample { config, figures }
            };
            eprintln!(
                "  round {}/{} {}: {} figures",
                round + 1,
                o.repeat,
                peer.name(),
                sample.figures.len()
            );
            samples[i].push(sample);
        }
    }
    check_same_requests(&o.peers, &samples)?;

    let table = Table::of(&o.peers, &samples);
    println!(
        "bench blk ({} transport, QEMU TCG, one invocation: {} round(s) of {} booted in turn; \
         every peer on a copy of the same image, -drive format=raw,cache={},aio={}{}; \
         median [min-max]; MB/s = 10^6 B/s; ratios of same-run medians)",
        if o.legacy { "legacy" } else { "modern" },
        o.repeat,
        o.peers
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", "),
        qemu::DRIVE_CACHE,
        qemu::DRIVE_AIO,
        if o.iothread {
            ", served by an iothread"
        } else {
            ""
        },
    );
    if let Some(l) = &linux {
        println!(
            "  linux: Debian {} with busybox and ci/peers/blkbench.c (O_DIRECT on /dev/vda; QD>1 via Linux AIO)",
            l.package
        );
    }
    println!("  requests: {}", samples[0][0].config);
    if o.peers.contains(&Peer::Managed) {
        println!(
            "  QD>1: batches through BlockDevice::read_many; both drivers keep a batch in flight \
             (the managed one through Ddk.BlockDevices.ReadMany and Batch.cs)"
        );
    }
    print!("{}", table.render());
    let path = chart_path();
    chart::write_svg(&table.chart(o), &path)?;
    println!("  chart: {}", path.display());
    Ok(())
}

/// The image every peer boots on: 4 KiB clusters and a 64 MiB file for the
/// figures through fatfs (`disks/manifests/bench.manifest`).
fn bench_manifest() -> std::path::PathBuf {
    crate::artifacts::workspace_root().join("disks/manifests/bench.manifest")
}

/// Every boot must have issued the same requests (its `bench-config:` line).
fn check_same_requests(peers: &[Peer], samples: &[Vec<Sample>]) -> Result<(), String> {
    let first = &samples[0][0].config;
    for (peer, runs) in peers.iter().zip(samples) {
        for s in runs {
            if s.config != *first {
                return Err(format!(
                    "bench blk: the peers did not issue the same requests:\n  {}: {first}\n  {}: {}",
                    peers[0].name(),
                    peer.name(),
                    s.config
                ));
            }
        }
    }
    Ok(())
}

/// Figure names in first-seen order, with each peer's statistic.
struct Table {
    peers: Vec<Peer>,
    rows: Vec<(String, String, Vec<Option<Stat>>)>,
}

impl Table {
    fn of(peers: &[Peer], samples: &[Vec<Sample>]) -> Table {
        let mut names: Vec<(String, String)> = Vec::new();
        for s in samples.iter().flatten() {
            for (n, _, u) in &s.figures {
                if !names.iter().any(|(x, _)| x == n) {
                    names.push((n.clone(), u.clone()));
                }
            }
        }
        let rows = names
            .into_iter()
            .map(|(name, unit)| {
                let stats = samples
                    .iter()
                    .map(|runs| {
                        let v: Vec<f64> = runs
                            .iter()
                            .flat_map(|s| s.figures.iter())
                            .filter(|(n, ..)| *n == name)
                            .map(|(_, v, _)| *v)
                            .collect();
                        Stat::of(&v)
                    })
                    .collect();
                (name, unit, stats)
            })
            .collect();
        Table {
            peers: peers.to_vec(),
            rows,
        }
    }

    /// Ratio columns: (label, numerator index, denominator index).
    fn ratios(&self) -> Vec<(String, usize, usize)> {
        let idx = |p| self.peers.iter().position(|x| *x == p);
        let mut r = Vec::new();
        for (a, b) in [
            (Peer::Managed, Peer::Native),
            (Peer::Native, Peer::Linux),
            (Peer::Managed, Peer::Linux),
            (Peer::NativeIrq, Peer::Native),
            (Peer::ManagedIrq, Peer::Managed),
        ] {
            if let (Some(i), Some(j)) = (idx(a), idx(b)) {
                let short = |p: Peer| match p {
                    Peer::Native => "n",
                    Peer::Managed => "m",
                    Peer::NativeIrq => "ni",
                    Peer::ManagedIrq => "mi",
                    Peer::Linux => "L",
                };
                r.push((format!("{}/{}", short(a), short(b)), i, j));
            }
        }
        r
    }

    fn render(&self) -> String {
        let mut out = format!("  {:<30}", "figure");
        for p in &self.peers {
            out += &format!(" {:>24}", p.name());
        }
        let ratios = self.ratios();
        for (label, ..) in &ratios {
            out += &format!(" {label:>7}");
        }
        out += "\n";
        for (name, unit, stats) in &self.rows {
            out += &format!("  {:<30}", format!("{name} ({unit})"));
            for s in stats {
                out += &match s {
                    Some(s) => format!(
                        " {:>24}",
                        format!("{:.1} [{:.0}-{:.0}]", s.median, s.min, s.max)
                    ),
                    None => format!(" {:>24}", "-"),
                };
            }
            for (_, i, j) in &ratios {
                out += &match (stats[*i], stats[*j]) {
                    (Some(a), Some(b)) if b.median != 0.0 => {
                        format!(" {:>6.2}x", a.median / b.median)
                    }
                    _ => format!(" {:>7}", "-"),
                };
            }
            out += "\n";
        }
        out += "  (for us and ns lower is better, so a ratio below 1 is a win there)\n";
        out
    }

    fn chart(&self, o: &Options) -> Chart {
        let qd_of =
            |name: &str| -> Option<f64> { name.strip_prefix("blk-rand-read-4k-qd")?.parse().ok() };
        let metrics = self
            .rows
            .iter()
            .filter(|(name, ..)| qd_of(name).is_none_or(|qd| qd == 1.0))
            .map(|(name, unit, stats)| Metric {
                name: name.clone(),
                unit: unit.clone(),
                values: stats.clone(),
            })
            .collect();
        let mut points: Vec<Vec<(f64, f64)>> = self.peers.iter().map(|_| Vec::new()).collect();
        for (name, _, stats) in &self.rows {
            if let Some(qd) = qd_of(name) {
                for (i, s) in stats.iter().enumerate() {
                    if let Some(s) = s {
                        points[i].push((qd, s.median));
                    }
                }
            }
        }
        for p in &mut points {
            p.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        Chart {
            title: format!(
                "bench blk: {} transport{}, {} run(s) each, medians with min-max whiskers",
                if o.legacy { "legacy" } else { "modern" },
                if o.iothread { ", iothread" } else { "" },
                o.repeat
            ),
            columns: self.peers.iter().map(|p| p.name().to_string()).collect(),
            metrics,
            curve: Some(Curve {
                title: "4 KiB random read vs queue depth (IOPS)".into(),
                x_label: "requests in flight".into(),
                y_label: "IOPS".into(),
                points,
            }),
        }
    }
}

/// Where `bench blk` writes its chart.
pub fn chart_path() -> PathBuf {
    artifacts::target_dir().join("bench/blk.svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every peer `--driver` accepts fits in one chart (five peers once
    /// outgrew a four-colour palette and the default run wrote no chart).
    #[test]
    fn every_peer_gets_a_colour_in_the_chart() {
        use clap::ValueEnum;
        assert!(Peer::value_variants().len() <= crate::chart::MAX_COLUMNS);
    }

    fn sample(config: &str, figures: &[(&str, f64)]) -> Sample {
        Sample {
            config: config.into(),
            figures: figures
                .iter()
                .map(|(n, v)| (n.to_string(), *v, "IOPS".to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_table_takes_medians_and_same_run_ratios() {
        let peers = [Peer::Native, Peer::Linux];
        let samples = vec![
            vec![
                sample("c", &[("blk-rand-read-4k-qd1", 9000.0)]),
                sample("c", &[("blk-rand-read-4k-qd1", 3000.0)]),
                sample("c", &[("blk-rand-read-4k-qd1", 6000.0)]),
            ],
            vec![
                sample(
                    "c",
                    &[
                        ("blk-rand-read-4k-qd1", 2000.0),
                        ("blk-rand-read-4k-qd4", 5000.0),
                    ],
                ),
                sample(
                    "c",
                    &[
                        ("blk-rand-read-4k-qd1", 3000.0),
                        ("blk-rand-read-4k-qd4", 7000.0),
                    ],
                ),
                sample(
                    "c",
                    &[
                        ("blk-rand-read-4k-qd1", 1000.0),
                        ("blk-rand-read-4k-qd4", 6000.0),
                    ],
                ),
            ],
        ];
        check_same_requests(&peers, &samples).unwrap();
        let t = Table::of(&peers, &samples);
        let text = t.render();
        assert!(text.contains("6000.0 [3000-9000]"), "{text}");
        assert!(text.contains("n/L"), "{text}");
        assert!(text.contains("3.00x"), "{text}");
        // The QD4 row has no native figure: a dash, no ratio.
        let qd4 = text.lines().find(|l| l.contains("qd4")).unwrap();
        assert!(
            qd4.contains(" - ") || qd4.trim_end().ends_with('-'),
            "{qd4}"
        );
        let opts = Options {
            peers: peers.to_vec(),
            repeat: 3,
            legacy: false,
            iothread: false,
        };
        let c = t.chart(&opts);
        assert_eq!(c.metrics.len(), 1, "QD>1 goes to the curve only");
        let curve = c.curve.unwrap();
        assert_eq!(curve.points[0], [(1.0, 6000.0)]);
        assert_eq!(curve.points[1], [(1.0, 2000.0), (4.0, 6000.0)]);
    }

    #[test]
    fn different_requests_are_refused() {
        let peers = [Peer::Native, Peer::Linux];
        let samples = vec![
            vec![sample("rand-ops 8192", &[])],
            vec![sample("rand-ops 4096", &[])],
        ];
        let e = check_same_requests(&peers, &samples).unwrap_err();
        assert!(e.contains("linux: rand-ops 4096"), "{e}");
    }
}
