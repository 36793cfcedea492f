//! The IDX format of MNIST and Fashion-MNIST (raw or gzip-compressed).
//!
//! Layout: a big-endian magic `0x0000 TT NN` (TT = element type, 0x08 for unsigned bytes; NN =
//! number of dimensions), NN big-endian `u32` dimension sizes, then the elements row-major.

use std::io::Read;

use crate::dataset::{DatasetError, ImageSet};

/// Why IDX bytes could not be read. Every message names the file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdxError {
    /// Fewer bytes than the header or the dimensions promise.
    #[error("{file}: truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// File name, for the message.
        file: String,
        /// Bytes the header implies.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// Magic number other than the one expected.
    #[error("{file}: bad magic 0x{found:08x}, expected 0x{expected:08x}")]
    BadMagic {
        /// File name.
        file: String,
        /// Expected magic.
        expected: u32,
        /// Magic found.
        found: u32,
    },
    /// Data after the last element.
    #[error("{file}: {extra} unexpected bytes after the data")]
    TrailingBytes {
        /// File name.
        file: String,
        /// Extra bytes.
        extra: usize,
    },
    /// A gzip stream that does not decompress.
    #[error("{file}: not valid gzip: {message}")]
    Gzip {
        /// File name.
        file: String,
        /// Decoder message.
        message: String,
    },
}

/// An unsigned-byte IDX array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimension sizes, outermost first.
    pub dims: Vec<usize>,
    /// Elements, row-major.
    pub data: Vec<u8>,
}

/// Decompresses `bytes` if they start with the gzip magic, else returns them unchanged.
pub fn maybe_gunzip(file: &str, bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| IdxError::Gzip {
                file: file.to_string(),
                message: e.to_string(),
            })?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

/// Parses an unsigned-byte IDX array with `ndims` dimensions (3 for images, 1 for labels) from
/// raw or gzip `bytes`; `file` names the source in errors.
pub fn parse_idx_u8(file: &str, bytes: &[u8], ndims: u8) -> Result<IdxArray, IdxError> {
    let bytes = maybe_gunzip(file, bytes)?;
    let truncated = |expected: usize| IdxError::Truncated {
        file: file.to_string(),
        expected,
        found: bytes.len(),
    };
    let header = 4 + 4 * ndims as usize;
    if bytes.len() < 4 {
        return Err(truncated(header));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let expected_magic = 0x0000_0800 | u32::from(ndims);
    if magic != expected_magic {
        return Err(IdxError::BadMagic {
            file: file.to_string(),
            expected: expected_magic,
            found: magic,
        });
    }
    if bytes.len() < header {
        return Err(truncated(header));
    }
    let dims: Vec<usize> = (0..ndims as usize)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|n| n.checked_add(header))
        .ok_or_else(|| truncated(usize::MAX))?;
    if bytes.len() < count {
        return Err(truncated(count));
    }
    if bytes.len() > count {
        return Err(IdxError::TrailingBytes {
            file: file.to_string(),
            extra: bytes.len() - count,
        });
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// Parses an IDX image file (`[n, h, w]`) and its label file (`[n]`) into an [`ImageSet`] of
/// grey images with `classes` classes.
pub fn parse_idx_images(
    images_file: &str,
    images: &[u8],
    labels_file: &str,
    labels: &[u8],
    classes: usize,
) -> Result<ImageSet, LoadError> {
    let img = parse_idx_u8(images_file, images, 3)?;
    let lab = parse_idx_u8(labels_file, labels, 1)?;
    if img.dims[0] != lab.dims[0] {
        return Err(DatasetError::CountMismatch {
            images_file: images_file.to_string(),
            images: img.dims[0],
            labels_file: labels_file.to_string(),
            labels: lab.dims[0],
        }
        .into());
    }
    if let Some((index, &label)) = lab
        .data
        .iter()
        .enumerate()
        .find(|(_, l)| usize::from(**l) >= classes)
    {
        return Err(DatasetError::LabelOutOfRange {
            file: labels_file.to_string(),
            index,
            label: label.into(),
            classes,
        }
        .into());
    }
    let labels = lab.data.into_iter().map(u16::from).collect();
    Ok(ImageSet::new(
        images_file,
        img.data,
        labels,
        [1, img.dims[1], img.dims[2]],
        classes,
    )?)
}

/// Either kind of failure when loading a labelled IDX pair.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoadError {
    /// The bytes are not valid IDX.
    #[error(transparent)]
    Idx(#[from] IdxError),
    /// Valid IDX, but the pair does not make a dataset.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(values: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, 1];
        b.extend((values.len() as u32).to_be_bytes());
        b.extend(values);
        b
    }

    fn images(n: u32, h: u32, w: u32) -> Vec<u8> {
        let mut b = vec![0, 0, 8, 3];
        for d in [n, h, w] {
            b.extend(d.to_be_bytes());
        }
        b.extend((0..n * h * w).map(|i| i as u8));
        b
    }

    #[test]
    fn pairs_images_with_labels() {
        let set = parse_idx_images("i", &images(2, 2, 3), "l", &labels(&[1, 0]), 10).unwrap();
        assert_eq!(set.image_shape(), [1, 2, 3]);
        assert_eq!(set.labels, vec![1, 0]);
        let err = parse_idx_images("i", &images(2, 2, 3), "l", &labels(&[1]), 10).unwrap_err();
        assert_eq!(err.to_string(), "i has 2 images but l has 1 labels");
        let err = parse_idx_images("i", &images(1, 2, 3), "l", &labels(&[11]), 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "l: label 11 at index 0 is out of range, expected < 10"
        );
    }

    #[test]
    fn reads_a_label_file() {
        let arr = parse_idx_u8("l", &labels(&[3, 1, 4]), 1).unwrap();
        assert_eq!(arr.dims, vec![3]);
        assert_eq!(arr.data, vec![3, 1, 4]);
    }

    #[test]
    fn rejects_bad_magic_and_truncation() {
        let err = parse_idx_u8("t10k-images-idx3-ubyte.gz", &labels(&[1]), 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t10k-images-idx3-ubyte.gz: bad magic 0x00000801, expected 0x00000803"
        );
        let mut short = labels(&[1, 2, 3]);
        short.pop();
        assert!(matches!(
            parse_idx_u8("l", &short, 1),
            Err(IdxError::Truncated { .. })
        ));
        let mut long = labels(&[1]);
        long.push(9);
        assert!(matches!(
            parse_idx_u8("l", &long, 1),
            Err(IdxError::TrailingBytes { extra: 1, .. })
        ));
    }
}
