//! Renders a [`Chart`] to SVG with plotters. The only module that imports plotters.
//!
//! Time runs on an epoch-ms axis with minute-aligned key points (plotters' own ticks land on
//! odd milliseconds); the baseline and incident windows are shaded; markers are vertical lines.

use std::path::Path;

use plotters::chart::{DualCoordChartContext, SeriesLabelStyle};
use plotters::coord::Shift;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::{RangedCoordf64, RangedCoordi64};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{Chart, Dash};
use crate::error::Error;
use crate::model::clock;

/// Rendered width, px. Pasted into a document the chart shrinks to the page width.
const WIDTH: u32 = 960;
/// Rendered height, px.
const HEIGHT: u32 = 460;
/// The page width a chart is read at, px (a Google Doc or Confluence page).
const PAGE: u32 = 650;
/// The smallest text size at page width, px.
const MIN_TEXT: u32 = 11;
/// The font family of every text.
const FONT: &str = super::font::FAMILY;

/// A length in rendered px that reads as `at_page` px once shrunk to page width.
fn px(at_page: u32) -> u32 {
    (at_page * WIDTH).div_ceil(PAGE)
}

/// plotters' SVG backend writes `font-size` as the requested size / 1.24 (its em box), so a
/// text size is asked for 1.24 times larger to come out at [`px`].
fn text(at_page: u32) -> u32 {
    (at_page * WIDTH * 124).div_ceil(PAGE * 100)
}

/// Marker colours: black and a dark grey, which no series uses (the palette has no near-black).
const ALERT: RGBColor = RGBColor(0, 0, 0);
const MARK: RGBColor = RGBColor(70, 70, 70);
/// The right-axis line: a dark teal no palette colour is near.
const RIGHT: RGBColor = RGBColor(0, 95, 95);

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
    let fail = |p: &Path, message: String| Error::Chart {
        path: p.to_path_buf(),
        message,
    };
    super::font::register().map_err(|e| fail(path, e))?;
    draw(
        chart,
        SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area(),
    )
    .map_err(|e| fail(path, e.to_string()))?;
    // The PNG twin, for documents that take no SVG (Google Docs, Confluence pastes).
    let png_path = path.with_extension("png");
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    draw(
        chart,
        BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area(),
    )
    .map_err(|e| fail(&png_path, e.to_string()))?;
    let png =
        super::png::encode(WIDTH, HEIGHT, &rgb).map_err(|e| fail(&png_path, e.to_string()))?;
    std::fs::write(&png_path, png).map_err(|e| Error::io(&png_path, e))
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

/// A y tick with the decimals the axis's span needs, the same for every tick of the axis
/// (`50` beside `100`, not `50.00`).
fn tick(v: f64, span: f64) -> String {
    if span >= 20.0 {
        format!("{v:.0}")
    } else if span >= 2.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn draw<DB: DrawingBackend>(
    chart: &Chart,
    root: DrawingArea<DB, Shift>,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = chart.x_range;
    let (mut y0, mut y1) = chart.y_range();
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    y0 = y0.min(0.0);
    root.fill(&WHITE)?;
    let right = chart.right.as_ref();
    let rtop = right
        .map_or(1.0, |(_, l)| {
            l.points
                .iter()
                .map(|p| p.1)
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
        })
        .max(1e-9)
        * 1.08;
    let mut cc = ChartBuilder::on(&root)
        .caption(&chart.title, (FONT, text(15)))
        .margin(12)
        .x_label_area_size(px(40))
        .y_label_area_size(px(56))
        .right_y_label_area_size(if right.is_some() { px(56) } else { 0 })
        .build_cartesian_2d((x0..x1).with_key_points(key_points(x0, x1)), y0..y1 * 1.08)?
        .set_secondary_coord(x0..x1, 0.0..rtop);
    cc.configure_mesh()
        .x_desc("time (UTC)")
        .y_desc(chart.y_label.as_str())
        .label_style((FONT, text(MIN_TEXT)))
        .axis_desc_style((FONT, text(MIN_TEXT)))
        .x_label_formatter(&|ms| clock(*ms))
        .y_label_formatter(&|v| tick(*v, y1 * 1.08 - y0))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let top = y1 * 1.08;
    shade_windows(&mut cc, chart, y0, top)?;
    draw_lines(&mut cc, chart)?;
    if let Some((title, line)) = right {
        draw_right(&mut cc, title, line)?;
    }
    draw_limits(&mut cc, chart, (x0, x1), (y0, top))?;
    draw_markers(&mut cc, chart, (y0, top))?;
    if let Some(note) = &chart.note {
        cc.draw_series(std::iter::once(Text::new(
            format!("{note} "),
            (x1, y0 + (top - y0) * 0.04),
            (FONT, text(MIN_TEXT))
                .into_font()
                .color(&ALERT)
                .pos(Pos::new(HPos::Right, VPos::Bottom)),
        )))?;
    }
    framed_legend(
        &mut cc.configure_series_labels(),
        SeriesLabelPosition::UpperLeft,
    )
    .label_font((FONT, text(MIN_TEXT)))
    .draw()?;
    root.present()?;
    Ok(())
}

/// The legend box of every chart (line and bar): placed at `at`, translucent white so what it
/// covers still shows, with a light border.
pub(super) fn framed_legend<'s, 'a, 'b, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    labels: &'s mut SeriesLabelStyle<'a, 'b, DB, CT>,
    at: SeriesLabelPosition,
) -> &'s mut SeriesLabelStyle<'a, 'b, DB, CT> {
    labels
        .position(at)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
}

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
fn shade_windows<'a, DB: DrawingBackend + 'a>(
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
fn draw_lines<'a, DB: DrawingBackend + 'a>(cc: &mut Plot<'a, DB>, chart: &Chart) -> Drawn
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
fn draw_right<'a, DB: DrawingBackend + 'a>(
    cc: &mut Plot<'a, DB>,
    title: &str,
    line: &super::charts::Line,
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
fn draw_limits<'a, DB: DrawingBackend + 'a>(
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
fn draw_markers<'a, DB: DrawingBackend + 'a>(
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
