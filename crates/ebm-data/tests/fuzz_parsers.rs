//! Property tests: random and mutated bytes make every parser return an error or a value,
//! never panic.

use std::path::Path;

use ebm_data::{
    Cifar100Label, Fit, ImageSet, decode_image, decode_image_fit, parse_cifar10, parse_cifar100,
    parse_idx_images, parse_idx_u8, parse_mat_arrays, parse_svhn_mat, write_svhn_mat,
};
use proptest::prelude::*;

fn valid_idx_images() -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3];
    b.extend(0..18u8);
    b
}

fn valid_idx_labels() -> Vec<u8> {
    vec![0, 0, 8, 1, 0, 0, 0, 2, 4, 9]
}

/// A two-image SVHN MAT-file in the exact layout of the real ones (compressed variables).
fn valid_svhn_mat(y_is_double: bool) -> Vec<u8> {
    let pixels = (0..2 * 3072).map(|i| (i % 256) as u8).collect();
    let set = ImageSet::new("f", pixels, vec![0, 7], [3, 32, 32], 10).unwrap();
    write_svhn_mat(&set, y_is_double)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    for &(pos, val) in edits {
        if !bytes.is_empty() {
            let i = pos % bytes.len();
            bytes[i] = val;
        }
    }
    bytes.truncate(bytes.len().saturating_sub(cut));
    bytes
}

fn parse_all(bytes: &[u8]) {
    for ndims in 0..5u8 {
        let _ = parse_idx_u8("fuzz", bytes, ndims);
    }
    let _ = parse_idx_images("i", bytes, "l", &valid_idx_labels(), 10);
    let _ = parse_idx_images("i", &valid_idx_images(), "l", bytes, 10);
    let _ = parse_cifar10("c", bytes);
    let _ = parse_cifar100("c", bytes, Cifar100Label::Fine);
    let _ = decode_image(Path::new("img"), bytes, 3, 8);
    let _ = decode_image_fit(Path::new("img"), bytes, 3, 8, Fit::TopLeftCrop);
    let _ = parse_mat_arrays("m", bytes);
    let _ = parse_svhn_mat("m", bytes);
    // The same bytes behind a valid MAT-file header, so the element reader sees them.
    let mut mat = valid_svhn_mat(false)[..128].to_vec();
    mat.extend_from_slice(bytes);
    let _ = parse_svhn_mat("m", &mat);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        parse_all(&bytes);
    }

    #[test]
    fn mutated_valid_files_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in 0usize..12,
        zipped in any::<bool>(),
    ) {
        for valid in [valid_idx_images(), valid_idx_labels()] {
            let valid = if zipped { gzip(&valid) } else { valid };
            parse_all(&mutate(valid, &edits, cut));
        }
        // Mutations of the MAT-file land in its header, tags and compressed streams.
        let _ = parse_svhn_mat("m", &mutate(valid_svhn_mat(zipped), &edits, cut));
    }

    #[test]
    fn mutated_uncompressed_mat_elements_never_panic(
        edits in proptest::collection::vec((128usize..400, any::<u8>()), 1..6),
        cut in 0usize..40,
    ) {
        let mut m = valid_svhn_mat(false)[..128].to_vec();
        // An uncompressed miMATRIX element: flags, dims [2, 1], name "y", two uint8 values.
        m.extend([14, 0, 0, 0, 56, 0, 0, 0]);
        m.extend([6, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        m.extend([5, 0, 0, 0, 8, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0]);
        m.extend([1, 0, 1, 0, b'y', 0, 0, 0]);
        m.extend([2, 0, 0, 0, 2, 0, 0, 0, 3, 10, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse_mat_arrays("m", &m).unwrap().len(), 1);
        let edits: Vec<(usize, u8)> = edits.into_iter().map(|(p, v)| (p % m.len(), v)).collect();
        let _ = parse_mat_arrays("m", &mutate(m, &edits, cut));
    }
}

#[test]
fn huge_dimensions_are_an_error_not_an_allocation() {
    let mut b = vec![0, 0, 8, 3];
    b.extend([0xff; 12]);
    assert!(parse_idx_u8("big", &b, 3).is_err());
}
