//! `--qr FILE`: the text of the QR code in a PNG image (a screenshot of an
//! enrollment page, a saved export), read with rqrr. The pixels show the
//! secret: the buffers this file holds them in are wiped (the PNG
//! decoder's and rqrr's own working buffers are not). An image is refused
//! before any pixel is allocated when it claims more than [`MAX_PIXELS`].

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

use crate::Failure;

/// The largest image file read: a screenshot of a 4K screen is a few MiB.
const MAX_IMAGE: u64 = 32 << 20;

/// The most pixels an image may claim (an 8K screen is 33 million): a
/// header is read before its pixels, so a small file claiming more is
/// refused before its buffer is allocated.
const MAX_PIXELS: u64 = 40_000_000;

/// The one QR code's text in the PNG at `path`.
pub fn text_of_qr(path: &Path) -> Result<Zeroizing<String>, Failure> {
    let file_failure = |why: String| Failure::File(format!("{}: {why}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| file_failure(e.to_string()))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_IMAGE.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| file_failure(e.to_string()))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_IMAGE {
        return Err(file_failure(
            "larger than 32 MiB, so not a QR code's image".into(),
        ));
    }
    let (width, height, luma) = greyscale(&bytes).map_err(file_failure)?;
    // rqrr asserts on some crafted geometry: a panic there is an image
    // with no readable QR code, not a crash.
    let texts = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
            luma.get(y.saturating_mul(width).saturating_add(x))
                .copied()
                .unwrap_or(255)
        });
        image
            .detect_grids()
            .iter()
            .filter_map(|grid| grid.decode().ok().map(|(_, text)| Zeroizing::new(text)))
            .collect::<Vec<_>>()
    }))
    .map_err(|_| file_failure("no readable QR code in it".into()))?;
    match texts.len() {
        0 => Err(file_failure("no QR code found in it".into())),
        1 => Ok(texts.into_iter().next().unwrap_or_default()),
        n => Err(file_failure(format!("{n} QR codes in it: crop it to one"))),
    }
}

/// The image's size and its pixels as 8-bit grey (colour weighed as the
/// eye does, transparency over white).
fn greyscale(png: &[u8]) -> Result<(usize, usize, Zeroizing<Vec<u8>>), String> {
    let unreadable = |e: png::DecodingError| format!("not a PNG image otpkit reads: {e}");
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(unreadable)?;
    let (claimed_width, claimed_height) = (reader.info().width, reader.info().height);
    if u64::from(claimed_width) * u64::from(claimed_height) > MAX_PIXELS {
        return Err(format!(
            "an image of {claimed_width}×{claimed_height} pixels, more than a screenshot's 40 million"
        ));
    }
    let size = reader.output_buffer_size().unwrap_or(0);
    let mut pixels = Zeroizing::new(vec![0u8; size]);
    let info = reader.next_frame(&mut pixels).map_err(unreadable)?;
    let channels = info.color_type.samples();
    let (width, height) = (info.width as usize, info.height as usize);
    let mut luma = Zeroizing::new(Vec::with_capacity(width.saturating_mul(height)));
    for row in pixels.chunks(info.line_size).take(height) {
        for pixel in row.chunks(channels).take(width) {
            let channel = |i: usize| u32::from(pixel.get(i).copied().unwrap_or(0));
            let (grey, alpha) = match channels {
                1 => (channel(0), 255),
                2 => (channel(0), channel(1)),
                3 => (
                    (channel(0) * 299 + channel(1) * 587 + channel(2) * 114) / 1000,
                    255,
                ),
                _ => (
                    (channel(0) * 299 + channel(1) * 587 + channel(2) * 114) / 1000,
                    channel(3),
                ),
            };
            let over_white = (grey * alpha + 255 * (255 - alpha)) / 255;
            luma.push(u8::try_from(over_white).unwrap_or(255));
        }
    }
    Ok((width, height, luma))
}
