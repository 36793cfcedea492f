//! An in-memory labelled image set, `u8` pixels, channel-major (NCHW).

/// Why a set of images cannot be assembled.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatasetError {
    /// Images and labels disagree in count.
    #[error("{images_file} has {images} images but {labels_file} has {labels} labels")]
    CountMismatch {
        /// Images file.
        images_file: String,
        /// Image count.
        images: usize,
        /// Labels file.
        labels_file: String,
        /// Label count.
        labels: usize,
    },
    /// A label at or above the class count.
    #[error("{file}: label {label} at index {index} is out of range, expected < {classes}")]
    LabelOutOfRange {
        /// Labels file.
        file: String,
        /// Position.
        index: usize,
        /// Label found.
        label: usize,
        /// Classes expected.
        classes: usize,
    },
    /// Image array of unexpected rank or size.
    #[error("{file}: expected {expected}, found {found}")]
    BadShape {
        /// File.
        file: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
}

/// Images `[n, channels, height, width]` as bytes, with one label each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    /// Pixels, `n * channels * height * width`, row-major NCHW.
    pub pixels: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u16>,
    /// Channels (1 grey, 3 RGB).
    pub channels: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
    /// Number of classes labels range over.
    pub num_classes: usize,
}

impl ImageSet {
    /// Assembles a set, checking sizes and label range; `file` names the source in errors.
    pub fn new(
        file: &str,
        pixels: Vec<u8>,
        labels: Vec<u16>,
        [channels, height, width]: [usize; 3],
        num_classes: usize,
    ) -> Result<Self, DatasetError> {
        let per = channels * height * width;
        if per == 0 || pixels.len() != per * labels.len() {
            return Err(DatasetError::BadShape {
                file: file.to_string(),
                expected: format!(
                    "{} images of {channels}x{height}x{width} = {} bytes",
                    labels.len(),
                    per * labels.len()
                ),
                found: format!("{} bytes", pixels.len()),
            });
        }
        if let Some((index, &label)) = labels
            .iter()
            .enumerate()
            .find(|(_, l)| usize::from(**l) >= num_classes)
        {
            return Err(DatasetError::LabelOutOfRange {
                file: file.to_string(),
                index,
                label: label.into(),
                classes: num_classes,
            });
        }
        Ok(Self {
            pixels,
            labels,
            channels,
            height,
            width,
            num_classes,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes per image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// `[channels, height, width]`.
    pub fn image_shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    /// The bytes of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Images per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    /// The images whose label is in `classes` (labels kept as they are): split MNIST's tasks.
    pub fn filter_classes(&self, classes: &[usize]) -> ImageSet {
        let keep: Vec<usize> = (0..self.len())
            .filter(|&i| classes.contains(&usize::from(self.labels[i])))
            .collect();
        self.select(&keep)
    }

    /// The images at `indices`, in that order.
    ///
    /// # Panics
    ///
    /// If an index is out of range.
    pub fn select(&self, indices: &[usize]) -> ImageSet {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_len());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        ImageSet {
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            ..*self
        }
    }

    /// Appends another set of the same image shape (e.g. CIFAR-10's five training batches).
    ///
    /// # Panics
    ///
    /// If shapes or class counts differ.
    pub fn extend(&mut self, other: &ImageSet) {
        assert_eq!(
            self.image_shape(),
            other.image_shape(),
            "image shapes differ"
        );
        assert_eq!(self.num_classes, other.num_classes, "class counts differ");
        self.pixels.extend_from_slice(&other.pixels);
        self.labels.extend_from_slice(&other.labels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ImageSet {
        ImageSet::new("t", vec![0, 1, 2, 3, 4, 5], vec![0, 2, 1], [1, 1, 2], 3).unwrap()
    }

    #[test]
    fn filter_select_and_counts() {
        let set = tiny();
        assert_eq!(set.class_counts(), vec![1, 1, 1]);
        let f = set.filter_classes(&[1, 2]);
        assert_eq!(f.labels, vec![2, 1]);
        assert_eq!(f.pixels, vec![2, 3, 4, 5]);
    }

    #[test]
    fn rejects_bad_sizes_and_labels() {
        let err = ImageSet::new("x.bin", vec![0; 5], vec![0, 0, 0], [1, 1, 2], 3).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x.bin: expected 3 images of 1x1x2"),
            "{err}"
        );
        let err = ImageSet::new("y.bin", vec![0; 6], vec![0, 5, 0], [1, 1, 2], 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "y.bin: label 5 at index 1 is out of range, expected < 3"
        );
    }
}
