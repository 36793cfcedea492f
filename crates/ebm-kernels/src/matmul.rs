//! The one GEMM call of the CPU kernels: the `gemm` crate (the GEMM burn-flex uses),
//! single-threaded (the kernels parallelise over images or tiles themselves), behind slices
//! whose extents are checked against the strides.

/// `dst (m x n) = [dst +] lhs (m x k) . rhs (k x n)` with explicit (column, row) strides.
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    dst_strides: (isize, isize),
    accumulate: bool,
    lhs: &[f32],
    lhs_strides: (isize, isize),
    rhs: &[f32],
    rhs_strides: (isize, isize),
) {
    let reach = |(cs, rs): (isize, isize), rows: usize, cols: usize| {
        (rows.max(1) - 1) * rs as usize + (cols.max(1) - 1) * cs as usize + 1
    };
    assert!(dst.len() >= reach(dst_strides, m, n), "dst too short");
    assert!(lhs.len() >= reach(lhs_strides, m, k), "lhs too short");
    assert!(rhs.len() >= reach(rhs_strides, k, n), "rhs too short");
    // SAFETY: the asserts above keep every addressed element inside the slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_strides.0,
            dst_strides.1,
            accumulate,
            lhs.as_ptr(),
            lhs_strides.0,
            lhs_strides.1,
            rhs.as_ptr(),
            rhs_strides.0,
            rhs_strides.1,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
