//! Shapes runs: accuracies on the test images of shape x colour combinations seen in training
//! and on the held-out ones apart. The training split lacks the held-out combinations, so a
//! network can read a label partly off the other attribute (no red image is ever a circle);
//! the split shows how much of an accuracy that shortcut carries.

use serde::{Deserialize, Serialize};

/// Accuracies over the seen and the held-out combinations of the test images.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HeldOutSplit {
    /// Test images of combinations seen in training.
    pub seen: usize,
    /// Test images of held-out combinations.
    pub held_out: usize,
    /// Conditional models: accuracy of the lowest class energy on the seen images.
    pub accuracy_seen: Option<f64>,
    /// Conditional models: the same on the held-out images.
    pub accuracy_held_out: Option<f64>,
    /// The proxy-FID classifier's accuracy on the seen images.
    pub classifier_seen: Option<f64>,
    /// The proxy-FID classifier's accuracy on the held-out images.
    pub classifier_held_out: Option<f64>,
}

impl HeldOutSplit {
    /// The split of per-image hits: `held_out[i]` says whether test image `i` is of a
    /// held-out combination, `model` and `classifier` whether each judge got it right.
    ///
    /// # Panics
    ///
    /// If the slices differ in length.
    pub fn new(held_out: &[bool], model: Option<&[bool]>, classifier: Option<&[bool]>) -> Self {
        let part = |hits: Option<&[bool]>, want: bool| {
            hits.and_then(|hits| {
                assert_eq!(hits.len(), held_out.len(), "one hit per test image");
                let picked: Vec<bool> = hits
                    .iter()
                    .zip(held_out)
                    .filter(|(_, h)| **h == want)
                    .map(|(hit, _)| *hit)
                    .collect();
                (!picked.is_empty())
                    .then(|| picked.iter().filter(|h| **h).count() as f64 / picked.len() as f64)
            })
        };
        let n_held = held_out.iter().filter(|h| **h).count();
        Self {
            seen: held_out.len() - n_held,
            held_out: n_held,
            accuracy_seen: part(model, false),
            accuracy_held_out: part(model, true),
            classifier_seen: part(classifier, false),
            classifier_held_out: part(classifier, true),
        }
    }

    /// One line for the printed table.
    pub fn line(&self) -> String {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
        format!(
            "seen combinations ({} images): model {}, classifier {}; held-out combinations ({} images): model {}, classifier {}",
            self.seen,
            opt(self.accuracy_seen),
            opt(self.classifier_seen),
            self.held_out,
            opt(self.accuracy_held_out),
            opt(self.classifier_held_out)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_counts_each_part_apart() {
        let held = [false, true, false, true, false];
        let model = [true, false, true, true, false];
        let s = HeldOutSplit::new(&held, Some(&model), None);
        assert_eq!((s.seen, s.held_out), (3, 2));
        assert_eq!(s.accuracy_seen, Some(2.0 / 3.0));
        assert_eq!(s.accuracy_held_out, Some(0.5));
        assert_eq!(s.classifier_seen, None);
        // No held-out image: no held-out accuracy rather than 0.
        let s = HeldOutSplit::new(&[false, false], None, Some(&[true, false]));
        assert_eq!(s.classifier_seen, Some(0.5));
        assert_eq!(s.classifier_held_out, None);
        assert!(
            s.line()
                .contains("held-out combinations (0 images): model -")
        );
    }
}
