//! A small SVG chart of the headline ratios, written by hand.
//!
//! Hand-written rather than plotters: the chart is a few dozen rectangles, and an SVG with
//! `font-family="sans-serif"` text needs no font files, no system libraries and no build
//! step, so it renders the same on GitHub, in a browser and in CI artifacts.
//!
//! Two panels share the case rows: each adapter's messages/s relative to its raw baseline
//! with the 4 KiB read buffer (left) and with tungstenite's default configuration (right).
//! A bar past the dashed line at 1.0× is faster than the baseline.

use std::fmt::Write as _;

use crate::clients::ClientKind;
use crate::throughput::CaseResult;

const LABEL_WIDTH: f64 = 230.0;
const PANEL_WIDTH: f64 = 300.0;
const PANEL_GAP: f64 = 40.0;
const BAR_HEIGHT: f64 = 7.0;
const ROW_GAP: f64 = 8.0;
const TOP: f64 = 64.0;
const COLOURS: [&str; 3] = ["#1f77b4", "#2ca02c", "#d62728"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Where things go: the scale and the rows.
struct Layout {
    row_height: f64,
    height: f64,
    width: f64,
    scale_max: f64,
}

impl Layout {
    fn new(cases: &[CaseResult]) -> Layout {
        let row_height = BAR_HEIGHT * ClientKind::ADAPTERS.len() as f64 + ROW_GAP;
        let largest = cases
            .iter()
            .flat_map(|c| c.comparisons.iter().map(|cmp| cmp.ratio.median))
            .fold(1.5_f64, f64::max);
        Layout {
            row_height,
            height: TOP + row_height * cases.len() as f64 + 50.0,
            width: LABEL_WIDTH + 2.0 * PANEL_WIDTH + PANEL_GAP + 20.0,
            scale_max: (largest * 2.0).ceil() / 2.0,
        }
    }

    /// The x coordinate of `ratio` in panel `panel` (0: vs tuned, 1: vs default).
    fn x(&self, panel: usize, ratio: f64) -> f64 {
        LABEL_WIDTH
            + panel as f64 * (PANEL_WIDTH + PANEL_GAP)
            + ratio / self.scale_max * PANEL_WIDTH
    }
}

/// The chart for `cases`, as an SVG document.
pub fn svg(cases: &[CaseResult]) -> String {
    let layout = Layout::new(cases);
    let (width, height) = (layout.width, layout.height);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="18" font-size="14" font-weight="bold">messages/s of each adapter ÷ its raw tungstenite baseline (same run, paired median)</text>"#
    );
    axes(&mut out, &layout);
    for (row, case) in cases.iter().enumerate() {
        bars(&mut out, &layout, row, case);
    }
    legend(&mut out, &layout);
    out.push_str("</svg>\n");
    out
}

/// Panel titles, grid lines every 0.5×, and the dashed 1.0× line.
fn axes(out: &mut String, layout: &Layout) {
    for (panel, title) in [
        "vs raw with a 4 KiB read buffer",
        "vs raw with the default config",
    ]
    .iter()
    .enumerate()
    {
        let left = layout.x(panel, 0.0);
        let _ = writeln!(
            out,
            r#"<text x="{left:.1}" y="40" font-weight="bold">{title}</text>"#
        );
        let mut tick = 0.0;
        while tick <= layout.scale_max + 1e-9 {
            let tx = layout.x(panel, tick);
            let dash = if (tick - 1.0).abs() < 1e-9 {
                r##" stroke="#333" stroke-dasharray="4 3""##
            } else {
                r##" stroke="#ddd""##
            };
            let _ = writeln!(
                out,
                r#"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}"{dash}/>"#,
                TOP - 6.0,
                layout.height - 44.0
            );
            let _ = writeln!(
                out,
                r##"<text x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{tick:.1}×</text>"##,
                TOP - 10.0
            );
            tick += 0.5;
        }
    }
}

/// One case's row: its title and a bar per adapter in each panel.
fn bars(out: &mut String, layout: &Layout, row: usize, case: &CaseResult) {
    let top = TOP + row as f64 * layout.row_height;
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
        LABEL_WIDTH - 8.0,
        top + layout.row_height / 2.0,
        escape(&case.title)
    );
    for (index, adapter) in ClientKind::ADAPTERS.iter().enumerate() {
        let Some((default, tuned)) = adapter.baselines() else {
            continue;
        };
        for (panel, baseline) in [tuned, default].into_iter().enumerate() {
            let Some(comparison) = case.comparison(*adapter, baseline) else {
                continue;
            };
            let y = top + index as f64 * BAR_HEIGHT;
            let start = layout.x(panel, 0.0);
            let end = layout.x(panel, comparison.ratio.median.min(layout.scale_max));
            let _ = writeln!(
                out,
                r#"<rect x="{start:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {:.2}× {} ({:.2}–{:.2})</title></rect>"#,
                (end - start).max(0.5),
                BAR_HEIGHT - 1.0,
                COLOURS[index],
                escape(adapter.label()),
                comparison.ratio.median,
                escape(baseline.label()),
                comparison.ratio.min,
                comparison.ratio.max
            );
        }
    }
}

/// A colour swatch and name per adapter.
fn legend(out: &mut String, layout: &Layout) {
    let legend_y = layout.height - 20.0;
    let mut legend_x = LABEL_WIDTH;
    for (index, adapter) in ClientKind::ADAPTERS.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<rect x="{legend_x:.1}" y="{:.1}" width="12" height="10" fill="{}"/><text x="{:.1}" y="{legend_y:.1}">{}</text>"#,
            legend_y - 9.0,
            COLOURS[index],
            legend_x + 16.0,
            escape(adapter.label())
        );
        legend_x += 150.0;
    }
}
