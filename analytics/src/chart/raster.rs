//! The PNG drawing surface: plotters' bitmap backend with its own text drawing.
//!
//! plotters 0.3.7 places each glyph of bitmap text on its own (it truncates every glyph's
//! vertical offset toward zero and drops its left bearing), so at legend sizes dots and commas
//! float a pixel above the line ("15·6%") and letters wobble apart. Here the glyphs of a text
//! share one baseline and keep their bearings. Text is measured exactly as plotters measures it
//! (its layout box, the same advances and kerning), so layout is the same as in the SVG.
//!
//! Its thick lines are thinner on steep segments than on flat ones, so a line chart looked
//! drawn with two pens; here a thick segment is a filled band of the full width with round
//! joins.

use ab_glyph::{Font, FontRef, ScaleFont, point};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};

/// A [`BitMapBackend`] over an RGB buffer whose text is drawn with `font`.
pub(super) struct Raster<'a> {
    bitmap: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> Raster<'a> {
    pub(super) fn new(rgb: &'a mut [u8], size: (u32, u32), font: FontRef<'static>) -> Self {
        Raster {
            bitmap: BitMapBackend::with_buffer(rgb, size),
            font,
        }
    }
}

impl Raster<'_> {
    /// A thick segment: a band as wide as the stroke, with a round cap at each end so that
    /// consecutive segments join without notches.
    fn band<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> Result<(), Error<'_>> {
        let color = style.color();
        let half = f64::from(style.stroke_width()) / 2.0;
        let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
        let length = dx.hypot(dy);
        if length > 0.0 {
            let (nx, ny) = (-dy / length * half, dx / length * half);
            let side = |p: BackendCoord, sign: f64| {
                (
                    (f64::from(p.0) + sign * nx).round() as i32,
                    (f64::from(p.1) + sign * ny).round() as i32,
                )
            };
            let band = [side(from, 1.0), side(to, 1.0), side(to, -1.0), side(from, -1.0)];
            self.bitmap.fill_polygon(band, &color)?;
        }
        let radius = (half - 0.5).max(1.0).round() as u32;
        self.bitmap.draw_circle(from, radius, &color, true)?;
        self.bitmap.draw_circle(to, radius, &color, true)
    }
}

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

impl<'a> DrawingBackend for Raster<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.bitmap.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.bitmap.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.bitmap.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.bitmap.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> Result<(), Error<'a>> {
        if style.stroke_width() <= 1 {
            return self.bitmap.draw_line(from, to, style);
        }
        self.band(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.bitmap.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        if style.stroke_width() <= 1 {
            return self.bitmap.draw_path(path, style);
        }
        let points: Vec<BackendCoord> = path.into_iter().collect();
        for pair in points.windows(2) {
            self.band(pair[0], pair[1], style)?;
        }
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.bitmap.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.bitmap.fill_polygon(vertices, style)
    }

    fn blit_bitmap(&mut self, pos: BackendCoord, (w, h): (u32, u32), src: &[u8]) -> Result<(), Error<'a>> {
        self.bitmap.blit_bitmap(pos, (w, h), src)
    }

    fn draw_text<S: BackendTextStyle>(&mut self, text: &str, style: &S, pos: BackendCoord) -> Result<(), Error<'a>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        // The box plotters laid the text out with, anchored the way plotters anchors it.
        let ((x0, y0), (x1, y1)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (x1 - x0, y1 - y0);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Center => -width / 2,
            HPos::Right => -width,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let font = self.font.as_scaled(style.size() as f32);
        // The line (ascent over descent) centred in the box, so centred text looks centred.
        let baseline = (height as f32 + font.ascent() + font.descent()) / 2.0;
        let transform = style.transform();
        let (mut caret, mut previous) = (0.0f32, None);
        let mut pixels = Vec::new();
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                caret += font.kern(previous, id);
            }
            previous = Some(id);
            let glyph = id.with_scale_and_position(font.scale(), point(caret, baseline));
            caret += font.h_advance(id);
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let (left, top) = (bounds.min.x as i32, bounds.min.y as i32);
            outline.draw(|x, y, coverage| pixels.push((left + x as i32, top + y as i32, coverage)));
        }
        for (x, y, coverage) in pixels {
            let (x, y) = transform.transform(x + dx, y + dy);
            let alpha = color.alpha * f64::from(coverage.min(1.0));
            self.bitmap
                .draw_pixel((pos.0 + x, pos.1 + y), BackendColor { alpha, rgb: color.rgb })?;
        }
        Ok(())
    }
}
