//! The one font of every picture the `ebm` binary draws: a DejaVu Sans subset (printable ASCII
//! and a few symbols) embedded from `assets/fonts` (its licence there), registered with
//! `plotters` as `sans-serif` once per process, so no system font is needed.

use std::sync::Once;

use plotters::style::{FontStyle, register_font};

const FONT: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans-subset.ttf");

/// The family name charts and heat maps ask `plotters` for.
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font (once; later calls do nothing).
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid font (the chart and heat-map tests draw text); a failure would
        // only lose the text.
        let _ = register_font(FAMILY, FontStyle::Normal, FONT);
    });
}
