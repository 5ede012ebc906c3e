using TorchSharp;
using static TorchSharp.torch;

namespace Advantage.Learning.Networks;

/// <summary>One named weight's place in the flat vector.</summary>
/// <param name="Name">Dotted name, e.g. <c>body.fc0.weight</c>.</param>
/// <param name="Shape">Tensor shape.</param>
/// <param name="Offset">Index of its first float in the vector.</param>
/// <param name="Length">Number of floats.</param>
public sealed record ParameterSlot(string Name, IReadOnlyList<long> Shape, int Offset, int Length);

/// <summary>
/// Moves a network's weights to one float vector and back, in its fixed, named order. Parameters cross
/// actor and process boundaries in this form: plain arrays are cheap to send and to serialize, tensors are
/// neither. Because the network keeps its weights in one contiguous tensor, each direction is one copy.
/// </summary>
public sealed class ParameterVector
{
    private readonly ActorCriticNetwork network;

    /// <summary>Reads the layout of a network's weights.</summary>
    public ParameterVector(ActorCriticNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        this.network = network;
        Count = checked((int)network.Flat.numel());
    }

    /// <summary>The layout: names, shapes and offsets, in vector order.</summary>
    public IReadOnlyList<ParameterSlot> Slots => network.Layout;

    /// <summary>Total number of floats.</summary>
    public int Count { get; }

    /// <summary>Copies the current weights into a new array.</summary>
    public float[] Read()
    {
        var result = new float[Count];
        ReadInto(result);
        return result;
    }

    /// <summary>Copies the current weights into <paramref name="destination"/>.</summary>
    public void ReadInto(Span<float> destination)
    {
        if (destination.Length != Count)
            throw new ArgumentException($"destination must hold {Count} floats; got {destination.Length}.", nameof(destination));
        var flat = network.Flat;
        if (flat.device_type == DeviceType.CPU)
        {
            TensorMemory.Floats(flat).CopyTo(destination);
        }
        else
        {
            using var host = flat.detach().cpu();
            host.data<float>().CopyTo(destination, 0, 0);
        }
    }

    /// <summary>Overwrites the weights with <paramref name="source"/>; records no gradient.</summary>
    public void Write(ReadOnlySpan<float> source)
    {
        if (source.Length != Count)
            throw new ArgumentException($"source must hold {Count} floats; got {source.Length}.", nameof(source));
        var flat = network.Flat;
        if (flat.device_type == DeviceType.CPU)
        {
            source.CopyTo(TensorMemory.Floats(flat));
        }
        else
        {
            using var noGrad = no_grad();
            using var host = tensor(source.ToArray());
            flat.copy_(host);
        }
    }
}
