using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Advantage.Learning;

/// <summary>
/// Makes libtorch's float math repeat bit for bit from run to run in one process and across processes on
/// the same machine, which a seeded run's reproducibility and an exact resume depend on.
/// </summary>
/// <remarks>
/// libtorch's CPU build does its matrix products in Intel MKL, whose fastest kernels pick their summation
/// order by the memory alignment of the operands; tensors land at different addresses in each run, so two
/// identical seeded runs drifted apart in the last bits after a few updates (measured: 100 steps of CartPole
/// were enough). MKL's conditional numerical reproducibility mode <c>MKL_CBWR=AUTO</c> keeps the fastest code
/// path for the processor but fixes the order. MKL reads the variable from the native environment on its
/// first call, so it is set (unless the user set it) when this assembly loads, before any tensor work through
/// Advantage. A host that ran MKL-backed torch operations earlier in the process should set it itself.
/// </remarks>
public static class Reproducibility
{
    /// <summary>The MKL mode set when none is given.</summary>
    public const string MklMode = "AUTO";

#pragma warning disable CA2255 // A library module initializer is the point: it must run before the first MKL call.
    [ModuleInitializer]
    internal static void Initialize() => Ensure();
#pragma warning restore CA2255

    /// <summary>Sets <c>MKL_CBWR</c> in the native environment unless it is already set there. Idempotent.</summary>
    public static void Ensure()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return;
        try
        {
            _ = SetEnv("MKL_CBWR", MklMode, 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No libc to call: runs stay correct, only not bit-reproducible.
        }
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int SetEnv(string name, string value, int overwrite);
}
