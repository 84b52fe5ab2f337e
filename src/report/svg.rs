//! Renders a [`Chart`] to SVG with plotters. The only module that imports plotters.
//!
//! Time runs on an epoch-ms axis with minute-aligned key points (plotters' own ticks land on
//! odd milliseconds); the baseline and incident windows are shaded; markers are vertical lines.

mod layers;

use std::path::Path;

use plotters::chart::SeriesLabelStyle;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::Chart;
use crate::error::Error;
use crate::model::clock;
use layers::{draw_limits, draw_lines, draw_markers, draw_right, shade_windows};

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
