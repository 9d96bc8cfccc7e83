//! SVG charts of the benchmark tables (`plotters`, SVG backend): one panel
//! per metric with a bar per peer (median, whiskers from min to max), and
//! optionally one line chart (the queue-depth curve).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// The median and the spread of one figure over the repeated runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Stat {
    /// `None` for no samples.
    pub fn of(samples: &[f64]) -> Option<Stat> {
        if samples.is_empty() {
            return None;
        }
        let mut v = samples.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Stat {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

/// One metric: a value (or none) per column.
pub struct Metric {
    pub name: String,
    pub unit: String,
    pub values: Vec<Option<Stat>>,
}

/// A line chart: per column, (x, y) points.
pub struct Curve {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub points: Vec<Vec<(f64, f64)>>,
}

pub struct Chart {
    pub title: String,
    /// The peers, e.g. native, managed, linux.
    pub columns: Vec<String>,
    pub metrics: Vec<Metric>,
    pub curve: Option<Curve>,
}

const PALETTE: [RGBColor; MAX_COLUMNS] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
];
/// Most columns (peers) a chart can tell apart by colour.
pub const MAX_COLUMNS: usize = 8;
const PER_ROW: usize = 3;

fn err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> String + '_ {
    move |e| format!("chart {}: {e:?}", path.display())
}

/// Writes `chart` to `path` as SVG.
pub fn write_svg(chart: &Chart, path: &Path) -> Result<(), String> {
    if chart.columns.is_empty() || chart.columns.len() > PALETTE.len() {
        return Err(format!(
            "chart {}: {} columns (1 to {} supported)",
            path.display(),
            chart.columns.len(),
            PALETTE.len()
        ));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let panels = chart.metrics.len() + usize::from(chart.curve.is_some());
    let per_row = panels.clamp(1, PER_ROW);
    let rows = panels.div_ceil(per_row).max(1);
    let size = (per_row as u32 * 380, rows as u32 * 290 + 50);
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(err(path))?;
    let root = root
        .titled(&chart.title, ("sans-serif", 18))
        .map_err(err(path))?;
    let areas = root.split_evenly((rows, per_row));
    for (metric, area) in chart.metrics.iter().zip(&areas) {
        bars(chart, metric, area).map_err(err(path))?;
    }
    if let (Some(curve), Some(area)) = (&chart.curve, areas.get(chart.metrics.len())) {
        line(chart, curve, area).map_err(err(path))?;
    }
    root.present().map_err(err(path))?;
    Ok(())
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type DrawResult<'a> =
    Result<(), DrawingAreaErrorKind<<SVGBackend<'a> as DrawingBackend>::ErrorType>>;

fn bars<'a>(chart: &Chart, metric: &Metric, area: &Area<'a>) -> DrawResult<'a> {
    let n = chart.columns.len();
    let top = metric
        .values
        .iter()
        .flatten()
        .map(|s| s.max.max(s.median))
        .fold(0.0f64, f64::max);
    let top = if top > 0.0 { top * 1.15 } else { 1.0 };
    let mut c = ChartBuilder::on(area)
        .caption(
            format!("{} ({})", metric.name, metric.unit),
            ("sans-serif", 13),
        )
        .margin(8)
        .x_label_area_size(22)
        .y_label_area_size(52)
        // A segmented range has a segment per value, both ends included.
        .build_cartesian_2d((0..n as i32 - 1).into_segmented(), 0f64..top)?;
    let columns = chart.columns.clone();
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&move |v| match v {
            SegmentValue::CenterOf(i) => columns.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    for (i, v) in metric.values.iter().enumerate() {
        let Some(s) = v else { continue };
        let i = i as i32;
        let color = PALETTE[i as usize];
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), s.median),
            ],
            color.mix(0.85).filled(),
        );
        bar.set_margin(0, 0, 14, 14);
        c.draw_series(std::iter::once(bar))?;
        if s.max > s.min {
            c.draw_series(std::iter::once(ErrorBar::new_vertical(
                SegmentValue::CenterOf(i),
                s.min,
                s.median,
                s.max,
                BLACK.stroke_width(1),
                10,
            )))?;
        }
        let label = ("sans-serif", 11)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        c.draw_series(std::iter::once(Text::new(
            format_value(s.median),
            (SegmentValue::CenterOf(i), s.max.max(s.median) + top * 0.01),
            label,
        )))?;
    }
    Ok(())
}

fn line<'a>(chart: &Chart, curve: &Curve, area: &Area<'a>) -> DrawResult<'a> {
    let all = curve.points.iter().flatten();
    let xmax = all.clone().map(|p| p.0).fold(1.0f64, f64::max);
    let ymax = all.map(|p| p.1).fold(0.0f64, f64::max);
    let ymax = if ymax > 0.0 { ymax * 1.15 } else { 1.0 };
    let mut c = ChartBuilder::on(area)
        .caption(&curve.title, ("sans-serif", 13))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(52)
        .build_cartesian_2d(0f64..xmax * 1.05, 0f64..ymax)?;
    c.configure_mesh()
        .x_desc(curve.x_label.as_str())
        .y_desc(curve.y_label.as_str())
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    for (i, pts) in curve.points.iter().enumerate() {
        if pts.is_empty() {
            continue;
        }
        let color = PALETTE[i % PALETTE.len()];
        c.draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?
            .label(chart.columns.get(i).cloned().unwrap_or_default())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
        c.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    Ok(())
}

fn format_value(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(median: f64) -> Option<Stat> {
        Some(Stat {
            median,
            min: median * 0.9,
            max: median * 1.1,
        })
    }

    #[test]
    fn medians_and_spread() {
        assert_eq!(Stat::of(&[]), None);
        assert_eq!(
            Stat::of(&[3.0, 1.0, 2.0]),
            Some(Stat {
                median: 2.0,
                min: 1.0,
                max: 3.0
            })
        );
        assert_eq!(Stat::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
    }

    #[test]
    fn the_chart_has_a_panel_per_metric_a_bar_per_value_and_the_curve() {
        let dir = std::env::temp_dir().join(format!("xtask-chart-{}", std::process::id()));
        let path = dir.join("blk.svg");
        let chart = Chart {
            title: "bench blk test".into(),
            columns: vec!["native".into(), "managed".into(), "linux".into()],
            metrics: vec![
                Metric {
                    name: "blk-seq-read".into(),
                    unit: "MB/s".into(),
                    values: vec![stat(2000.0), stat(1900.0), stat(1500.0)],
                },
                Metric {
                    name: "fat-file-read".into(),
                    unit: "MB/s".into(),
                    values: vec![stat(300.0), stat(280.0), None],
                },
            ],
            curve: Some(Curve {
                title: "4 KiB random read vs queue depth".into(),
                x_label: "queue depth".into(),
                y_label: "IOPS".into(),
                points: vec![
                    vec![(1.0, 9000.0)],
                    vec![],
                    vec![(1.0, 2000.0), (4.0, 5000.0)],
                ],
            }),
        };
        write_svg(&chart, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        for text in [
            "bench blk test",
            "blk-seq-read (MB/s)",
            "fat-file-read (MB/s)",
            "native",
            "linux",
            "queue depth",
            "2000",
            "1500",
        ] {
            assert!(svg.contains(text), "no `{text}` in the chart");
        }
        // Five bars (one value is missing), each in its peer's colour.
        let bars = |rgb: &str| {
            svg.matches(&format!("opacity=\"0.85\" fill=\"{rgb}\""))
                .count()
        };
        assert_eq!(
            bars("#1F77B4") + bars("#FF7F0E") + bars("#2CA02C"),
            5,
            "{svg}"
        );
    }

    #[test]
    fn too_many_columns_is_an_error_not_a_panic() {
        let chart = Chart {
            title: "x".into(),
            columns: (0..=MAX_COLUMNS).map(|i| i.to_string()).collect(),
            metrics: vec![],
            curve: None,
        };
        let e = write_svg(&chart, &std::env::temp_dir().join("xtask-never.svg")).unwrap_err();
        assert!(e.contains(&format!("{} columns", MAX_COLUMNS + 1)), "{e}");
    }
}
