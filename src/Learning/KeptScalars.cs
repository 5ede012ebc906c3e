using TorchSharp;

namespace Advantage.Learning;

/// <summary>
/// Native scalars that live as long as the process, for tensor arithmetic on the learner's path.
/// </summary>
/// <remarks>
/// Many TorchSharp calls make a temporary native <see cref="Scalar"/> (<c>a + b</c> and <c>add_(s)</c> pass an alpha of 1,
/// <c>square()</c> an exponent of 2, <c>2.0 * t</c> its factor) and hand only its handle to libtorch; nothing keeps the
/// temporary reachable during the native call, so a garbage collection on another thread can finalize (free) it while
/// libtorch reads it. That is the crash of issue 22: "Expected false to be true ... toFloat at c10/core/Scalar.h:140" in an
/// IMPALA cluster learner. The learner's code therefore passes scalars it holds (these, or fields of its own) to the
/// overloads that take them, with the same values and types TorchSharp would have made, so the numbers are unchanged.
/// </remarks>
internal static class KeptScalars
{
    /// <summary>The integer 1: the alpha of <c>add</c> and <c>+</c>.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>The integer 2: the exponent of <c>square()</c>.</summary>
    public static readonly Scalar Two = 2.ToScalar();
}
