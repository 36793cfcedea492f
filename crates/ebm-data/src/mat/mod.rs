//! MATLAB level-5 MAT-files, as far as SVHN's cropped-digit files need them.
//!
//! `train_32x32.mat` and `test_32x32.mat` (ufldl.stanford.edu/housenumbers) are MAT-files of
//! version 5 ("MATLAB 5.0 MAT-file" header, zlib-compressed variables), holding `X`, a
//! `32 x 32 x 3 x N` `uint8` array (column-major: row, column, channel, image), and `y`, `N x 1`
//! labels 1..=10 where 10 stands for the digit 0. The format (MathWorks, "MAT-File Format",
//! level 5): a 128-byte header (116 bytes of text, 8 of subsystem offset, version 0x0100, the
//! endian indicator `IM` or `MI`), then data elements: an 8-byte tag (type, byte count; or the
//! 4-byte "small element" form with the count in the upper half of the type word) and the data
//! padded to 8 bytes. A variable is an `miMATRIX` element (array flags, dimensions, name, real
//! part) or an `miCOMPRESSED` element holding one zlib stream of such an element.
//!
//! [`parse_mat_arrays`] reads every numeric array; [`parse_svhn_mat`] turns `X` and `y` into an
//! [`ImageSet`]; [`write_svhn_mat`] writes a set in that same layout for fixtures.

use std::io::Read;

use crate::dataset::{DatasetError, ImageSet};

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MX_DOUBLE_CLASS: u8 = 6;
const MX_UINT8_CLASS: u8 = 9;
/// No MAT-file this crate reads inflates to more than this (SVHN's `extra` split: 1.6 GB).
const MAX_INFLATED: u64 = 4 << 30;

/// Why a MAT-file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum MatError {
    /// Not a level-5 MAT-file, or a structure the reader does not handle.
    #[error("{file}: {message}")]
    Format {
        /// File.
        file: String,
        /// What is wrong, with the offending value.
        message: String,
    },
    /// A variable the caller needs is absent.
    #[error("{file}: no variable {name:?} (found {found:?})")]
    Missing {
        /// File.
        file: String,
        /// Variable wanted.
        name: String,
        /// Variables present.
        found: Vec<String>,
    },
    /// The arrays do not form an image set.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
}

/// One numeric array of a MAT-file, values in MATLAB's column-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct MatArray {
    /// Variable name.
    pub name: String,
    /// Dimensions (at least two).
    pub dims: Vec<usize>,
    /// The MATLAB class (`mxUINT8_CLASS` = 9, `mxDOUBLE_CLASS` = 6, ...).
    pub class: u8,
    /// Values as stored, widened to `f64`.
    pub values: MatValues,
}

/// Stored values: bytes kept as they are (the images), anything else widened to `f64`.
#[derive(Debug, Clone, PartialEq)]
pub enum MatValues {
    /// `miUINT8` data.
    U8(Vec<u8>),
    /// Any other numeric type.
    F64(Vec<f64>),
}

impl MatValues {
    fn len(&self) -> usize {
        match self {
            MatValues::U8(v) => v.len(),
            MatValues::F64(v) => v.len(),
        }
    }
}

struct Reader<'a> {
    file: &'a str,
    bytes: &'a [u8],
    pos: usize,
    big_endian: bool,
}

impl<'a> Reader<'a> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, MatError> {
        Err(MatError::Format {
            file: self.file.to_string(),
            message: message.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], MatError> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.bytes.len() => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            _ => self.err(format!(
                "truncated: {n} bytes wanted at offset {}, {} left",
                self.pos,
                self.bytes.len() - self.pos
            )),
        }
    }

    fn u32(&mut self) -> Result<u32, MatError> {
        let b: [u8; 4] = self.take(4)?.try_into().expect("4 bytes");
        Ok(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// A data element's type and body, the reader left at the next 8-byte boundary.
    fn element(&mut self) -> Result<(u32, &'a [u8]), MatError> {
        let word = self.u32()?;
        if word >> 16 != 0 {
            // Small element: count in the upper half, up to 4 bytes of data in the tag.
            let (ty, n) = (word & 0xffff, (word >> 16) as usize);
            if n > 4 {
                return self.err(format!("small data element of {n} bytes, expected <= 4"));
            }
            let body = self.take(4)?;
            return Ok((ty, &body[..n]));
        }
        let n = self.u32()? as usize;
        let body = self.take(n)?;
        if word != MI_COMPRESSED {
            let pad = (8 - n % 8) % 8;
            self.take(pad.min(self.bytes.len() - self.pos))?;
        }
        Ok((word, body))
    }

    fn sub(&self, bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            file: self.file,
            bytes,
            pos: 0,
            big_endian: self.big_endian,
        }
    }
}

fn numbers(r: &Reader, ty: u32, body: &[u8]) -> Result<MatValues, MatError> {
    if ty == MI_UINT8 {
        return Ok(MatValues::U8(body.to_vec()));
    }
    let width = match ty {
        MI_INT8 => 1,
        MI_INT16 | MI_UINT16 => 2,
        MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
        MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
        other => return r.err(format!("unsupported numeric data type {other}")),
    };
    if !body.len().is_multiple_of(width) {
        return r.err(format!(
            "{} bytes of type {ty}, not a multiple of {width}",
            body.len()
        ));
    }
    let be = r.big_endian;
    let out = body
        .chunks_exact(width)
        .map(|c| {
            let mut b = [0u8; 8];
            if be {
                b[8 - width..].copy_from_slice(c);
                b.reverse();
            } else {
                b[..width].copy_from_slice(c);
            }
            let bits = u64::from_le_bytes(b);
            let sign = |w: u32| ((bits << (64 - w)) as i64 >> (64 - w)) as f64;
            match ty {
                MI_INT8 => sign(8),
                MI_INT16 => sign(16),
                MI_INT32 => sign(32),
                MI_INT64 => bits as i64 as f64,
                MI_SINGLE => f64::from(f32::from_bits(bits as u32)),
                MI_DOUBLE => f64::from_bits(bits),
                _ => bits as f64,
            }
        })
        .collect();
    Ok(MatValues::F64(out))
}

/// Reads one `miMATRIX` body; `None` for arrays that are not plain real numeric ones (cells,
/// structs, sparse, complex), which SVHN files do not hold and the reader skips.
fn matrix(r: &Reader, body: &[u8]) -> Result<Option<MatArray>, MatError> {
    let mut m = r.sub(body);
    let (ty, flags) = m.element()?;
    if ty != MI_UINT32 || flags.len() != 8 {
        return m.err(format!(
            "array flags of type {ty} and {} bytes, expected miUINT32 x 2",
            flags.len()
        ));
    }
    let flags = m.sub(flags).u32()?;
    let class = (flags & 0xff) as u8;
    let complex = flags & 0x0800 != 0;
    let (ty, dims) = m.element()?;
    if ty != MI_INT32 || dims.len() < 8 || dims.len() % 4 != 0 {
        return m.err(format!(
            "dimensions of type {ty} and {} bytes, expected at least two miINT32",
            dims.len()
        ));
    }
    let mut d = m.sub(dims);
    let dims: Vec<usize> = (0..dims.len() / 4)
        .map(|_| d.u32().map(|v| v as usize))
        .collect::<Result<_, _>>()?;
    let (_, name) = m.element()?;
    let name = String::from_utf8_lossy(name).into_owned();
    if !(6..=15).contains(&class) || complex {
        return Ok(None); // cell, struct, object, char, sparse, or complex
    }
    let count = dims
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))
        .filter(|&c| c <= body.len())
        .map_or_else(
            || m.err(format!("dimensions {dims:?} exceed the element's size")),
            Ok,
        )?;
    let (ty, data) = m.element()?;
    let values = numbers(&m, ty, data)?;
    if values.len() != count {
        return m.err(format!(
            "{name:?}: {} values for dimensions {dims:?} ({count})",
            values.len()
        ));
    }
    Ok(Some(MatArray {
        name,
        dims,
        class,
        values,
    }))
}

/// Every real numeric array of a level-5 MAT-file, compressed or not, in either byte order.
/// `file` names the source in errors.
pub fn parse_mat_arrays(file: &str, bytes: &[u8]) -> Result<Vec<MatArray>, MatError> {
    let format = |message: String| MatError::Format {
        file: file.to_string(),
        message,
    };
    if bytes.len() < 128 || !bytes.starts_with(b"MATLAB 5.0 MAT-file") {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(19)]).into_owned();
        return Err(format(format!(
            "not a level-5 MAT-file: header starts {head:?}, expected \"MATLAB 5.0 MAT-file\" \
             (MATLAB 7.3 files are HDF5 and not read here)"
        )));
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        other => {
            return Err(format(format!(
                "endian indicator {other:?}, expected \"IM\" or \"MI\""
            )));
        }
    };
    let mut r = Reader {
        file,
        bytes,
        pos: 128,
        big_endian,
    };
    let mut out = Vec::new();
    while r.pos + 8 <= bytes.len() {
        let (ty, body) = r.element()?;
        let array = match ty {
            MI_MATRIX => matrix(&r, body)?,
            MI_COMPRESSED => {
                let mut inflated = Vec::new();
                flate2::read::ZlibDecoder::new(body)
                    .take(MAX_INFLATED)
                    .read_to_end(&mut inflated)
                    .map_err(|e| format(format!("inflating a compressed variable: {e}")))?;
                let mut inner = r.sub(&inflated);
                let (ty, body) = inner.element()?;
                if ty != MI_MATRIX {
                    return Err(format(format!(
                        "compressed element holds type {ty}, expected miMATRIX (14)"
                    )));
                }
                matrix(&inner, body)?
            }
            _ => None,
        };
        out.extend(array);
    }
    Ok(out)
}

/// SVHN's cropped digits (`X`: 32 x 32 x 3 x N, `y`: N labels 1..=10, 10 meaning 0) as an
/// [`ImageSet`] of 3 x 32 x 32 images with labels 0..=9.
pub fn parse_svhn_mat(file: &str, bytes: &[u8]) -> Result<ImageSet, MatError> {
    let arrays = parse_mat_arrays(file, bytes)?;
    let find = |name: &str| {
        arrays
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| MatError::Missing {
                file: file.to_string(),
                name: name.to_string(),
                found: arrays.iter().map(|a| a.name.clone()).collect(),
            })
    };
    let (x, y) = (find("X")?, find("y")?);
    let bad = |message: String| MatError::Format {
        file: file.to_string(),
        message,
    };
    let n = match x.dims[..] {
        [32, 32, 3, n] => n,
        [32, 32, 3] => 1,
        ref d => {
            return Err(bad(format!(
                "X has dimensions {d:?}, expected [32, 32, 3, N]"
            )));
        }
    };
    let MatValues::U8(xs) = &x.values else {
        return Err(bad("X is not stored as uint8".into()));
    };
    if y.values.len() != n || y.dims.iter().filter(|&&d| d != 1).count() > 1 {
        return Err(bad(format!(
            "y has dimensions {:?}, expected [{n}, 1] for the {n} images of X",
            y.dims
        )));
    }
    let labels: Vec<f64> = match &y.values {
        MatValues::U8(v) => v.iter().map(|&b| f64::from(b)).collect(),
        MatValues::F64(v) => v.clone(),
    };
    let labels = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| match l {
            10.0 => Ok(0u16),
            l if (1.0..=9.0).contains(&l) && l.fract() == 0.0 => Ok(l as u16),
            l => Err(bad(format!("y[{i}] = {l}, expected 1..=10"))),
        })
        .collect::<Result<Vec<u16>, _>>()?;
    // Column-major (row, col, channel, image) to NCHW row-major.
    let mut pixels = vec![0u8; n * 3072];
    for (img, out) in pixels.chunks_exact_mut(3072).enumerate() {
        let src = &xs[img * 3072..(img + 1) * 3072];
        for c in 0..3 {
            for row in 0..32 {
                for col in 0..32 {
                    out[c * 1024 + row * 32 + col] = src[c * 1024 + col * 32 + row];
                }
            }
        }
    }
    Ok(ImageSet::new(file, pixels, labels, [3, 32, 32], 10)?)
}

mod write;
pub use write::write_svhn_mat;

#[cfg(test)]
mod tests;
