//! Where each dataset's files come from: URLs, file names and published checksums.

use super::DatasetName;

/// One file of a dataset and where it comes from.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// Canonical URL.
    pub url: &'static str,
    /// File name under the dataset folder.
    pub file: &'static str,
    /// MD5 of the file as published: MNIST and Fashion-MNIST as torchvision's
    /// `datasets/mnist.py` lists them (Fashion-MNIST's also in the dataset's own README,
    /// zalandoresearch/fashion-mnist), CIFAR-10 and CIFAR-100 as their page
    /// (cs.toronto.edu/~kriz/cifar.html) gives them, SVHN as torchvision's `datasets/svhn.py`
    /// and Textures (DTD) as torchvision's `datasets/dtd.py` list them.
    pub md5: &'static str,
}

// Where each host serves: MNIST from PyTorch's S3 bucket (the REST endpoint, HTTPS), CIFAR-10
// and CIFAR-100 from the University of Toronto (HTTPS), Textures from Oxford's VGG pages
// (HTTPS), Fashion-MNIST from its S3 *website* endpoint, which serves plain HTTP only (S3
// website endpoints have no TLS), and SVHN from Stanford's ufldl pages over HTTP, the URLs
// torchvision uses; the checksums guard the content either way.

const MNIST: [Source; 4] = [
    Source {
        url: "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        file: "train-images-idx3-ubyte.gz",
        md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    },
    Source {
        url: "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
        file: "train-labels-idx1-ubyte.gz",
        md5: "d53e105ee54ea40749a09fcbcd1e9432",
    },
    Source {
        url: "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
        file: "t10k-images-idx3-ubyte.gz",
        md5: "9fb629c4189551a2d022fa330f9573f3",
    },
    Source {
        url: "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
        file: "t10k-labels-idx1-ubyte.gz",
        md5: "ec29112dd5afa0611ce80d1b7f02629c",
    },
];

const FASHION_MNIST: [Source; 4] = [
    Source {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
        file: "train-images-idx3-ubyte.gz",
        md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    },
    Source {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
        file: "train-labels-idx1-ubyte.gz",
        md5: "25c81989df183df01b3e8a0aad5dffbe",
    },
    Source {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz",
        file: "t10k-images-idx3-ubyte.gz",
        md5: "bef4ecab320f06d8554ea6380940ec79",
    },
    Source {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz",
        file: "t10k-labels-idx1-ubyte.gz",
        md5: "bb300cfdad3c16e7a12a480ee83cd310",
    },
];

const CIFAR10: [Source; 1] = [Source {
    url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    file: "cifar-10-binary.tar.gz",
    md5: "c32a1d4ab5d03f1284b67883e8d87530",
}];

const CIFAR100: [Source; 1] = [Source {
    url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
    file: "cifar-100-binary.tar.gz",
    md5: "03b5dce01913d631647c71ecec9e9cb8",
}];

// The cropped digits ("format 2"); the paper's OOD table used the training split (the official
// loader ignores `train=False`), `ebm ood` uses the test split.
const SVHN: [Source; 2] = [
    Source {
        url: "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
        file: "train_32x32.mat",
        md5: "e26dedcc434d2e4c54c9b2d4a06d8373",
    },
    Source {
        url: "http://ufldl.stanford.edu/housenumbers/test_32x32.mat",
        file: "test_32x32.mat",
        md5: "eb5a983be6a315427106f1b164d9cef3",
    },
];

const TEXTURES: [Source; 1] = [Source {
    url: "https://www.robots.ox.ac.uk/~vgg/data/dtd/download/dtd-r1.0.1.tar.gz",
    file: "dtd-r1.0.1.tar.gz",
    md5: "fff73e5086ae6bdbea199a49dfb8a4c1",
}];

/// The files of a dataset (empty for the embedded `mnist-10k`).
pub fn sources(name: DatasetName) -> &'static [Source] {
    match name {
        DatasetName::Mnist => &MNIST,
        DatasetName::FashionMnist => &FASHION_MNIST,
        DatasetName::Cifar10 => &CIFAR10,
        DatasetName::Cifar100 => &CIFAR100,
        DatasetName::Svhn => &SVHN,
        DatasetName::Textures => &TEXTURES,
        DatasetName::Mnist10k => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_uses_the_scheme_its_host_serves() {
        for name in DatasetName::ALL {
            for s in sources(name) {
                // S3 website endpoints and ufldl.stanford.edu are used over HTTP; every other
                // host here serves HTTPS.
                let scheme = if s.url.contains(".s3-website") || s.url.contains("ufldl.stanford") {
                    "http://"
                } else {
                    "https://"
                };
                assert!(s.url.starts_with(scheme), "{}", s.url);
                assert!(s.url.ends_with(s.file), "{} is not {}", s.url, s.file);
                assert_eq!(s.md5.len(), 32, "{}", s.url);
            }
        }
    }
}
