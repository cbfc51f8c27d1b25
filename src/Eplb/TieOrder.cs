namespace Eplb;

/// <summary>
/// Whose sort breaks ties: the order in which <c>torch.sort(row, descending=True)</c> returns equal loads, which
/// decides every tie of <c>eplb.py</c>. Which one a given PyTorch uses depends on its release and CPU (see the README's
/// table); each option gives the same plan on every machine.
/// </summary>
public enum TieOrder
{
    /// <summary>
    /// libstdc++'s <c>std::sort</c>: PyTorch up to 2.7 on every CPU, and later releases on CPUs without AVX2 (ARM
    /// servers such as NVIDIA Grace, among others). The default.
    /// </summary>
    LibStdCxx,

    /// <summary>Intel's x86-simd-sort built for AVX-512 (8 lanes): PyTorch after 2.7 on x86 CPUs with AVX-512.</summary>
    X86SimdSortAvx512,

    /// <summary>Intel's x86-simd-sort built for AVX2 (4 lanes): PyTorch after 2.7 on x86 CPUs with AVX2 but not AVX-512.</summary>
    X86SimdSortAvx2,
}
