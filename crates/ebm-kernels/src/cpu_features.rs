//! Running a hot loop compiled for the CPU's vector extensions, chosen at run time, so that
//! the binary stays portable (baseline x86-64) and still uses AVX-512 or AVX2 + FMA where
//! present.

/// Runs `f` compiled with AVX-512 (F + VL) when the CPU has it, else with AVX2 and FMA when
/// it has those, else as is.
///
/// `f` and what it inlines are compiled again inside a `#[target_feature]` function, but only
/// if the compiler inlines `f` itself there: pass the closure as `#[inline(always)] || ...`
/// (a large closure is otherwise left as a function of its own, compiled without the
/// extensions), and keep the loops it runs `#[inline(always)]`. The AVX-512 form made
/// MnistNet's Langevin step about 4% faster than the AVX2 one on an AMD EPYC with AVX-512
/// (batch 128, 2 threads, interleaved `ebm bench` rounds).
#[inline(always)]
pub fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512vl") && has!("avx2") && has!("fma") {
            #[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
            fn call_avx512<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            // SAFETY: the CPU has the features `call_avx512` is compiled for.
            return unsafe { call_avx512(f) };
        }
        if has!("avx2") && has!("fma") {
            #[target_feature(enable = "avx2,fma")]
            fn call_avx2<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            // SAFETY: the CPU has the features `call_avx2` is compiled for.
            return unsafe { call_avx2(f) };
        }
    }
    f()
}
