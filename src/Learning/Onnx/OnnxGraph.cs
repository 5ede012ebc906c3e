using Advantage.Learning.Onnx.Proto;
using Google.Protobuf;

namespace Advantage.Learning.Onnx;

/// <summary>
/// Builds an ONNX graph node by node: named constants (initializers), nodes with attributes, typed inputs and
/// outputs. Every intermediate value gets a unique name from the step that made it, so the exported graph reads
/// like the network (<c>body.fc0</c>, <c>policy_head</c>) in a viewer.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly GraphProto graph = new();
    private readonly HashSet<string> names = new(StringComparer.Ordinal);

    public OnnxGraph(string name) => graph.Name = name;

    public GraphProto Proto => graph;

    private string Unique(string name)
    {
        string candidate = name;
        for (int i = 1; !names.Add(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }

    /// <summary>A float32 constant of the given shape.</summary>
    public string Floats(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values.ToArray());
        graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>A float64 constant of the given shape.</summary>
    public string Doubles(string name, ReadOnlySpan<double> values, params long[] dims)
    {
        var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Double };
        tensor.Dims.AddRange(dims);
        tensor.DoubleData.AddRange(values.ToArray());
        graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>An int64 constant of the given shape (shapes and axes inputs).</summary>
    public string Int64s(string name, ReadOnlySpan<long> values, params long[] dims)
    {
        var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values.ToArray());
        graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node of <paramref name="op"/> with one output named after <paramref name="output"/>; returns the output's name.</summary>
    public string Node(string op, string output, string[] inputs, params AttributeProto[] attributes) =>
        NodeNamed(op, Unique(output), inputs, attributes);

    /// <summary>Adds a node whose output takes exactly <paramref name="output"/> (a graph output's name).</summary>
    public string NodeNamed(string op, string output, string[] inputs, params AttributeProto[] attributes)
    {
        names.Add(output);
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    /// <summary>Declares a graph input or output: a tensor of <paramref name="elementType"/> whose first dimension is the dynamic batch.</summary>
    public ValueInfoProto Value(string name, TensorProto.Types.DataType elementType, string doc, params long[] trailing)
    {
        names.Add(name);
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (long d in trailing) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            DocString = doc,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elementType, Shape = shape } },
        };
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };
}
