//! The five kinds of Inception block, as the FID network has them: torchvision's `InceptionA`
//! to `InceptionE` with pytorch-fid's changes (the pool branches of A, C and the first E
//! average over existing neighbours only, as TensorFlow does; the last E takes the maximum).
//! Field names are torchvision's, so `Mixed_5b.branch5x5_1.conv.weight` finds its tensor.
//! Widths are InceptionV3's, divided through [`Widths`].

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::conv::{
    BasicConv2d, Widths, avg_pool_3x3_same, max_pool_3x3_same, max_pool_3x3_stride2,
};

/// Mixed_5b, 5c, 5d: 1x1, 5x5, double 3x3 and pool branches at full resolution.
#[derive(Module, Debug)]
pub struct InceptionA {
    pub branch1x1: BasicConv2d,
    pub branch5x5_1: BasicConv2d,
    pub branch5x5_2: BasicConv2d,
    pub branch3x3dbl_1: BasicConv2d,
    pub branch3x3dbl_2: BasicConv2d,
    pub branch3x3dbl_3: BasicConv2d,
    pub branch_pool: BasicConv2d,
}

impl InceptionA {
    /// A block on `c_in` channels whose pool branch has `pool_features` (full-width) channels.
    pub fn new(c_in: usize, pool_features: usize, w: Widths, device: &Device) -> Self {
        Self {
            branch1x1: BasicConv2d::pointwise(c_in, w.of(64), device),
            branch5x5_1: BasicConv2d::pointwise(c_in, w.of(48), device),
            branch5x5_2: BasicConv2d::new(w.of(48), w.of(64), [5, 5], 1, [2, 2], device),
            branch3x3dbl_1: BasicConv2d::pointwise(c_in, w.of(64), device),
            branch3x3dbl_2: BasicConv2d::new(w.of(64), w.of(96), [3, 3], 1, [1, 1], device),
            branch3x3dbl_3: BasicConv2d::new(w.of(96), w.of(96), [3, 3], 1, [1, 1], device),
            branch_pool: BasicConv2d::pointwise(c_in, w.of(pool_features), device),
        }
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.branch1x1.out_channels()
            + self.branch5x5_2.out_channels()
            + self.branch3x3dbl_3.out_channels()
            + self.branch_pool.out_channels()
    }

    /// `[n, c_in, h, w]` to `[n, out, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b5 = self
            .branch5x5_2
            .forward(self.branch5x5_1.forward(x.clone()));
        let b3 = self.branch3x3dbl_1.forward(x.clone());
        let b3 = self.branch3x3dbl_3.forward(self.branch3x3dbl_2.forward(b3));
        let pool = self.branch_pool.forward(avg_pool_3x3_same(x));
        Tensor::cat(vec![b1, b5, b3, pool], 1)
    }
}

/// Mixed_6a: the reduction from 35x35 to 17x17.
#[derive(Module, Debug)]
pub struct InceptionB {
    pub branch3x3: BasicConv2d,
    pub branch3x3dbl_1: BasicConv2d,
    pub branch3x3dbl_2: BasicConv2d,
    pub branch3x3dbl_3: BasicConv2d,
    /// Input channels, which the max-pool branch passes through.
    pub c_in: usize,
}

impl InceptionB {
    /// A block on `c_in` channels.
    pub fn new(c_in: usize, w: Widths, device: &Device) -> Self {
        Self {
            branch3x3: BasicConv2d::new(c_in, w.of(384), [3, 3], 2, [0, 0], device),
            branch3x3dbl_1: BasicConv2d::pointwise(c_in, w.of(64), device),
            branch3x3dbl_2: BasicConv2d::new(w.of(64), w.of(96), [3, 3], 1, [1, 1], device),
            branch3x3dbl_3: BasicConv2d::new(w.of(96), w.of(96), [3, 3], 2, [0, 0], device),
            c_in,
        }
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.branch3x3.out_channels() + self.branch3x3dbl_3.out_channels() + self.c_in
    }

    /// `[n, c_in, h, w]` to `[n, out, (h - 3) / 2 + 1, (w - 3) / 2 + 1]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b3 = self.branch3x3.forward(x.clone());
        let dbl = self.branch3x3dbl_1.forward(x.clone());
        let dbl = self
            .branch3x3dbl_3
            .forward(self.branch3x3dbl_2.forward(dbl));
        Tensor::cat(vec![b3, dbl, max_pool_3x3_stride2(x)], 1)
    }
}

/// Mixed_6b to 6e: factorised 7x7 branches (1x7 then 7x1) at 17x17.
#[derive(Module, Debug)]
pub struct InceptionC {
    pub branch1x1: BasicConv2d,
    pub branch7x7_1: BasicConv2d,
    pub branch7x7_2: BasicConv2d,
    pub branch7x7_3: BasicConv2d,
    pub branch7x7dbl_1: BasicConv2d,
    pub branch7x7dbl_2: BasicConv2d,
    pub branch7x7dbl_3: BasicConv2d,
    pub branch7x7dbl_4: BasicConv2d,
    pub branch7x7dbl_5: BasicConv2d,
    pub branch_pool: BasicConv2d,
}

impl InceptionC {
    /// A block on `c_in` channels whose 7x7 branches are `channels_7x7` (full-width) wide.
    pub fn new(c_in: usize, channels_7x7: usize, w: Widths, device: &Device) -> Self {
        let c7 = w.of(channels_7x7);
        let row = |a, b| BasicConv2d::new(a, b, [1, 7], 1, [0, 3], device);
        let col = |a, b| BasicConv2d::new(a, b, [7, 1], 1, [3, 0], device);
        Self {
            branch1x1: BasicConv2d::pointwise(c_in, w.of(192), device),
            branch7x7_1: BasicConv2d::pointwise(c_in, c7, device),
            branch7x7_2: row(c7, c7),
            branch7x7_3: col(c7, w.of(192)),
            branch7x7dbl_1: BasicConv2d::pointwise(c_in, c7, device),
            branch7x7dbl_2: col(c7, c7),
            branch7x7dbl_3: row(c7, c7),
            branch7x7dbl_4: col(c7, c7),
            branch7x7dbl_5: row(c7, w.of(192)),
            branch_pool: BasicConv2d::pointwise(c_in, w.of(192), device),
        }
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.branch1x1.out_channels()
            + self.branch7x7_3.out_channels()
            + self.branch7x7dbl_5.out_channels()
            + self.branch_pool.out_channels()
    }

    /// `[n, c_in, h, w]` to `[n, out, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b7 = self.branch7x7_1.forward(x.clone());
        let b7 = self.branch7x7_3.forward(self.branch7x7_2.forward(b7));
        let dbl = self.branch7x7dbl_1.forward(x.clone());
        let dbl = self.branch7x7dbl_2.forward(dbl);
        let dbl = self.branch7x7dbl_3.forward(dbl);
        let dbl = self.branch7x7dbl_4.forward(dbl);
        let dbl = self.branch7x7dbl_5.forward(dbl);
        let pool = self.branch_pool.forward(avg_pool_3x3_same(x));
        Tensor::cat(vec![b1, b7, dbl, pool], 1)
    }
}

/// Mixed_7a: the reduction from 17x17 to 8x8.
#[derive(Module, Debug)]
pub struct InceptionD {
    pub branch3x3_1: BasicConv2d,
    pub branch3x3_2: BasicConv2d,
    pub branch7x7x3_1: BasicConv2d,
    pub branch7x7x3_2: BasicConv2d,
    pub branch7x7x3_3: BasicConv2d,
    pub branch7x7x3_4: BasicConv2d,
    /// Input channels, which the max-pool branch passes through.
    pub c_in: usize,
}

impl InceptionD {
    /// A block on `c_in` channels.
    pub fn new(c_in: usize, w: Widths, device: &Device) -> Self {
        let c = w.of(192);
        Self {
            branch3x3_1: BasicConv2d::pointwise(c_in, c, device),
            branch3x3_2: BasicConv2d::new(c, w.of(320), [3, 3], 2, [0, 0], device),
            branch7x7x3_1: BasicConv2d::pointwise(c_in, c, device),
            branch7x7x3_2: BasicConv2d::new(c, c, [1, 7], 1, [0, 3], device),
            branch7x7x3_3: BasicConv2d::new(c, c, [7, 1], 1, [3, 0], device),
            branch7x7x3_4: BasicConv2d::new(c, c, [3, 3], 2, [0, 0], device),
            c_in,
        }
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.branch3x3_2.out_channels() + self.branch7x7x3_4.out_channels() + self.c_in
    }

    /// `[n, c_in, h, w]` to `[n, out, (h - 3) / 2 + 1, (w - 3) / 2 + 1]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b3 = self.branch3x3_1.forward(x.clone());
        let b3 = self.branch3x3_2.forward(b3);
        let b7 = self.branch7x7x3_1.forward(x.clone());
        let b7 = self.branch7x7x3_2.forward(b7);
        let b7 = self.branch7x7x3_3.forward(b7);
        let b7 = self.branch7x7x3_4.forward(b7);
        Tensor::cat(vec![b3, b7, max_pool_3x3_stride2(x)], 1)
    }
}

/// The pool of an E block's pool branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// Average over existing neighbours (Mixed_7b).
    Average,
    /// Maximum (Mixed_7c: what the TensorFlow graph does, though the paper says average).
    Max,
}

/// Mixed_7b, 7c: branches that split into 1x3 and 3x1 halves, at 8x8.
#[derive(Module, Debug)]
pub struct InceptionE {
    pub branch1x1: BasicConv2d,
    pub branch3x3_1: BasicConv2d,
    pub branch3x3_2a: BasicConv2d,
    pub branch3x3_2b: BasicConv2d,
    pub branch3x3dbl_1: BasicConv2d,
    pub branch3x3dbl_2: BasicConv2d,
    pub branch3x3dbl_3a: BasicConv2d,
    pub branch3x3dbl_3b: BasicConv2d,
    pub branch_pool: BasicConv2d,
    /// The pool before `branch_pool`.
    #[module(skip)]
    pub pool: PoolKind,
}

impl InceptionE {
    /// A block on `c_in` channels whose pool branch pools with `pool`.
    pub fn new(c_in: usize, pool: PoolKind, w: Widths, device: &Device) -> Self {
        let c = w.of(384);
        let row = |a, b| BasicConv2d::new(a, b, [1, 3], 1, [0, 1], device);
        let col = |a, b| BasicConv2d::new(a, b, [3, 1], 1, [1, 0], device);
        Self {
            branch1x1: BasicConv2d::pointwise(c_in, w.of(320), device),
            branch3x3_1: BasicConv2d::pointwise(c_in, c, device),
            branch3x3_2a: row(c, c),
            branch3x3_2b: col(c, c),
            branch3x3dbl_1: BasicConv2d::pointwise(c_in, w.of(448), device),
            branch3x3dbl_2: BasicConv2d::new(w.of(448), c, [3, 3], 1, [1, 1], device),
            branch3x3dbl_3a: row(c, c),
            branch3x3dbl_3b: col(c, c),
            branch_pool: BasicConv2d::pointwise(c_in, w.of(192), device),
            pool,
        }
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.branch1x1.out_channels()
            + self.branch3x3_2a.out_channels()
            + self.branch3x3_2b.out_channels()
            + self.branch3x3dbl_3a.out_channels()
            + self.branch3x3dbl_3b.out_channels()
            + self.branch_pool.out_channels()
    }

    /// `[n, c_in, h, w]` to `[n, out, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b3 = self.branch3x3_1.forward(x.clone());
        let b3a = self.branch3x3_2a.forward(b3.clone());
        let b3b = self.branch3x3_2b.forward(b3);
        let dbl = self.branch3x3dbl_1.forward(x.clone());
        let dbl = self.branch3x3dbl_2.forward(dbl);
        let dbla = self.branch3x3dbl_3a.forward(dbl.clone());
        let dblb = self.branch3x3dbl_3b.forward(dbl);
        let pooled = match self.pool {
            PoolKind::Average => avg_pool_3x3_same(x),
            PoolKind::Max => max_pool_3x3_same(x),
        };
        let pool = self.branch_pool.forward(pooled);
        Tensor::cat(vec![b1, b3a, b3b, dbla, dblb, pool], 1)
    }
}
