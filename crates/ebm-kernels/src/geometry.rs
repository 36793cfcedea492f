//! Convolution geometry: TensorFlow SAME padding and the shape of one convolution, shared by
//! the layers (through [`same_conv_options`]) and every kernel of this crate.

use burn::tensor::ops::ConvOptions;

/// TensorFlow SAME padding `(begin, end)` for one spatial dimension: the output has
/// `ceil(size / stride)` positions and any odd padding goes at the end.
pub fn same_padding(size: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(size);
    (total / 2, total - total / 2)
}

/// Burn's options for a convolution of an `h x w` input with a square `kernel`, `stride` on
/// both axes and TensorFlow SAME padding ([`same_padding`]).
pub fn same_conv_options(h: usize, w: usize, kernel: usize, stride: usize) -> ConvOptions<2> {
    ConvOptions::new_with_padding(
        [stride, stride],
        [
            same_padding(h, kernel, stride),
            same_padding(w, kernel, stride),
        ],
        [1, 1],
        1,
    )
}

/// Panics unless a buffer of `len` values holds `count` items of `per` values.
pub(crate) fn check(len: usize, per: usize, count: usize, what: &str) {
    assert_eq!(len, count * per, "{what} does not match the geometry");
}

/// Shape of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel edge.
    pub kernel: usize,
    /// Stride (both axes).
    pub stride: usize,
    /// Zero rows above the input.
    pub pad_top: usize,
    /// Zero columns left of the input.
    pub pad_left: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
}

impl ConvGeometry {
    /// A `c_in -> c_out` convolution of an `in_h x in_w` input with a square `kernel`, `stride`
    /// on both axes and TensorFlow SAME padding ([`same_padding`]).
    pub fn same(
        [c_in, c_out]: [usize; 2],
        kernel: usize,
        stride: usize,
        (in_h, in_w): (usize, usize),
    ) -> Self {
        Self {
            c_in,
            c_out,
            kernel,
            stride,
            pad_top: same_padding(in_h, kernel, stride).0,
            pad_left: same_padding(in_w, kernel, stride).0,
            in_h,
            in_w,
            out_h: in_h.div_ceil(stride),
            out_w: in_w.div_ceil(stride),
        }
    }

    pub(crate) fn k(&self) -> usize {
        self.c_in * self.kernel * self.kernel
    }

    pub(crate) fn n(&self) -> usize {
        self.out_h * self.out_w
    }

    /// Values of one input image.
    pub fn in_plane(&self) -> usize {
        self.c_in * self.in_h * self.in_w
    }

    /// Values of one output image.
    pub fn out_plane(&self) -> usize {
        self.c_out * self.n()
    }

    /// Input coordinate of output `o` at kernel offset `kk`, if inside the image (the
    /// definition `im2col`'s `valid_range` is checked against).
    #[cfg(test)]
    pub(crate) fn source(
        o: usize,
        kk: usize,
        stride: usize,
        pad: usize,
        size: usize,
    ) -> Option<usize> {
        (o * stride + kk).checked_sub(pad).filter(|&i| i < size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_matches_tensorflow() {
        assert_eq!(same_padding(32, 3, 1), (1, 1));
        assert_eq!(same_padding(28, 4, 2), (1, 1));
        assert_eq!(same_padding(7, 4, 2), (1, 2));
    }
}
