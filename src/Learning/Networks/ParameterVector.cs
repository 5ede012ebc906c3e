using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Advantage.Learning.Networks;

/// <summary>One named parameter's place in the flat vector.</summary>
/// <param name="Name">Dotted parameter name, as in the module tree.</param>
/// <param name="Shape">Tensor shape.</param>
/// <param name="Offset">Index of its first float in the vector.</param>
/// <param name="Length">Number of floats.</param>
public sealed record ParameterSlot(string Name, IReadOnlyList<long> Shape, int Offset, int Length);

/// <summary>
/// Moves a module's parameters to one float vector and back, in a fixed, named order (the module's
/// registration order). Parameters cross actor and process boundaries in this form: plain arrays are
/// cheap to send and to serialize, tensors are neither.
/// </summary>
public sealed class ParameterVector
{
    private readonly Parameter[] parameters;

    /// <summary>Reads the layout of a module's parameters.</summary>
    public ParameterVector(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var named = module.named_parameters().ToArray();
        parameters = named.Select(p => p.parameter).ToArray();
        var slots = new ParameterSlot[named.Length];
        int offset = 0;
        for (int i = 0; i < named.Length; i++)
        {
            int length = checked((int)named[i].parameter.numel());
            slots[i] = new ParameterSlot(named[i].name, named[i].parameter.shape.ToArray(), offset, length);
            offset += length;
        }
        Slots = slots;
        Count = offset;
    }

    /// <summary>The layout: names, shapes and offsets, in vector order.</summary>
    public IReadOnlyList<ParameterSlot> Slots { get; }

    /// <summary>Total number of floats.</summary>
    public int Count { get; }

    /// <summary>Copies the current parameter values into a new array.</summary>
    public float[] Read()
    {
        var result = new float[Count];
        ReadInto(result);
        return result;
    }

    /// <summary>Copies the current parameter values into <paramref name="destination"/>.</summary>
    public void ReadInto(Span<float> destination)
    {
        if (destination.Length != Count)
            throw new ArgumentException($"destination must hold {Count} floats; got {destination.Length}.", nameof(destination));
        for (int i = 0; i < parameters.Length; i++)
        {
            var slot = Slots[i];
            using var cpu = parameters[i].detach().cpu().contiguous();
            cpu.data<float>().CopyTo(destination.Slice(slot.Offset, slot.Length));
        }
    }

    /// <summary>Overwrites the parameters with <paramref name="source"/> (no gradient is recorded).</summary>
    public void Write(ReadOnlySpan<float> source)
    {
        if (source.Length != Count)
            throw new ArgumentException($"source must hold {Count} floats; got {source.Length}.", nameof(source));
        using var noGrad = torch.no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            var slot = Slots[i];
            using var src = torch.tensor(source.Slice(slot.Offset, slot.Length).ToArray(), slot.Shape.ToArray());
            parameters[i].copy_(src);
        }
    }
}
