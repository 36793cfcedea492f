//! What an image network sees of its input channels: all of them, their mean (blind to hue at
//! equal brightness) or each pixel's largest (blind to hue).

use burn::tensor::Tensor;

/// How the input channels are reduced before the first convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelReduce {
    /// The channels as they are.
    None,
    /// Their mean (one grey channel).
    Mean,
    /// Their largest value at each pixel (one channel).
    Max,
}

impl ChannelReduce {
    /// From a configuration's `grey_input` and `max_channel_input` flags (`None` reads as
    /// `false`; the largest channel takes precedence).
    pub fn from_flags(grey_input: Option<bool>, max_channel_input: Option<bool>) -> Self {
        if max_channel_input == Some(true) {
            Self::Max
        } else if grey_input == Some(true) {
            Self::Mean
        } else {
            Self::None
        }
    }

    /// Channels the first convolution sees out of `in_channels`.
    pub fn channels(self, in_channels: usize) -> usize {
        match self {
            Self::None => in_channels,
            Self::Mean | Self::Max => 1,
        }
    }

    /// `x` `[batch, C, H, W]` reduced: `[batch, channels(C), H, W]`.
    pub fn apply(self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Self::None => x,
            Self::Mean => x.mean_dim(1),
            Self::Max => x.max_dim(1),
        }
    }
}
