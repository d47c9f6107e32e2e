//! A line chart with a log-scale y axis as standalone SVG, drawn with plotters' SVG backend
//! (text is left to the viewer's fonts: no font files or system libraries needed).

use std::collections::BTreeMap;

use plotters::prelude::*;

const SIZE: (u32, u32) = (640, 400);
const COLORS: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// Plots each series (x, y; y below 1 is drawn at 1) with y on a log10 scale.
pub fn log_plot(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &BTreeMap<String, Vec<(f64, f64)>>,
) -> String {
    let mut out = String::new();
    let drawn = draw(&mut out, title, x_label, y_label, series);
    if let Err(e) = drawn {
        // Only a plotting bug gets here; the tables beside the plot carry the numbers.
        out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><text y=\"20\">{}: {}</text></svg>\n",
            escape(title),
            escape(&e)
        );
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn draw(
    out: &mut String,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &BTreeMap<String, Vec<(f64, f64)>>,
) -> Result<(), String> {
    let points = || series.values().flatten();
    let (x0, x1) = points().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (x0, x1) = if x0 < x1 { (x0, x1) } else { (0.0, 1.0) };
    let y1 = points().fold(10.0f64, |m, p| m.max(p.1));
    let y1 = 10f64.powf(y1.log10().ceil());
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, (1.0..y1).log_scale())
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|x| format!("{x}"))
        .y_label_formatter(&|y| format!("{y:e}"))
        .draw()
        .map_err(|x| e(&x))?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x, y.max(1.0))).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|x| e(&x))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE)
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[test]
    fn plots_every_series_with_its_name() {
        let series = BTreeMap::from([
            (
                "nr_vmas".to_string(),
                vec![(1.0, 300.0), (2.0, 1652.0), (3.0, 9000.0)],
            ),
            ("reader_stall".to_string(), vec![(1.0, 0.0), (2.0, 50.0)]),
        ]);
        let svg = super::log_plot("title <k=2>", "parameter value", "executions", &series);
        assert!(svg.starts_with("<svg"), "{svg}");
        for text in [
            "nr_vmas",
            "reader_stall",
            "title &lt;k=2&gt;",
            "parameter value",
        ] {
            assert!(svg.contains(text), "{text} missing: {svg}");
        }
        let empty = super::log_plot("t", "x", "y", &BTreeMap::new());
        assert!(empty.starts_with("<svg"), "{empty}");
    }
}
