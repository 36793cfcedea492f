//! The one place that maps a `--device` string to a Burn [`Device`].

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

/// A compute backend this binary may have been built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `burn-flex`, the CPU backend (cargo feature `flex`, on by default).
    Flex,
    /// wgpu on whatever graphics API the machine offers (feature `wgpu`).
    Wgpu,
    /// wgpu pinned to Vulkan (feature `vulkan`).
    Vulkan,
    /// wgpu pinned to Metal (feature `metal`).
    Metal,
    /// NVIDIA CUDA (feature `cuda`).
    Cuda,
    /// The deprecated ndarray CPU backend (feature `ndarray`).
    Ndarray,
}

impl Backend {
    /// Every backend, best first: the order the default device is chosen in.
    pub const ALL: [Backend; 6] = [
        Backend::Cuda,
        Backend::Metal,
        Backend::Vulkan,
        Backend::Wgpu,
        Backend::Flex,
        Backend::Ndarray,
    ];

    /// The `--device` name, which is also the cargo feature that compiles the backend in.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Wgpu => "wgpu",
            Backend::Vulkan => "vulkan",
            Backend::Metal => "metal",
            Backend::Cuda => "cuda",
            Backend::Ndarray => "ndarray",
        }
    }

    /// Whether this binary was built with the backend's feature.
    pub fn compiled_in(self) -> bool {
        match self {
            Backend::Flex => cfg!(feature = "flex"),
            Backend::Wgpu => cfg!(feature = "wgpu"),
            Backend::Vulkan => cfg!(feature = "vulkan"),
            Backend::Metal => cfg!(feature = "metal"),
            Backend::Cuda => cfg!(feature = "cuda"),
            Backend::Ndarray => cfg!(feature = "ndarray"),
        }
    }
}

/// A parsed `--device` value: `BACKEND` or `BACKEND:INDEX` (`cuda:1`, `wgpu:0`), plus `wgpu:cpu`
/// for a software adapter such as Mesa's lavapipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    /// The backend.
    pub backend: Backend,
    /// Which device of that backend; `None` lets the backend choose.
    pub index: Option<usize>,
    /// `wgpu:cpu` / `vulkan:cpu`: ask wgpu for a CPU adapter.
    pub cpu_adapter: bool,
}

/// Why a `--device` value cannot be honoured.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceError {
    /// Not one of the known backend names.
    #[error(
        "unknown device {0:?}: expected one of flex, wgpu, vulkan, metal, cuda, ndarray, optionally with :INDEX (cuda:1) or :cpu (wgpu:cpu)"
    )]
    Unknown(String),
    /// Known, but this binary was built without it.
    #[error(
        "device {0:?} is not compiled into this binary: rebuild with the `{0}` feature, e.g. `cargo xtask --features {0} ...` (compiled in: {1})"
    )]
    NotCompiled(&'static str, String),
    /// No backend at all was compiled in.
    #[error(
        "no backend is compiled in: build with one of the features flex, wgpu, vulkan, metal, cuda, ndarray"
    )]
    NoBackend,
}

impl FromStr for DeviceSpec {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, suffix) = match s.split_once(':') {
            Some((name, suffix)) => (name, Some(suffix)),
            None => (s, None),
        };
        let backend = Backend::ALL
            .into_iter()
            .find(|b| b.name() == name.trim().to_ascii_lowercase())
            .ok_or_else(|| DeviceError::Unknown(s.to_string()))?;
        let (index, cpu_adapter) = match suffix {
            None => (None, false),
            Some("cpu") if matches!(backend, Backend::Wgpu | Backend::Vulkan) => (None, true),
            Some(i) => (
                Some(i.parse().map_err(|_| DeviceError::Unknown(s.to_string()))?),
                false,
            ),
        };
        Ok(DeviceSpec {
            backend,
            index,
            cpu_adapter,
        })
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.backend.name())?;
        match (self.index, self.cpu_adapter) {
            (Some(i), _) => write!(f, ":{i}"),
            (None, true) => f.write_str(":cpu"),
            (None, false) => Ok(()),
        }
    }
}

/// Names of the backends compiled into this binary, best first.
pub fn compiled_backends() -> Vec<&'static str> {
    Backend::ALL
        .into_iter()
        .filter(|b| b.compiled_in())
        .map(Backend::name)
        .collect()
}

/// The best compiled-in backend (CUDA, Metal, Vulkan, wgpu, flex, ndarray, in that order).
pub fn default_spec() -> Result<DeviceSpec, DeviceError> {
    Backend::ALL
        .into_iter()
        .find(|b| b.compiled_in())
        .map(|backend| DeviceSpec {
            backend,
            index: None,
            cpu_adapter: false,
        })
        .ok_or(DeviceError::NoBackend)
}

/// Resolves `--device` (or the default when `None`) to a Burn device.
pub fn select_device(requested: Option<&str>) -> Result<(DeviceSpec, Device), DeviceError> {
    let spec = match requested {
        Some(s) => s.parse()?,
        None => default_spec()?,
    };
    Ok((spec, spec.device()?))
}

impl DeviceSpec {
    /// Builds the Burn device.
    #[allow(unreachable_code, unused_variables)]
    pub fn device(&self) -> Result<Device, DeviceError> {
        if !self.backend.compiled_in() {
            return Err(DeviceError::NotCompiled(
                self.backend.name(),
                compiled_backends().join(", "),
            ));
        }
        #[cfg(any(feature = "wgpu", feature = "vulkan", feature = "metal"))]
        let kind = match (self.index, self.cpu_adapter) {
            (Some(i), _) => burn::tensor::DeviceKind::DiscreteGpu(i),
            (None, true) => burn::tensor::DeviceKind::Cpu,
            (None, false) => burn::tensor::DeviceKind::DefaultDevice,
        };
        Ok(match self.backend {
            #[cfg(feature = "flex")]
            Backend::Flex => Device::flex(),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Device::wgpu(kind),
            #[cfg(feature = "vulkan")]
            Backend::Vulkan => Device::vulkan(kind),
            #[cfg(feature = "metal")]
            Backend::Metal => Device::metal(kind),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Device::cuda(self.index.unwrap_or(0)),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            Backend::Ndarray => Device::ndarray(),
            #[allow(unreachable_patterns)]
            other => unreachable!("{} is compiled in but has no constructor", other.name()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_indices_and_cpu_adapters() {
        let spec: DeviceSpec = "cuda:1".parse().unwrap();
        assert_eq!((spec.backend, spec.index), (Backend::Cuda, Some(1)));
        let spec: DeviceSpec = "wgpu:cpu".parse().unwrap();
        assert!(spec.cpu_adapter);
        assert_eq!(spec.to_string(), "wgpu:cpu");
        assert_eq!("FLEX".parse::<DeviceSpec>().unwrap().backend, Backend::Flex);
        assert!(matches!(
            "tpu".parse::<DeviceSpec>(),
            Err(DeviceError::Unknown(_))
        ));
        assert!(matches!(
            "cuda:x".parse::<DeviceSpec>(),
            Err(DeviceError::Unknown(_))
        ));
        assert!(matches!(
            "flex:cpu".parse::<DeviceSpec>(),
            Err(DeviceError::Unknown(_))
        ));
    }

    #[test]
    fn missing_backend_names_its_feature() {
        let missing = Backend::ALL.into_iter().find(|b| !b.compiled_in());
        if let Some(backend) = missing {
            let err = select_device(Some(backend.name())).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("`{}` feature", backend.name())),
                "{msg}"
            );
        }
        // The default is always a compiled-in backend.
        let (spec, _) = select_device(None).unwrap();
        assert!(spec.backend.compiled_in());
    }
}
