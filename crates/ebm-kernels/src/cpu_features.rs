//! Running a hot loop compiled for the CPU's vector extensions, chosen at run time, so that
//! the binary stays portable (baseline x86-64) and still uses AVX2 + FMA where present.

/// Runs `f` compiled with AVX2 and FMA enabled when the CPU has them, as is otherwise.
///
/// `f` and what it inlines are compiled again inside a `#[target_feature]` function, but only
/// if the compiler inlines `f` itself there: pass the closure as `#[inline(always)] || ...`
/// (a large closure is otherwise left as a function of its own, compiled without AVX2), and
/// keep the loops it runs `#[inline(always)]`.
#[inline(always)]
pub fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        #[target_feature(enable = "avx2,fma")]
        fn call<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: the CPU has the features `call` is compiled for.
        return unsafe { call(f) };
    }
    f()
}
