//! Writing SVHN's MAT-file layout, for fixtures.

use std::io::Write;

use super::{
    MI_COMPRESSED, MI_INT8, MI_INT32, MI_MATRIX, MI_UINT8, MI_UINT32, MX_DOUBLE_CLASS,
    MX_UINT8_CLASS,
};
use crate::dataset::ImageSet;

fn tag(out: &mut Vec<u8>, ty: u32, body: &[u8]) {
    out.extend(ty.to_le_bytes());
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out.resize(out.len().next_multiple_of(8), 0);
}

/// One `miMATRIX` element of class `class` holding `data` as `miUINT8`.
fn matrix_element(name: &str, class: u8, dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    tag(&mut body, MI_UINT32, &[class, 0, 0, 0, 0, 0, 0, 0]);
    let dims: Vec<u8> = dims
        .iter()
        .flat_map(|&d| (d as u32).to_le_bytes())
        .collect();
    tag(&mut body, MI_INT32, &dims);
    if name.len() <= 4 {
        // MATLAB writes short names as small elements.
        body.extend(((name.len() as u32) << 16 | MI_INT8).to_le_bytes());
        let mut b = name.as_bytes().to_vec();
        b.resize(4, 0);
        body.extend(b);
    } else {
        tag(&mut body, MI_INT8, name.as_bytes());
    }
    tag(&mut body, MI_UINT8, data);
    let mut out = Vec::new();
    tag(&mut out, MI_MATRIX, &body);
    out
}

/// Writes `set` (3 x 32 x 32, labels 0..=9) as SVHN's MAT-file: the level-5 header, then `X`
/// (`uint8`, 32 x 32 x 3 x N, column-major) and `y` (`y_class`: `mxUINT8_CLASS` or
/// `mxDOUBLE_CLASS` stored as bytes, as MATLAB stores small integers; labels 1..=10), each
/// variable zlib-compressed as MATLAB saves them. For fixtures.
///
/// # Panics
///
/// If the images are not 3 x 32 x 32.
pub fn write_svhn_mat(set: &ImageSet, y_is_double: bool) -> Vec<u8> {
    assert_eq!(set.image_shape(), [3, 32, 32], "SVHN images are 3x32x32");
    let mut header = b"MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: fixture".to_vec();
    header.resize(116, b' ');
    header.extend([0u8; 8]);
    header.extend(0x0100u16.to_le_bytes());
    header.extend(b"IM");
    let n = set.len();
    let mut x = vec![0u8; n * 3072];
    for i in 0..n {
        let src = set.image(i);
        for c in 0..3 {
            for row in 0..32 {
                for col in 0..32 {
                    x[i * 3072 + c * 1024 + col * 32 + row] = src[c * 1024 + row * 32 + col];
                }
            }
        }
    }
    let y: Vec<u8> = set
        .labels
        .iter()
        .map(|&l| if l == 0 { 10 } else { l as u8 })
        .collect();
    let y_class = if y_is_double {
        MX_DOUBLE_CLASS
    } else {
        MX_UINT8_CLASS
    };
    let mut out = header;
    for element in [
        matrix_element("X", MX_UINT8_CLASS, &[32, 32, 3, n], &x),
        matrix_element("y", y_class, &[n, 1], &y),
    ] {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&element).expect("writing to memory");
        let z = z.finish().expect("writing to memory");
        out.extend(MI_COMPRESSED.to_le_bytes());
        out.extend((z.len() as u32).to_le_bytes());
        out.extend(z);
    }
    out
}
