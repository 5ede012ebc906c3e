using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// Direct access to a CPU tensor's storage as a span. TorchSharp's element accessor copies element by
/// element (hundreds of microseconds for a few thousand floats); the raw storage span is a memcpy.
/// </summary>
internal static class TensorMemory
{
    /// <summary>The float32 storage of a contiguous CPU tensor, valid while the tensor lives.</summary>
    public static Span<float> Floats(Tensor tensor)
    {
        if (tensor.device_type != TorchSharp.DeviceType.CPU || tensor.dtype != ScalarType.Float32 || !tensor.is_contiguous())
            throw new ArgumentException("Direct storage access needs a contiguous float32 CPU tensor.", nameof(tensor));
        return MemoryMarshal.Cast<byte, float>(tensor.bytes);
    }
}
