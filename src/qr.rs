//! QR codes for enrollment: SVG, terminal, data URL and (feature `png`) PNG.
//!
//! An enrollment QR code encodes the otpauth:// URI, and so the secret:
//! treat the image like the secret (serve it once, over TLS, with
//! `Cache-Control: no-store`; the CLI writes image files 0600). Every
//! output is checked in the tests by real decoders (rqrr, and zbarimg
//! where installed).
//!
//! ```
//! use otpkit::qr::QrStyle;
//! use otpkit::{OtpAuthUri, Qr, Secret, Totp};
//!
//! let uri = OtpAuthUri::for_totp(&Totp::new(Secret::generate()), "alice").with_issuer("ACME");
//! let qr = Qr::from_uri(&uri)?;
//! let img_src = qr.to_data_url(&QrStyle::default()); // for <img src=…>
//! assert!(img_src.starts_with("data:image/svg+xml,"));
//! # Ok::<(), otpkit::Error>(())
//! ```

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
#[cfg(feature = "png")]
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::Error;

/// How much of a QR code may be damaged and still read (ISO/IEC 18004 §4.9).
///
/// ```
/// assert_eq!(otpkit::qr::ErrorCorrection::default(), otpkit::qr::ErrorCorrection::Medium);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorCorrection {
    /// About 7% of the code may be lost.
    Low,
    /// About 15%: the default, a good balance for screens.
    #[default]
    Medium,
    /// About 25%.
    Quartile,
    /// About 30%, for codes printed with a logo over them.
    High,
}

/// How a QR code is drawn: module size, quiet zone and (SVG) colours.
///
/// The defaults give a scannable image in one call: 8-pixel modules, the
/// 4-module quiet zone the standard asks for, black on white.
///
/// ```
/// use otpkit::qr::QrStyle;
///
/// let style = QrStyle::default().module_size(4).quiet_zone(2).colors("#1a1a1a", "#fff")?;
/// assert_eq!(style.size_for(21), (21 + 2 * 2) * 4);
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrStyle {
    module_size: u32,
    quiet_zone: u32,
    dark: String,
    light: String,
}

impl Default for QrStyle {
    fn default() -> Self {
        Self {
            module_size: 8,
            quiet_zone: 4,
            dark: "#000000".into(),
            light: "#ffffff".into(),
        }
    }
}

impl QrStyle {
    /// Pixels per module (SVG units, PNG pixels), kept within 1..=64.
    ///
    /// ```
    /// assert_eq!(otpkit::qr::QrStyle::default().module_size(0).size_for(21), 29);
    /// ```
    #[must_use]
    pub fn module_size(mut self, pixels: u32) -> Self {
        self.module_size = pixels.clamp(1, 64);
        self
    }

    /// Light modules around the code, kept within 0..=16. Scanners want 4.
    ///
    /// ```
    /// assert_eq!(otpkit::qr::QrStyle::default().module_size(1).quiet_zone(0).size_for(21), 21);
    /// ```
    #[must_use]
    pub fn quiet_zone(mut self, modules: u32) -> Self {
        self.quiet_zone = modules.min(16);
        self
    }

    /// Dark and light colours of the SVG, as `#rgb` or `#rrggbb`. Keep the
    /// dark one darker: scanners expect dark modules on a light ground.
    ///
    /// # Errors
    /// [`Error::InvalidColor`] for anything else (which also keeps markup
    /// out of the SVG).
    ///
    /// ```
    /// assert!(otpkit::qr::QrStyle::default().colors("#000", "white").is_err());
    /// ```
    pub fn colors(mut self, dark: &str, light: &str) -> Result<Self, Error> {
        for color in [dark, light] {
            let hex = color.strip_prefix('#').ok_or(Error::InvalidColor)?;
            if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::InvalidColor);
            }
        }
        dark.clone_into(&mut self.dark);
        light.clone_into(&mut self.light);
        Ok(self)
    }

    /// The side of the image, in pixels, for a code `modules` wide.
    ///
    /// ```
    /// assert_eq!(otpkit::qr::QrStyle::default().size_for(21), 232);
    /// ```
    #[must_use]
    pub fn size_for(&self, modules: usize) -> u32 {
        let modules = u32::try_from(modules).unwrap_or(u32::MAX);
        modules
            .saturating_add(self.quiet_zone.saturating_mul(2))
            .saturating_mul(self.module_size)
    }
}

/// An encoded QR code, ready to draw.
///
/// ```
/// use otpkit::{OtpAuthUri, Qr, Secret, Totp};
/// use otpkit::qr::QrStyle;
///
/// let uri = OtpAuthUri::for_totp(&Totp::new(Secret::generate()), "alice").with_issuer("ACME");
/// let qr = Qr::new(&uri.to_string())?;
/// let svg = qr.to_svg(&QrStyle::default());
/// assert!(svg.starts_with("<svg "));
/// assert!(qr.to_data_url(&QrStyle::default()).starts_with("data:image/svg+xml,"));
/// # Ok::<(), otpkit::Error>(())
/// ```
///
/// The modules of an enrollment QR code decode to the secret: `Debug` shows
/// only the width, and they are zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Qr {
    width: usize,
    dark: Vec<bool>,
}

impl Drop for Qr {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.dark);
    }
}

impl core::fmt::Debug for Qr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Qr")
            .field("width", &self.width)
            .finish_non_exhaustive()
    }
}

impl Qr {
    /// Encodes `data` (an otpauth:// URI, or any text) at
    /// [`ErrorCorrection::Medium`].
    ///
    /// # Errors
    /// [`Error::QrTooLong`] past a version-40 code's capacity.
    ///
    /// ```
    /// assert_eq!(otpkit::Qr::new("hello")?.width(), 21);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn new(data: &str) -> Result<Self, Error> {
        Self::with_error_correction(data, ErrorCorrection::default())
    }

    /// The enrollment QR code of an otpauth:// URI, at
    /// [`ErrorCorrection::Medium`]. The URI's text is built in a buffer
    /// that is wiped afterwards.
    ///
    /// # Errors
    /// [`Error::QrTooLong`] for a URI past a QR code's capacity (a very
    /// long label or image URL).
    ///
    /// ```
    /// use otpkit::{OtpAuthUri, Qr, Secret, Totp};
    /// let uri = OtpAuthUri::for_totp(&Totp::new(Secret::generate()), "bob");
    /// assert_eq!(Qr::from_uri(&uri)?, Qr::new(&uri.to_string())?);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_uri(uri: &crate::uri::OtpAuthUri) -> Result<Self, Error> {
        Self::new(&uri.to_zeroizing_string())
    }

    /// Encodes `data` at the given error-correction level.
    ///
    /// # Errors
    /// [`Error::QrTooLong`] past a version-40 code's capacity.
    ///
    /// ```
    /// use otpkit::Qr;
    /// use otpkit::qr::ErrorCorrection;
    /// assert!(Qr::with_error_correction(&"x".repeat(3000), ErrorCorrection::High).is_err());
    /// ```
    pub fn with_error_correction(data: &str, level: ErrorCorrection) -> Result<Self, Error> {
        let level = match level {
            ErrorCorrection::Low => qrcode::EcLevel::L,
            ErrorCorrection::Medium => qrcode::EcLevel::M,
            ErrorCorrection::Quartile => qrcode::EcLevel::Q,
            ErrorCorrection::High => qrcode::EcLevel::H,
        };
        let code = qrcode::QrCode::with_error_correction_level(data, level)
            .map_err(|_| Error::QrTooLong)?;
        Ok(Self {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect(),
        })
    }

    /// Modules per side, without the quiet zone.
    ///
    /// ```
    /// assert_eq!(otpkit::Qr::new("otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY")?.width(), 33);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn width(&self) -> usize {
        self.width
    }

    /// Whether the module at (`x`, `y`) of the image is dark, counting the
    /// quiet zone of `quiet` modules; outside the code everything is light.
    fn is_dark(&self, x: usize, y: usize, quiet: usize) -> bool {
        let (Some(x), Some(y)) = (x.checked_sub(quiet), y.checked_sub(quiet)) else {
            return false;
        };
        x < self.width
            && y.checked_mul(self.width)
                .and_then(|row| row.checked_add(x))
                .and_then(|i| self.dark.get(i))
                .copied()
                .unwrap_or(false)
    }

    fn side(&self, style: &QrStyle) -> usize {
        (style.quiet_zone as usize)
            .saturating_mul(2)
            .saturating_add(self.width)
    }

    /// An SVG image: one path, crisp edges, sized in pixels by the style.
    ///
    /// ```
    /// let svg = otpkit::Qr::new("hi")?.to_svg(&otpkit::qr::QrStyle::default());
    /// assert!(svg.contains(r#"width="232""#) && svg.ends_with("</svg>\n"));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn to_svg(&self, style: &QrStyle) -> String {
        let side = self.side(style);
        let pixels = style.size_for(self.width);
        let quiet = style.quiet_zone as usize;
        let mut svg = String::with_capacity(self.dark.len().saturating_mul(12));
        // Writing to a String cannot fail.
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{pixels}\" height=\"{pixels}\" \
             viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{side}\" height=\"{side}\" fill=\"{}\"/><path fill=\"{}\" d=\"",
            style.light, style.dark
        );
        for y in 0..side {
            for x in 0..side {
                if self.is_dark(x, y, quiet) {
                    let _ = write!(svg, "M{x} {y}h1v1h-1z");
                }
            }
        }
        svg.push_str("\"/></svg>\n");
        svg
    }

    /// A `data:` URL of the SVG, for an `<img src>`.
    ///
    /// ```
    /// let url = otpkit::Qr::new("hi")?.to_data_url(&otpkit::qr::QrStyle::default());
    /// assert!(url.starts_with("data:image/svg+xml,%3Csvg"));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn to_data_url(&self, style: &QrStyle) -> String {
        format!(
            "data:image/svg+xml,{}",
            utf8_percent_encode(&self.to_svg(style), NON_ALPHANUMERIC)
        )
    }

    /// Text for a terminal: two modules per character cell with Unicode half
    /// blocks, drawn black on white with ANSI colours so the code reads the
    /// same on dark and light terminals, quiet zone included. Module size
    /// does not apply.
    ///
    /// ```
    /// let text = otpkit::Qr::new("hi")?.to_terminal(&otpkit::qr::QrStyle::default());
    /// assert_eq!(text.lines().count(), (21 + 8 + 1) / 2);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn to_terminal(&self, style: &QrStyle) -> String {
        let side = self.side(style);
        let quiet = style.quiet_zone as usize;
        let mut out = String::new();
        for y in (0..side).step_by(2) {
            out.push_str("\x1b[30;107m");
            for x in 0..side {
                let top = self.is_dark(x, y, quiet);
                let bottom = y
                    .checked_add(1)
                    .is_some_and(|y| y < side && self.is_dark(x, y, quiet));
                out.push(match (top, bottom) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
            out.push_str("\x1b[0m\n");
        }
        out
    }

    /// A greyscale PNG, black on white, sized by the style.
    ///
    /// ```
    /// let png = otpkit::Qr::new("hi")?.to_png(&otpkit::qr::QrStyle::default());
    /// assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "png")]
    #[cfg_attr(docsrs, doc(cfg(feature = "png")))]
    #[must_use]
    pub fn to_png(&self, style: &QrStyle) -> Vec<u8> {
        let pixels = style.size_for(self.width);
        let module = core::num::NonZeroUsize::new(style.module_size as usize)
            .unwrap_or(core::num::NonZeroUsize::MIN);
        let quiet = style.quiet_zone as usize;
        let side = pixels as usize;
        let mut image = vec![0xffu8; side.saturating_mul(side)];
        for (py, row) in image.chunks_exact_mut(side.max(1)).enumerate() {
            for (px, pixel) in row.iter_mut().enumerate() {
                if self.is_dark(px / module, py / module, quiet) {
                    *pixel = 0;
                }
            }
        }
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, pixels, pixels);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        // Writing a well-sized image into a Vec cannot fail.
        let written = encoder
            .write_header()
            .and_then(|mut writer| writer.write_image_data(&image));
        debug_assert!(written.is_ok());
        png
    }
}
