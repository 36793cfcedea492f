//! Drawing scenes from a seed, and labelling them by one attribute, a joint label over
//! several, or none.

use super::render::render;
use super::{Attribute, SIDE, Scene, ShapesError, is_held_out};
use crate::ImageSet;
use crate::tensor::mix;

/// Which label a set carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Labeling {
    /// No label (every image class 0 of 1): for unconditional models.
    None,
    /// The label of one attribute.
    One(Attribute),
    /// One class per combination of several attributes (mixed radix, first attribute
    /// slowest): for a model of the joint label.
    Joint(Vec<Attribute>),
}

impl Labeling {
    /// Parses `none`, an attribute name (`shape`), or names joined by `+` (`shape+colour`).
    pub fn parse(spec: &str) -> Result<Self, ShapesError> {
        if spec.is_empty() || spec == "none" {
            return Ok(Labeling::None);
        }
        let parts = spec
            .split('+')
            .map(Attribute::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match parts.as_slice() {
            [one] => Labeling::One(*one),
            _ => Labeling::Joint(parts),
        })
    }

    /// The attributes the label is made of, in order.
    pub fn attributes(&self) -> Vec<Attribute> {
        match self {
            Labeling::None => vec![],
            Labeling::One(a) => vec![*a],
            Labeling::Joint(v) => v.clone(),
        }
    }

    /// How many classes the label takes.
    pub fn classes(&self) -> usize {
        self.attributes().iter().map(|a| a.count()).product()
    }

    /// The class of `scene`.
    pub fn label(&self, scene: &Scene) -> usize {
        self.attributes()
            .iter()
            .fold(0, |acc, a| acc * a.count() + scene.get(*a))
    }

    /// The class of the combination `labels` (one per attribute of the label, in order).
    pub fn class_of(&self, labels: &[usize]) -> usize {
        self.attributes()
            .iter()
            .zip(labels)
            .fold(0, |acc, (a, v)| acc * a.count() + v)
    }
}

/// A uniform draw in [0, 1) from `(seed, counter)`.
fn unit(seed: u64, counter: u64) -> f32 {
    (mix(seed ^ mix(counter)) >> 40) as f32 / (1u64 << 24) as f32
}

/// `n` scenes with independent, uniformly drawn attributes, redrawn while `keep` refuses them,
/// rendered with a centre jittered uniformly by up to 0.4 pixels each way: the pixels
/// (`n * 3 * SIDE * SIDE` bytes, NCHW) and the scenes. A pure function of `seed`.
pub fn generate(n: usize, seed: u64, keep: &dyn Fn(&Scene) -> bool) -> (Vec<u8>, Vec<Scene>) {
    let mut pixels = Vec::with_capacity(n * 3 * SIDE * SIDE);
    let mut scenes = Vec::with_capacity(n);
    let mut counter = 0u64;
    let mut draw = |k: usize| {
        counter += 1;
        ((unit(seed, counter) * k as f32) as usize).min(k - 1)
    };
    while scenes.len() < n {
        let scene = Scene(Attribute::ALL.map(|a| draw(a.count())));
        if !keep(&scene) {
            continue;
        }
        let jitter = [0, 1].map(|_| (draw(1000) as f32 / 999.0 - 0.5) * 0.8);
        pixels.extend(render(&scene, jitter));
        scenes.push(scene);
    }
    (pixels, scenes)
}

/// Training and test images with their scenes.
#[derive(Clone, Debug)]
pub struct ShapeSplits {
    /// Training images: no [`HELD_OUT`](super::HELD_OUT) combination.
    pub train: ImageSet,
    /// The scene of each training image.
    pub train_scenes: Vec<Scene>,
    /// Test images: every combination, held-out ones included.
    pub test: ImageSet,
    /// The scene of each test image.
    pub test_scenes: Vec<Scene>,
}

/// The images and scenes of [`generate`] as a set labelled by `labeling`.
pub fn labelled(
    labeling: &Labeling,
    (pixels, scenes): (Vec<u8>, Vec<Scene>),
) -> (ImageSet, Vec<Scene>) {
    let labels = scenes.iter().map(|s| labeling.label(s) as u16).collect();
    let set = ImageSet::new(
        "shapes",
        pixels,
        labels,
        [3, SIDE, SIDE],
        labeling.classes(),
    )
    .expect("sizes and labels are consistent by construction");
    (set, scenes)
}

/// `n_train` training images without the held-out combinations and `n_test` test images of
/// any combination, labelled by `labeling`; a pure function of `seed`.
pub fn shapes_splits(labeling: &Labeling, n_train: usize, n_test: usize, seed: u64) -> ShapeSplits {
    let set = |drawn| labelled(labeling, drawn);
    let (train, train_scenes) = set(generate(n_train, seed, &|s| !is_held_out(s)));
    let (test, test_scenes) = set(generate(n_test, seed ^ 0x7e57, &|_| true));
    ShapeSplits {
        train,
        train_scenes,
        test,
        test_scenes,
    }
}
