//! The one font every chart is drawn and measured with: DejaVu Sans (Bitstream Vera licence,
//! `assets/fonts/DejaVuSans-LICENSE.txt`), embedded in the binary so charts lay out and render
//! the same on a machine with no fonts installed.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

/// The family the SVGs name: the embedded font, else whatever sans-serif the viewer has.
pub const FAMILY: &str = "DejaVu Sans, sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the font with plotters under [`FAMILY`] and under `sans-serif` (plotters' default
/// family), once. plotters measures text with it for SVG layout and draws with it for PNGs.
///
/// # Errors
/// The embedded font cannot be parsed (a broken build, not bad input).
pub fn register() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        for name in [FAMILY, "sans-serif"] {
            register_font(name, FontStyle::Normal, DEJAVU_SANS)
                .map_err(|_| "the embedded DejaVu Sans font cannot be parsed".to_string())?;
        }
        Ok(())
    })
    .clone()
}
