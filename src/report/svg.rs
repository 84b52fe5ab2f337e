//! Renders a [`Chart`] to SVG with plotters. The only module that imports plotters.
//!
//! Time runs on an epoch-ms axis with minute-aligned key points (plotters' own ticks land on
//! odd milliseconds); the baseline and incident windows are shaded; markers are vertical lines.

use std::path::Path;

use plotters::prelude::*;

use super::charts::{Chart, Dash};
use crate::error::Error;
use crate::model::fmt_ms;

/// The chart colours (matplotlib's tab10), shared by line and bar charts.
pub(super) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
];

fn key_points(x0: i64, x1: i64) -> Vec<i64> {
    let span = (x1 - x0).max(1);
    let minute = 60_000;
    let nice = [1, 2, 5, 10, 15, 20, 30, 60, 120, 240, 360, 720, 1440];
    let every = nice
        .iter()
        .map(|m| m * minute)
        .find(|s| span / s <= 8)
        .unwrap_or(1440 * minute);
    let first = (x0 + every - 1).div_euclid(every) * every;
    (0..)
        .map(|k| first + k * every)
        .take_while(|t| *t <= x1)
        .collect()
}

/// Draws the chart into `path`.
///
/// # Errors
/// The file cannot be written or plotters fails.
pub fn render(chart: &Chart, path: &Path) -> Result<(), Error> {
    draw(chart, path).map_err(|e| Error::Chart {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn draw(chart: &Chart, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let (x0, x1) = chart.x_range;
    let (mut y0, mut y1) = chart.y_range();
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    y0 = y0.min(0.0);
    let root = SVGBackend::new(path, (960, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut cc = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((x0..x1).with_key_points(key_points(x0, x1)), y0..y1 * 1.08)?;
    cc.configure_mesh()
        .x_desc("time (UTC)")
        .y_desc(chart.y_label.as_str())
        .x_label_formatter(&|ms| fmt_ms(*ms, "%H:%M"))
        .y_label_formatter(&|v| {
            if v.abs() >= 100.0 || *v == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        })
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let top = y1 * 1.08;
    for (from, to, label, shade) in [
        (
            chart.baseline.0,
            chart.baseline.1,
            "baseline",
            RGBColor(180, 180, 180),
        ),
        (
            chart.incident.0,
            chart.incident.1,
            "incident window",
            RGBColor(255, 190, 120),
        ),
    ] {
        cc.draw_series(std::iter::once(Rectangle::new(
            [(from, y0), (to, top)],
            shade.mix(0.18).filled(),
        )))?
        .label(label)
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 18, y + 5)], shade.mix(0.4).filled())
        });
    }
    for (i, line) in chart.lines.iter().enumerate() {
        let color = PALETTE[line.color.unwrap_or(i) % PALETTE.len()];
        let style = ShapeStyle {
            color: color.to_rgba(),
            filled: false,
            stroke_width: if line.dash == Dash::Solid { 2 } else { 1 },
        };
        // Gaps split the line: a missing sample is not interpolated.
        for segment in line
            .points
            .split(|p| !p.1.is_finite())
            .filter(|s| !s.is_empty())
        {
            match line.dash {
                Dash::Solid => {
                    cc.draw_series(LineSeries::new(segment.iter().copied(), style))?;
                }
                Dash::Dashed => {
                    cc.draw_series(DashedLineSeries::new(segment.iter().copied(), 6, 4, style))?;
                }
            }
        }
        cc.draw_series(std::iter::empty::<Circle<(i64, f64), i32>>())?
            .label(line.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    for (i, (y, label)) in chart.hlines.iter().enumerate() {
        let c = RGBColor(90, 90, 90);
        let st = ShapeStyle {
            color: c.to_rgba(),
            filled: false,
            stroke_width: 1,
        };
        cc.draw_series(DashedLineSeries::new(vec![(x0, *y), (x1, *y)], 8, 5, st))?;
        // Right-aligned, clear of the legend in the upper left.
        let lx = x1 - (x1 - x0) / 9 - i64::try_from(i).unwrap_or(0) * (x1 - x0) / 5;
        cc.draw_series(std::iter::once(Text::new(
            label.clone(),
            (lx, *y),
            ("sans-serif", 13).into_font().color(&c),
        )))?;
    }
    for (t, label) in &chart.markers {
        let c = RGBColor(200, 30, 30);
        cc.draw_series(std::iter::once(PathElement::new(
            vec![(*t, y0), (*t, top)],
            c.stroke_width(1),
        )))?;
        cc.draw_series(std::iter::once(Text::new(
            label.clone(),
            (*t, top * 0.97),
            ("sans-serif", 13).into_font().color(&c),
        )))?;
    }
    cc.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}
