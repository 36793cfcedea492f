use super::*;

#[test]
fn generation_is_a_function_of_the_seed() {
    let a = generate(20, 3, &|_| true);
    assert_eq!(a, generate(20, 3, &|_| true));
    assert_ne!(a.0, generate(20, 4, &|_| true).0);
    let splits = shapes_splits(&Labeling::One(Attribute::Shape), 300, 50, 1);
    assert!(!splits.train_scenes.iter().any(is_held_out));
    assert!(splits.train.labels.iter().all(|&l| l < 3));
}

#[test]
fn a_circles_pixel_mass_sits_where_its_position_label_says() {
    let (pixels, scenes) = generate(200, 9, &|s| s.get(Attribute::Shape) == 1);
    let plane = SIDE * SIDE;
    for (i, scene) in scenes.iter().enumerate() {
        let img = &pixels[i * 3 * plane..(i + 1) * 3 * plane];
        let (mut m, mut mx, mut my) = (0.0f64, 0.0, 0.0);
        for p in 0..plane {
            let v: f64 = (0..3).map(|c| f64::from(img[c * plane + p])).sum();
            let (x, y) = ((p % SIDE) as f64 + 0.5, (p / SIDE) as f64 + 0.5);
            (m, mx, my) = (m + v, mx + v * x, my + v * y);
        }
        let [cx, cy] = scene_centre(scene).map(f64::from);
        let (dx, dy) = (mx / m - cx, my / m - cy);
        // Jitter is at most 0.4 px; a large circle at the border loses a sliver.
        assert!(
            dx.abs() < 0.6 && dy.abs() < 0.6,
            "{scene:?}: off by ({dx}, {dy})"
        );
        // The colour label is the only lit channel set: red lights only channel 0.
        if scene.get(Attribute::Colour) == 0 {
            assert!(img[plane..].iter().all(|&v| v == 0));
        }
    }
}

#[test]
fn anti_aliasing_leaves_partial_pixels() {
    let img = render(&Scene([1, 2, 4, 1]), [0.0, 0.0]);
    let green = &img[SIDE * SIDE..2 * SIDE * SIDE];
    assert!(green.iter().any(|&v| v > 0 && v < 255), "no edge pixels");
    assert!(green.contains(&255));
}

#[test]
fn bad_names_are_clear_errors_listing_the_known_ones() {
    let err = parse_condition("hue=red").unwrap_err().to_string();
    assert!(
        err.contains("\"hue\"") && err.contains("shape, size, position, colour"),
        "{err}"
    );
    let err = parse_condition("shape=hexagon").unwrap_err().to_string();
    assert!(err.contains("square, circle, triangle"), "{err}");
    assert_eq!(
        parse_condition("color=blue").unwrap(),
        (Attribute::Colour, 2)
    );
    assert!(Labeling::parse("shape+mood").is_err());
}

#[test]
fn joint_labels_are_mixed_radix() {
    let l = Labeling::parse("shape+colour").unwrap();
    assert_eq!(l.classes(), 12);
    let scene = Scene([2, 0, 0, 3]);
    assert_eq!(l.label(&scene), 2 * 4 + 3);
    assert_eq!(l.class_of(&[2, 3]), 11);
    assert_eq!(Labeling::parse("none").unwrap().classes(), 1);
}
