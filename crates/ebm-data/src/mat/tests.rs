//! Tests of the MAT-file reader and writer.

use super::*;

fn set(n: usize) -> ImageSet {
    let pixels = (0..n * 3072).map(|i| (i * 13 % 251) as u8).collect();
    let labels = (0..n).map(|i| (i % 10) as u16).collect();
    ImageSet::new("s", pixels, labels, [3, 32, 32], 10).unwrap()
}

#[test]
fn svhn_round_trip_both_label_classes() {
    let s = set(12);
    for double in [false, true] {
        let bytes = write_svhn_mat(&s, double);
        let back = parse_svhn_mat("f.mat", &bytes).unwrap();
        assert_eq!(back, s);
    }
    // Column-major in the file: element (row 0, col 1) of image 0 is the file's byte 32.
    let arrays = parse_mat_arrays("f.mat", &write_svhn_mat(&s, false)).unwrap();
    let MatValues::U8(x) = &arrays[0].values else {
        panic!("X is uint8")
    };
    assert_eq!(x[32], s.image(0)[1]);
    assert_eq!(arrays[1].dims, vec![12, 1]);
}

#[test]
fn uncompressed_big_endian_and_double_values() {
    // An uncompressed big-endian file with a double array y = [3, 10] (2 x 1).
    let mut b = b"MATLAB 5.0 MAT-file".to_vec();
    b.resize(126, b' ');
    b.extend(b"MI");
    let be_tag = |out: &mut Vec<u8>, ty: u32, body: &[u8]| {
        out.extend(ty.to_be_bytes());
        out.extend((body.len() as u32).to_be_bytes());
        out.extend(body);
        out.resize(out.len().next_multiple_of(8), 0);
    };
    let mut m = Vec::new();
    be_tag(&mut m, MI_UINT32, &[0, 0, 0, MX_DOUBLE_CLASS, 0, 0, 0, 0]);
    be_tag(&mut m, MI_INT32, &[0, 0, 0, 2, 0, 0, 0, 1]);
    be_tag(&mut m, MI_INT8, b"y");
    let vals: Vec<u8> = [3.0f64, 10.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    be_tag(&mut m, MI_DOUBLE, &vals);
    be_tag(&mut b, MI_MATRIX, &m);
    let arrays = parse_mat_arrays("be.mat", &b).unwrap();
    assert_eq!(arrays[0].values, MatValues::F64(vec![3.0, 10.0]));
    assert_eq!(arrays[0].name, "y");
}

#[test]
fn errors_name_the_file_and_the_problem() {
    let err = parse_mat_arrays("a.mat", b"\x89HDF\r\n").unwrap_err();
    assert!(err.to_string().starts_with("a.mat: not a level-5"), "{err}");
    let mut bytes = write_svhn_mat(&set(2), false);
    bytes.truncate(bytes.len() - 10);
    assert!(parse_svhn_mat("t.mat", &bytes).is_err());
    let mut bad = set(1);
    bad.labels[0] = 3;
    let mut bytes = write_svhn_mat(&bad, false);
    // Only y: drop the X variable by re-reading the arrays' names after removing it.
    let x_len = 8 + u32::from_le_bytes(bytes[132..136].try_into().unwrap()) as usize;
    bytes.drain(128..128 + x_len);
    let err = parse_svhn_mat("y.mat", &bytes).unwrap_err().to_string();
    assert!(err.contains("no variable \"X\""), "{err}");
}
