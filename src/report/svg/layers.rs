//! The layers of a line chart, drawn in this order on its time-by-value plot: the shaded
//! windows, the lines, the right-axis series, the limits (labelled where no line covers the
//! label) and the markers.

use plotters::chart::DualCoordChartContext;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::{RangedCoordf64, RangedCoordi64};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::charts::{Chart, Dash, Line};
use super::{ALERT, FONT, MARK, MIN_TEXT, PALETTE, RIGHT, WIDTH, px, text};

/// The plot every chart draws on: time (minute key points) by value, a second value axis on
/// the right.
type Plot<'a, DB> = DualCoordChartContext<
    'a,
    DB,
    Cartesian2d<WithKeyPoints<RangedCoordi64>, RangedCoordf64>,
    Cartesian2d<RangedCoordi64, RangedCoordf64>,
>;

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// The baseline and incident windows, shaded, with their legend entries.
pub(super) fn shade_windows<'a, DB: DrawingBackend + 'a>(
    cc: &mut Plot<'a, DB>,
    chart: &Chart,
    y0: f64,
    top: f64,
) -> Drawn
where
    DB::ErrorType: 'static,
{
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
    Ok(())
}

/// Each line, split at its gaps, with a legend entry drawn the way the line is.
pub(super) fn draw_lines<'a, DB: DrawingBackend + 'a>(cc: &mut Plot<'a, DB>, chart: &Chart) -> Drawn
where
    DB::ErrorType: 'static,
{
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
        let dashed = line.dash == Dash::Dashed;
        cc.draw_series(std::iter::empty::<Circle<(i64, f64), i32>>())?
            .label(line.label.as_str())
            .legend(move |(x, y)| {
                // The legend draws the line as the plot does: dashes for a dashed line,
                // three touching pieces (one line) for a solid one.
                let p = if dashed {
                    [(0, 7), (11, 18), (22, 28)]
                } else {
                    [(0, 10), (10, 20), (20, 28)]
                };
                let seg = |(a, b): (i32, i32)| PathElement::new(vec![(a, 0), (b, 0)], style);
                EmptyElement::at((x, y)) + seg(p[0]) + seg(p[1]) + seg(p[2])
            });
    }
    Ok(())
}

/// The right-axis series (a request rate beside a resource) and its axis.
pub(super) fn draw_right<'a, DB: DrawingBackend + 'a>(
    cc: &mut Plot<'a, DB>,
    title: &str,
    line: &Line,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    cc.configure_secondary_axes()
        .y_desc(title)
        .label_style((FONT, text(MIN_TEXT)))
        .axis_desc_style((FONT, text(MIN_TEXT)))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let style = RIGHT.stroke_width(2);
    let pts: Vec<(i64, f64)> = line
        .points
        .iter()
        .copied()
        .filter(|p| p.1.is_finite())
        .collect();
    cc.draw_secondary_series(LineSeries::new(pts, style))?
        .label(line.label.as_str())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 28, y)], style));
    Ok(())
}

/// Limits as dashed horizontal lines, labelled where no line covers the label, else in the
/// legend.
pub(super) fn draw_limits<'a, DB: DrawingBackend + 'a>(
    cc: &mut Plot<'a, DB>,
    chart: &Chart,
    (x0, x1): (i64, i64),
    (y0, top): (f64, f64),
) -> Drawn
where
    DB::ErrorType: 'static,
{
    for (y, label) in &chart.hlines {
        let c = RGBColor(90, 90, 90);
        let st = ShapeStyle {
            color: c.to_rgba(),
            filled: false,
            stroke_width: 1,
        };
        let drawn = cc.draw_series(DashedLineSeries::new(vec![(x0, *y), (x1, *y)], 8, 5, st))?;
        let Some(lx) = clear_spot(chart, *y, (y0, top)) else {
            // No clear spot on the plot: a legend entry can never be covered.
            drawn.label(label.as_str()).legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (8, 0)], st)
                    + PathElement::new(vec![(13, 0), (21, 0)], st)
            });
            continue;
        };
        cc.draw_series(std::iter::once(Text::new(
            label.clone(),
            (lx, *y + (top - y0) * 0.015),
            (FONT, text(MIN_TEXT))
                .into_font()
                .color(&c)
                .pos(Pos::new(HPos::Left, VPos::Bottom)),
        )))?;
    }
    Ok(())
}

/// The alert (solid) and the other markers (dashed), labelled in three staggered rows.
pub(super) fn draw_markers<'a, DB: DrawingBackend + 'a>(
    cc: &mut Plot<'a, DB>,
    chart: &Chart,
    (y0, top): (f64, f64),
) -> Drawn
where
    DB::ErrorType: 'static,
{
    for (k, (t, label)) in chart.markers.iter().enumerate() {
        let c = if label == "alert" { ALERT } else { MARK };
        let st = c.stroke_width(if label == "alert" { 2 } else { 1 });
        if label == "alert" {
            cc.draw_series(std::iter::once(PathElement::new(
                vec![(*t, y0), (*t, top)],
                st,
            )))?;
        } else {
            cc.draw_series(DashedLineSeries::new(vec![(*t, y0), (*t, top)], 6, 4, st))?;
        }
        let row = f64::from(u32::try_from(k % 3).unwrap_or(0));
        cc.draw_series(std::iter::once(Text::new(
            format!(" {label}"),
            (*t, top - (top - y0) * (0.03 + 0.07 * row)),
            (FONT, text(MIN_TEXT)).into_font().color(&c),
        )))?;
    }
    Ok(())
}

/// The share of the plot's width the legend (upper left) covers, roughly: its longest label
/// at about 0.62 em per character (DejaVu Sans), plus the swatch and padding.
fn legend_share(chart: &Chart) -> f64 {
    let chars = chart
        .lines
        .iter()
        .map(|l| l.label.chars().count())
        .chain(["incident window".len()])
        .max()
        .unwrap_or(0);
    let px_wide = chars as f64 * 0.62 * f64::from(text(MIN_TEXT)) / 1.24 + 60.0;
    px_wide / f64::from(WIDTH - px(56))
}

/// An x for a reference line's label where no line passes within the label's height and the
/// legend does not cover it: the first clear one of a few candidate spots right of the legend.
/// None: the label goes into the legend instead.
fn clear_spot(chart: &Chart, y: f64, (lo, hi): (f64, f64)) -> Option<i64> {
    let (x0, x1) = chart.x_range;
    let span = (x1 - x0).max(1);
    let band = (hi - lo) * 0.08;
    let at = |f: f64| x0 + (span as f64 * f) as i64;
    let clear = |x: i64| {
        let w = span / 6;
        chart.lines.iter().all(|l| {
            l.points
                .iter()
                .filter(|p| p.0 >= x && p.0 <= x + w && p.1.is_finite())
                .all(|p| p.1 < y - band * 0.3 || p.1 > y + band)
        })
    };
    let legend = legend_share(chart);
    [0.42, 0.3, 0.55, 0.2, 0.7, 0.8]
        .into_iter()
        .filter(|f| *f > legend)
        .map(at)
        .find(|x| clear(*x))
}
