//! Backends, font registration and atomic file output.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::PlotError;

static FONT_BYTES: &[u8] = include_bytes!("../../lyap-cli/assets/DejaVuSans.ttf");
static REGISTER_FONT: Once = Once::new();

/// Registers the embedded font as plotters' `sans-serif` family (normal, bold, italic).
fn ensure_font_registered() {
    REGISTER_FONT.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold, FontStyle::Italic] {
            // The font is embedded at compile time and known to parse; a failure would
            // surface as a drawing error ("font unavailable") on first use.
            let _ = register_font("sans-serif", style, FONT_BYTES);
        }
    });
}

/// Output format chosen from a path's extension (case-insensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

impl ImageFormat {
    /// `.svg` -> Svg, `.png` -> Png, anything else -> error.
    pub fn from_path(path: &Path) -> Result<Self, PlotError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => Ok(Self::Svg),
            Some("png") => Ok(Self::Png),
            _ => Err(PlotError::UnsupportedFormat {
                path: path.display().to_string(),
            }),
        }
    }
}

/// The result of drawing onto backend `DB`: plotters' error of that backend on failure.
pub type DrawResult<DB, T = ()> =
    Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something that can draw itself onto any plotters backend.
pub trait Figure {
    /// Title used in error messages.
    fn title(&self) -> &str;
    /// Draws the whole figure onto `area` (already sized).
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB>;

    /// Saves the figure to `path` (`.svg` or `.png`) at [`crate::DEFAULT_SIZE`].
    fn save(&self, path: &Path) -> Result<(), PlotError>
    where
        Self: Sized,
    {
        save_figure(self, path, crate::DEFAULT_SIZE)
    }
}

/// Fills `area` white, draws `figure` on it and presents it; a failure keeps plotters' error
/// as the source of [`PlotError::Draw`].
fn render<F: Figure, DB: DrawingBackend>(
    figure: &F,
    area: &DrawingArea<DB, Shift>,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let drawn = area
        .fill(&WHITE)
        .and_then(|()| figure.draw(area))
        .and_then(|()| area.present());
    drawn.map_err(|source| PlotError::Draw {
        title: figure.title().to_string(),
        source: Box::new(source),
    })
}

/// Renders `figure` to `path` with `size` pixels, atomically (temporary file + rename).
pub fn save_figure<F: Figure>(figure: &F, path: &Path, size: (u32, u32)) -> Result<(), PlotError> {
    ensure_font_registered();
    match ImageFormat::from_path(path)? {
        ImageFormat::Svg => {
            let mut svg = String::new();
            render(
                figure,
                &SVGBackend::with_string(&mut svg, size).into_drawing_area(),
            )?;
            write_atomic(path, svg.as_bytes())
        }
        ImageFormat::Png => {
            let temp = temporary_sibling(path, "png");
            let rendered = render(figure, &BitMapBackend::new(&temp, size).into_drawing_area());
            match rendered {
                Ok(()) => std::fs::rename(&temp, path).map_err(|source| {
                    let _ = std::fs::remove_file(&temp);
                    io_error(path, source)
                }),
                Err(e) => {
                    let _ = std::fs::remove_file(&temp);
                    Err(e)
                }
            }
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> PlotError {
    PlotError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A unique temporary path in the same directory as `path` (so a rename is atomic),
/// ending in `.EXTENSION`.
fn temporary_sibling(path: &Path, extension: &str) -> std::path::PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let stem = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = format!(".{stem}.tmp{}-{n}.{extension}", std::process::id());
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(name),
        _ => std::path::PathBuf::from(name),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory is written,
/// flushed to disk, then renamed over `path`. Readers see the old or the new file, never a
/// half-written one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    let temp = temporary_sibling(path, "tmp");
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    result.map_err(|source| {
        let _ = std::fs::remove_file(&temp);
        io_error(path, source)
    })
}
