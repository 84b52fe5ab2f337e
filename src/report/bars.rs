//! Bar charts: a plotters-free model ([`Bars`]) and its SVG renderer. Used by `mine` for the
//! trends charts; besides `svg`, the only module that imports plotters (kept apart from `svg`,
//! whose time axis and window shading do not fit categorical data).
//!
//! Categories sit on an integer axis, ten units per category, so that ticks land exactly on bar
//! centres (a float axis puts its ticks between bars); the formatter maps ticks back to labels.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::Error;

use super::svg::{PALETTE, framed_legend};

/// One stacked layer: a value per category.
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries {
    /// Legend text (not shown for a single series).
    pub label: String,
    /// One value per category.
    pub values: Vec<f64>,
}

/// A bar chart; several series stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    /// File name under `charts/`.
    pub file: String,
    /// The caption drawn above the plot.
    pub title: String,
    /// Label of the value axis.
    pub value_label: String,
    /// Category labels, in drawing order (left to right, or top to bottom when horizontal).
    pub categories: Vec<String>,
    /// Stacked series.
    pub series: Vec<BarSeries>,
    /// Bars grow rightwards with categories down the side (long labels).
    pub horizontal: bool,
}

impl Bars {
    /// The tallest stack.
    #[must_use]
    pub fn max_total(&self) -> f64 {
        (0..self.categories.len())
            .map(|i| {
                self.series
                    .iter()
                    .filter_map(|s| s.values.get(i))
                    .sum::<f64>()
            })
            .fold(0.0, f64::max)
    }
}

/// Draws the chart into `path`.
///
/// # Errors
/// The file cannot be written or plotters fails.
pub fn render(bars: &Bars, path: &Path) -> Result<(), Error> {
    let fail = |message: String| Error::Chart {
        path: path.to_path_buf(),
        message,
    };
    // plotters measures every text with the registered font, SVG included.
    super::font::register().map_err(fail)?;
    let (w, h) = size(bars);
    draw(bars, SVGBackend::new(path, (w, h)).into_drawing_area())
        .map_err(|e| fail(e.to_string()))?;
    // The PNG twin, as for the report's charts.
    let png_path = path.with_extension("png");
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    draw(
        bars,
        BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area(),
    )
    .map_err(|e| fail(e.to_string()))?;
    let png = super::png::encode(w, h, &rgb).map_err(|e| fail(e.to_string()))?;
    std::fs::write(&png_path, png).map_err(|e| Error::io(&png_path, e))
}

fn size(b: &Bars) -> (u32, u32) {
    if b.horizontal {
        let n = b.categories.len().max(1);
        (960, 90 + 24 * u32::try_from(n).unwrap_or(40))
    } else {
        (960, 420)
    }
}

fn label_at(categories: &[String], v: i64, reversed: bool, every: usize) -> String {
    if v.rem_euclid(10) != 5 {
        return String::new();
    }
    let Ok(mut i) = usize::try_from(v / 10) else {
        return String::new();
    };
    if reversed {
        i = categories.len().saturating_sub(1).saturating_sub(i);
    }
    if i % every != 0 {
        return String::new();
    }
    categories
        .get(i)
        .map(|c| {
            if c.chars().count() > 42 {
                format!("{}…", c.chars().take(41).collect::<String>())
            } else {
                c.clone()
            }
        })
        .unwrap_or_default()
}

fn draw<DB: DrawingBackend>(
    b: &Bars,
    root: DrawingArea<DB, Shift>,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let n = b.categories.len().max(1);
    let span = i64::try_from(n).unwrap_or(1) * 10;
    let layout = Layout {
        n,
        span,
        keys: (0..span / 10).map(|i| i * 10 + 5).collect(),
        top: (b.max_total() * 1.1).max(1.0),
        longest: b
            .categories
            .iter()
            .map(|c| c.chars().count().min(42))
            .max()
            .unwrap_or(4),
    };
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(&b.title, (super::font::FAMILY, 20))
        .margin(12);
    if b.horizontal {
        horizontal(b, &mut builder, layout)?;
    } else {
        vertical(b, &mut builder, layout)?;
    }
    root.present()?;
    Ok(())
}

/// The category axis: a slot of 10 units per category, its key point in the middle.
struct Layout {
    n: usize,
    span: i64,
    keys: Vec<i64>,
    /// The value axis' end: 10 % above the highest stack.
    top: f64,
    /// The longest category label drawn, in characters.
    longest: usize,
}

fn fill(i: usize) -> ShapeStyle {
    PALETTE[i % PALETTE.len()].mix(0.85).filled()
}

/// Bars growing right, categories top to bottom, their labels on the left.
fn horizontal<DB: DrawingBackend>(
    b: &Bars,
    builder: &mut ChartBuilder<'_, '_, DB>,
    l: Layout,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let n = l.n;
    let label_px = u32::try_from(l.longest * 7 + 16).unwrap_or(300).min(320);
    let mut cc = builder
        .x_label_area_size(40)
        .y_label_area_size(label_px)
        .build_cartesian_2d(0.0..l.top, (0..l.span).with_key_points(l.keys))?;
    let fmt = |v: &i64| label_at(&b.categories, *v, true, 1);
    cc.configure_mesh()
        .x_desc(b.value_label.as_str())
        .y_label_formatter(&fmt)
        .disable_y_mesh()
        .draw()?;
    draw_stacks(
        b,
        n,
        &mut cc,
        SeriesLabelPosition::LowerRight,
        |i, base, v| {
            let y = i64::try_from(n - 1 - i).unwrap_or(0) * 10;
            [(base, y + 2), (base + v, y + 8)]
        },
    )
}

/// Bars growing up, categories left to right, their labels below.
fn vertical<DB: DrawingBackend>(
    b: &Bars,
    builder: &mut ChartBuilder<'_, '_, DB>,
    l: Layout,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let n = l.n;
    // Many categories: label every k-th bar so labels do not overlap.
    let every = n.div_ceil(960 / (l.longest.max(4) * 7 + 8)).max(1);
    let mut cc = builder
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0..l.span).with_key_points(l.keys), 0.0..l.top)?;
    let fmt = |v: &i64| label_at(&b.categories, *v, false, every);
    cc.configure_mesh()
        .y_desc(b.value_label.as_str())
        .x_label_formatter(&fmt)
        .disable_x_mesh()
        .draw()?;
    draw_stacks(
        b,
        n,
        &mut cc,
        SeriesLabelPosition::UpperLeft,
        |i, base, v| {
            let x = i64::try_from(i).unwrap_or(0) * 10;
            [(x + 2, base), (x + 8, base + v)]
        },
    )
}

/// Each series' bars over `n` categories, stacked, and a framed legend at `legend_at` when there are several.
/// `corners` places a bar (category, start, length) on the chart's axes, which differ by
/// orientation.
fn draw_stacks<'a, DB, X, Y>(
    b: &Bars,
    n: usize,
    cc: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    legend_at: SeriesLabelPosition,
    corners: impl Fn(usize, f64, f64) -> [(X::ValueType, Y::ValueType); 2],
) -> Result<(), Box<dyn std::error::Error>>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged,
    Y: Ranged,
{
    let several = b.series.len() > 1;
    for (si, (s, segs)) in b.series.iter().zip(stacked(b, n)).enumerate() {
        let rects = segs
            .into_iter()
            .map(|(i, base, v)| Rectangle::new(corners(i, base, v), fill(si)));
        let drawn = cc.draw_series(rects)?;
        if several {
            legend(drawn, &s.label, fill(si));
        }
    }
    if several {
        framed_legend(&mut cc.configure_series_labels(), legend_at).draw()?;
    }
    Ok(())
}

/// Each series' bars as (category, where the bar starts, its length), stacked on the series
/// before it; empty bars are left out.
fn stacked(b: &Bars, n: usize) -> Vec<Vec<(usize, f64, f64)>> {
    let mut base = vec![0.0; n];
    b.series
        .iter()
        .map(|s| {
            let segs = s
                .values
                .iter()
                .enumerate()
                .take(n)
                .filter(|(_, v)| **v > 0.0)
                .map(|(i, v)| (i, base[i], *v))
                .collect();
            for (i, v) in s.values.iter().enumerate().take(n) {
                base[i] += v;
            }
            segs
        })
        .collect()
}

/// A legend entry for one series: its label and a swatch of its fill.
fn legend<DB: DrawingBackend>(
    anno: &mut plotters::chart::SeriesAnno<'_, DB>,
    label: &str,
    style: ShapeStyle,
) {
    anno.label(label)
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], style));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_well_formed_svg_and_png_both_ways() {
        let t = tempfile::tempdir().unwrap();
        for horizontal in [false, true] {
            let b = Bars {
                file: "x.svg".into(),
                title: "Root causes & <friends>".into(),
                value_label: "incidents".into(),
                categories: vec!["2025-01".into(), "2025-02".into(), "2025-03".into()],
                series: vec![
                    BarSeries {
                        label: "redis".into(),
                        values: vec![1.0, 0.0, 2.0],
                    },
                    BarSeries {
                        label: "pod".into(),
                        values: vec![0.0, 3.0, 1.0],
                    },
                ],
                horizontal,
            };
            let p = t.path().join(format!("{horizontal}.svg"));
            render(&b, &p).unwrap();
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(
                text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
                "{text}"
            );
            assert!(text.contains("2025-02"));
            assert_eq!(b.max_total(), 3.0);
            let png = std::fs::read(p.with_extension("png")).unwrap();
            let (w, h, rgb) = super::super::png::decode(&png).unwrap();
            assert_eq!((w, h), size(&b));
            assert!(rgb.iter().any(|c| *c < 128), "the PNG twin is drawn");
        }
    }
}
