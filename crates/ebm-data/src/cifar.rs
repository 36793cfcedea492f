//! CIFAR-10 and CIFAR-100 binary batches.
//!
//! CIFAR-10: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32, row-major),
//! 10 000 records per file (`data_batch_1.bin` .. `data_batch_5.bin`, `test_batch.bin`).
//! CIFAR-100: 2 label bytes (coarse, fine) + 3072 pixel bytes (`train.bin`, `test.bin`).

use crate::dataset::{DatasetError, ImageSet};

const PIXELS: usize = 3 * 32 * 32;

/// Which label of a CIFAR-100 record to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cifar100Label {
    /// The 20 superclasses.
    Coarse,
    /// The 100 classes.
    Fine,
}

fn parse_records(
    file: &str,
    bytes: &[u8],
    label_bytes: usize,
    label_index: usize,
    classes: usize,
) -> Result<ImageSet, DatasetError> {
    let record = label_bytes + PIXELS;
    if bytes.is_empty() || !bytes.len().is_multiple_of(record) {
        return Err(DatasetError::BadShape {
            file: file.to_string(),
            expected: format!("a positive multiple of {record}-byte records"),
            found: format!("{} bytes", bytes.len()),
        });
    }
    let n = bytes.len() / record;
    let mut pixels = Vec::with_capacity(n * PIXELS);
    let mut labels = Vec::with_capacity(n);
    for r in bytes.chunks_exact(record) {
        labels.push(u16::from(r[label_index]));
        pixels.extend_from_slice(&r[label_bytes..]);
    }
    ImageSet::new(file, pixels, labels, [3, 32, 32], classes)
}

/// Parses one CIFAR-10 binary batch.
pub fn parse_cifar10(file: &str, bytes: &[u8]) -> Result<ImageSet, DatasetError> {
    parse_records(file, bytes, 1, 0, 10)
}

/// Parses a CIFAR-100 binary file, keeping the coarse or the fine label.
pub fn parse_cifar100(
    file: &str,
    bytes: &[u8],
    which: Cifar100Label,
) -> Result<ImageSet, DatasetError> {
    match which {
        Cifar100Label::Coarse => parse_records(file, bytes, 2, 0, 20),
        Cifar100Label::Fine => parse_records(file, bytes, 2, 1, 100),
    }
}

/// Writes images in the CIFAR-10 record format (for fixtures and round-trip tests).
pub fn write_cifar10(set: &ImageSet) -> Vec<u8> {
    assert_eq!(set.image_shape(), [3, 32, 32], "CIFAR records are 3x32x32");
    let mut out = Vec::with_capacity(set.len() * (1 + PIXELS));
    for i in 0..set.len() {
        out.push(set.labels[i] as u8);
        out.extend_from_slice(set.image(i));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cifar10_round_trip_and_errors() {
        let pixels: Vec<u8> = (0..2 * PIXELS).map(|i| (i * 7 % 256) as u8).collect();
        let set = ImageSet::new("f", pixels, vec![3, 9], [3, 32, 32], 10).unwrap();
        let bytes = write_cifar10(&set);
        assert_eq!(bytes.len(), 2 * 3073);
        assert_eq!(parse_cifar10("f", &bytes).unwrap(), set);
        let err = parse_cifar10("data_batch_1.bin", &bytes[..100]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "data_batch_1.bin: expected a positive multiple of 3073-byte records, found 100 bytes"
        );
        let mut bad = bytes.clone();
        bad[0] = 12;
        assert!(matches!(
            parse_cifar10("b", &bad),
            Err(DatasetError::LabelOutOfRange { label: 12, .. })
        ));
    }

    #[test]
    fn cifar100_picks_coarse_or_fine() {
        let mut rec = vec![4u8, 77];
        rec.extend(vec![1u8; PIXELS]);
        assert_eq!(
            parse_cifar100("t", &rec, Cifar100Label::Coarse)
                .unwrap()
                .labels,
            vec![4]
        );
        assert_eq!(
            parse_cifar100("t", &rec, Cifar100Label::Fine)
                .unwrap()
                .labels,
            vec![77]
        );
    }
}
