using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Advantage.Learning.Networks;

/// <summary>
/// The forward and backward pass of a fully connected tanh actor-critic with a categorical policy head (shared trunk or
/// separate policy and value networks), written out by hand over the flat parameter vector in <see cref="ActorCriticNetwork"/>'s
/// layout, for the tiny networks where TorchSharp's per-call cost is the whole cost.
/// </summary>
/// <remarks>
/// PPO's CartPole preset takes 20 optimizer steps of a 4-64-64 network per 256-step round: through TorchSharp each step
/// is some forty native calls, a dispose per temporary and an autograd graph, about 0.8 ms, of which the arithmetic is a
/// small part. Here a step is a handful of register-blocked matrix products over arrays the learner keeps (no native
/// call, no allocation). The results equal autograd's to float rounding (tested against it), not bit for bit, so only
/// PPO uses it; A2C and IMPALA keep the TorchSharp path and their exact trajectories.
/// </remarks>
internal sealed class DenseActorCritic
{
    private readonly int observations;
    private readonly int actions;
    private readonly Body[] bodies;
    private readonly int policyWeight, policyBias, valueWeight, valueBias;
    private readonly int width;
    private int capacity;
    private float[] logits = [];
    private float[] values = [];
    private float[] weightT = [];

    /// <summary>Whether <paramref name="spec"/> is a network this class computes: fully connected, categorical, at least one hidden layer.</summary>
    public static bool Supports(NetworkSpec spec) => spec.Body == BodyKind.FullyConnected && !spec.Continuous && spec.HiddenSizes.Count > 0;

    /// <summary>Reads offsets from <paramref name="layout"/>, which must be an <see cref="ActorCriticNetwork"/>'s of <paramref name="spec"/>.</summary>
    public DenseActorCritic(NetworkSpec spec, IReadOnlyList<ParameterSlot> layout)
    {
        if (!Supports(spec)) throw new ArgumentException("Only fully connected categorical networks.", nameof(spec));
        observations = spec.ObservationSize;
        actions = spec.ActionSize;
        var byName = layout.ToDictionary(s => s.Name, s => s.Offset);
        int layers = spec.HiddenSizes.Count;
        Body Make(string prefix)
        {
            var body = new Body(layers);
            int input = observations;
            for (int l = 0; l < layers; l++)
            {
                body.Weights[l] = byName[$"{prefix}.fc{l}.weight"];
                body.Biases[l] = byName[$"{prefix}.fc{l}.bias"];
                body.Inputs[l] = input;
                body.Outputs[l] = spec.HiddenSizes[l];
                input = spec.HiddenSizes[l];
            }
            return body;
        }
        bodies = spec.SeparateNetworks ? [Make("policy_body"), Make("value_body")] : [Make("body")];
        width = spec.HiddenSizes[^1];
        policyWeight = byName["policy_head.weight"];
        policyBias = byName["policy_head.bias"];
        valueWeight = byName["value_head.weight"];
        valueBias = byName["value_head.bias"];
        ParameterCount = layout.Sum(s => s.Length);
    }

    /// <summary>Length of the flat parameter vector.</summary>
    public int ParameterCount { get; }

    /// <summary>The last <see cref="Forward"/>'s logits, [n x actions].</summary>
    public ReadOnlySpan<float> Logits(int n) => logits.AsSpan(0, n * actions);

    /// <summary>The last <see cref="Forward"/>'s state values, [n].</summary>
    public ReadOnlySpan<float> Values(int n) => values.AsSpan(0, n);

    private Body PolicyBody => bodies[0];

    private Body ValueBody => bodies[^1];

    /// <summary>Logits and values of <paramref name="n"/> rows of <paramref name="x"/> ([n x obs]); keeps the activations for <see cref="Backward"/>.</summary>
    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> x, int n)
    {
        Ensure(n);
        foreach (var body in bodies)
        {
            ReadOnlySpan<float> input = x;
            for (int l = 0; l < body.Outputs.Length; l++)
            {
                int i = body.Inputs[l], o = body.Outputs[l];
                var h = body.Activations[l].AsSpan(0, n * o);
                Linear(input, n, i, parameters.Slice(body.Weights[l], o * i), parameters.Slice(body.Biases[l], o), o, h);
                Tanh(h);
                input = h;
            }
        }
        var policyFeatures = PolicyBody.Activations[^1].AsSpan(0, n * width);
        var valueFeatures = ValueBody.Activations[^1].AsSpan(0, n * width);
        Dots(policyFeatures, n, width, parameters.Slice(policyWeight, actions * width), actions, parameters.Slice(policyBias, actions), logits.AsSpan(0, n * actions));
        Dots(valueFeatures, n, width, parameters.Slice(valueWeight, width), 1, parameters.Slice(valueBias, 1), values.AsSpan(0, n));
    }

    /// <summary>
    /// The gradient of a loss with respect to every parameter, written into <paramref name="gradient"/>, given the loss's
    /// gradients with respect to the last <see cref="Forward"/>'s logits ([n x actions]) and values ([n]), over the same
    /// <paramref name="x"/> and <paramref name="parameters"/>.
    /// </summary>
    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> x, int n, ReadOnlySpan<float> logitGradient, ReadOnlySpan<float> valueGradient, Span<float> gradient)
    {
        // Heads: dW = dOut^T H (dOut read transposed in place), db = column sums, dH = dOut W (both heads add into a shared trunk's dH).
        var policyFeatures = PolicyBody.Activations[^1].AsSpan(0, n * width);
        var valueFeatures = ValueBody.Activations[^1].AsSpan(0, n * width);
        RowProducts(logitGradient, 1, actions, actions, n, policyFeatures, width, gradient.Slice(policyWeight, actions * width));
        ColumnSums(logitGradient, n, actions, gradient.Slice(policyBias, actions));
        RowProducts(valueGradient, 1, 1, 1, n, valueFeatures, width, gradient.Slice(valueWeight, width));
        ColumnSums(valueGradient, n, 1, gradient.Slice(valueBias, 1));

        var policyDh = PolicyBody.Gradients.AsSpan(0, n * width);
        RowProducts(logitGradient, n, actions, parameters.Slice(policyWeight, actions * width), width, policyDh);
        var valueDh = ValueBody.Gradients.AsSpan(0, n * width);
        if (bodies.Length == 1) AddOuter(valueGradient, parameters.Slice(valueWeight, width), valueDh);
        else Outer(valueGradient, parameters.Slice(valueWeight, width), valueDh);

        foreach (var body in bodies)
        {
            for (int l = body.Outputs.Length - 1; l >= 0; l--)
            {
                int i = body.Inputs[l], o = body.Outputs[l];
                var h = body.Activations[l].AsSpan(0, n * o);
                // dZ = dH (1 - h^2), in place: dH is not needed afterwards.
                var dz = body.LayerGradients[l].AsSpan(0, n * o);
                TanhBackward(h, dz);
                ReadOnlySpan<float> input = l == 0 ? x.Slice(0, n * i) : body.Activations[l - 1].AsSpan(0, n * i);
                var dW = gradient.Slice(body.Weights[l], o * i);
                if (i >= o)
                {
                    // dW [o x i] = dZ^T X: rows of dW in registers, dZ read transposed.
                    RowProducts(dz, 1, o, o, n, input, i, dW);
                }
                else
                {
                    // Narrow inputs (the observation layer): dW^T [i x o] = X^T dZ, vectorised along o, then transposed (i x o floats).
                    var dWT = weightT.AsSpan(0, i * o);
                    RowProducts(input, 1, i, i, n, dz, o, dWT);
                    Transpose(dWT, i, o, dW);
                }
                ColumnSums(dz, n, o, gradient.Slice(body.Biases[l], o));
                if (l > 0) RowProducts(dz, n, o, parameters.Slice(body.Weights[l], o * i), i, body.LayerGradients[l - 1].AsSpan(0, n * i));
            }
        }
    }

    private void Ensure(int n)
    {
        if (n <= capacity) return;
        capacity = n;
        logits = new float[n * actions];
        values = new float[n];
        int widest = Math.Max(observations, bodies.SelectMany(b => b.Outputs).Max());
        weightT = new float[widest * widest];
        foreach (var body in bodies)
        {
            for (int l = 0; l < body.Outputs.Length; l++)
            {
                body.Activations[l] = new float[n * body.Outputs[l]];
                body.LayerGradients[l] = new float[n * body.Outputs[l]];
            }
            body.Gradients = body.LayerGradients[^1];
        }
    }

    /// <summary>y = x W^T + b for x [n x i], W [o x i]: through W^T with register-blocked rows when o is wide, else row dot products.</summary>
    private void Linear(ReadOnlySpan<float> x, int n, int i, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int o, Span<float> y)
    {
        if (o >= 16)
        {
            var wT = weightT.AsSpan(0, i * o);
            Transpose(weight, o, i, wT);
            RowProducts(x, n, i, wT, o, y, bias);
        }
        else
        {
            Dots(x, n, i, weight, o, bias, y);
        }
    }

    /// <summary>y[r, :] = bias + sum_k a[r, k] m[k, :] for a [rows x k], m [k x cols]: each output row in vector registers, four vectors at a time.</summary>
    internal static void RowProducts(ReadOnlySpan<float> a, int rows, int k, ReadOnlySpan<float> m, int cols, Span<float> y, ReadOnlySpan<float> bias = default) =>
        RowProducts(a, k, 1, rows, k, m, cols, y, bias);

    /// <summary>
    /// As <see cref="RowProducts(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, int, Span{float}, ReadOnlySpan{float})"/> with a[r, k] read at
    /// r * <paramref name="rowStride"/> + k * <paramref name="columnStride"/>: a transposed a (a weight gradient's dZ^T) costs no copy.
    /// </summary>
    internal static void RowProducts(ReadOnlySpan<float> a, int rowStride, int columnStride, int rows, int k, ReadOnlySpan<float> m, int cols, Span<float> y, ReadOnlySpan<float> bias = default)
    {
        ref float aRef = ref MemoryMarshal.GetReference(a);
        ref float mRef = ref MemoryMarshal.GetReference(m);
        ref float yRef = ref MemoryMarshal.GetReference(y);
        bool hasBias = !bias.IsEmpty;
        for (int r = 0; r < rows; r++)
        {
            nint aRow = r * rowStride;
            int rowStart = r * cols;
            int c = 0;
            for (; c + 32 <= cols; c += 32)
            {
                Vector256<float> s0, s1, s2, s3;
                if (hasBias)
                {
                    s0 = Vector256.Create(bias.Slice(c, 8)); s1 = Vector256.Create(bias.Slice(c + 8, 8));
                    s2 = Vector256.Create(bias.Slice(c + 16, 8)); s3 = Vector256.Create(bias.Slice(c + 24, 8));
                }
                else
                {
                    s0 = s1 = s2 = s3 = Vector256<float>.Zero;
                }
                for (int kk = 0; kk < k; kk++)
                {
                    var v = Vector256.Create(Unsafe.Add(ref aRef, aRow + kk * columnStride));
                    nuint at = (nuint)(kk * cols + c);
                    s0 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref mRef, at), s0);
                    s1 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref mRef, at + 8), s1);
                    s2 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref mRef, at + 16), s2);
                    s3 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref mRef, at + 24), s3);
                }
                nuint to = (nuint)(rowStart + c);
                s0.StoreUnsafe(ref yRef, to); s1.StoreUnsafe(ref yRef, to + 8); s2.StoreUnsafe(ref yRef, to + 16); s3.StoreUnsafe(ref yRef, to + 24);
            }
            for (; c + 8 <= cols; c += 8)
            {
                var s = hasBias ? Vector256.Create(bias.Slice(c, 8)) : Vector256<float>.Zero;
                for (int kk = 0; kk < k; kk++)
                    s = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref aRef, aRow + kk * columnStride)), Vector256.LoadUnsafe(ref mRef, (nuint)(kk * cols + c)), s);
                s.StoreUnsafe(ref yRef, (nuint)(rowStart + c));
            }
            for (; c < cols; c++)
            {
                float s = hasBias ? bias[c] : 0f;
                for (int kk = 0; kk < k; kk++) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref aRef, aRow + kk * columnStride), m[kk * cols + c], s);
                y[rowStart + c] = s;
            }
        }
    }

    /// <summary>y[r, j] = bias[j] + dot(a[r, :], b[j, :]) for a [rows x k], b [cols x k]: for narrow outputs (heads, the input layer's gradient).</summary>
    internal static void Dots(ReadOnlySpan<float> a, int rows, int k, ReadOnlySpan<float> b, int cols, ReadOnlySpan<float> bias, Span<float> y)
    {
        bool hasBias = !bias.IsEmpty;
        for (int r = 0; r < rows; r++)
        {
            var ar = a.Slice(r * k, k);
            for (int j = 0; j < cols; j++)
                y[r * cols + j] = Dot(ar, b.Slice(j * k, k)) + (hasBias ? bias[j] : 0f);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float aRef = ref MemoryMarshal.GetReference(a);
        ref float bRef = ref MemoryMarshal.GetReference(b);
        var s0 = Vector256<float>.Zero;
        var s1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= a.Length; i += 16)
        {
            s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref aRef, (nuint)i), Vector256.LoadUnsafe(ref bRef, (nuint)i), s0);
            s1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref aRef, (nuint)(i + 8)), Vector256.LoadUnsafe(ref bRef, (nuint)(i + 8)), s1);
        }
        for (; i + 8 <= a.Length; i += 8)
            s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref aRef, (nuint)i), Vector256.LoadUnsafe(ref bRef, (nuint)i), s0);
        float s = Vector256.Sum(s0 + s1);
        for (; i < a.Length; i++) s = MathF.FusedMultiplyAdd(a[i], b[i], s);
        return s;
    }

    /// <summary>destination[c] = sum_r values[r, c] for values [rows x cols], vectorised along the columns.</summary>
    private static void ColumnSums(ReadOnlySpan<float> values, int rows, int cols, Span<float> destination)
    {
        ref float v = ref MemoryMarshal.GetReference(values);
        int c = 0;
        for (; c + 8 <= cols; c += 8)
        {
            var s = Vector256<float>.Zero;
            for (int r = 0; r < rows; r++) s += Vector256.LoadUnsafe(ref v, (nuint)(r * cols + c));
            s.CopyTo(destination.Slice(c, 8));
        }
        for (; c < cols; c++)
        {
            float s = 0;
            for (int r = 0; r < rows; r++) s += values[r * cols + c];
            destination[c] = s;
        }
    }

    internal static void Transpose(ReadOnlySpan<float> source, int rows, int cols, Span<float> destination)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = source.Slice(r * cols, cols);
            for (int c = 0; c < cols; c++) destination[c * rows + r] = row[c];
        }
    }

    /// <summary>
    /// tanh in place, eight at a time, as a rational function: x P(x^2) / Q(x^2) with the odd numerator of degree 13 and the
    /// even denominator of degree 6 of the minimax fit that Eigen and XNNPACK use for float tanh, x clamped to +-7.9053
    /// (where tanh rounds to +-1 in float) and x itself below 4e-4 in magnitude. Within 4e-7 of tanh (7 float ulps)
    /// everywhere, |result| at most 1, NaN stays NaN (tested). It replaced (1 - e) / (1 + e) with e = exp(-2|x|):
    /// <c>Vector256.Exp</c> computes in double and was about half of the forward pass (dotnet-trace of a PPO CartPole run).
    /// </summary>
    internal static void Tanh(Span<float> values)
    {
        ref float v = ref MemoryMarshal.GetReference(values);
        var clamp = Vector256.Create(7.90531110763549805f);
        var tiny = Vector256.Create(4e-4f);
        int i = 0;
        for (; i + 8 <= values.Length; i += 8)
        {
            var x = Vector256.LoadUnsafe(ref v, (nuint)i);
            TanhRational(x, clamp, tiny).StoreUnsafe(ref v, (nuint)i);
        }
        if (i < values.Length)
        {
            // The tail through the same formula (not MathF.Tanh), so a value's tanh does not depend on where it sits.
            Span<float> tail = stackalloc float[8];
            tail.Clear();
            values[i..].CopyTo(tail);
            var t = TanhRational(Vector256.Create((ReadOnlySpan<float>)tail), clamp, tiny);
            for (int j = 0; i + j < values.Length; j++) values[i + j] = t.GetElement(j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TanhRational(Vector256<float> x, Vector256<float> clamp, Vector256<float> tiny)
    {
        // Min/Max propagate NaN in .NET, so a NaN input stays NaN through the clamp and the arithmetic.
        var c = Vector256.Min(Vector256.Max(x, -clamp), clamp);
        var x2 = c * c;
        var p = Vector256.Create(-2.76076847742355e-16f);
        p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(2.00018790482477e-13f));
        p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(-8.60467152213735e-11f));
        p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(5.12229709037114e-08f));
        p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(1.48572235717979e-05f));
        p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(6.37261928875436e-04f));
        p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(4.89352455891786e-03f));
        var q = Vector256.Create(1.19825839466702e-06f);
        q = Vector256.FusedMultiplyAdd(q, x2, Vector256.Create(1.18534705686654e-04f));
        q = Vector256.FusedMultiplyAdd(q, x2, Vector256.Create(2.26843463243900e-03f));
        q = Vector256.FusedMultiplyAdd(q, x2, Vector256.Create(4.89352518554385e-03f));
        var t = c * p / q;
        return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), tiny), x, t);
    }

    /// <summary>dZ = dH (1 - h^2), in place over dH.</summary>
    private static void TanhBackward(ReadOnlySpan<float> h, Span<float> gradient)
    {
        ref float hr = ref MemoryMarshal.GetReference(h);
        ref float g = ref MemoryMarshal.GetReference(gradient);
        var one = Vector256.Create(1f);
        int i = 0;
        for (; i + 8 <= gradient.Length; i += 8)
        {
            var hv = Vector256.LoadUnsafe(ref hr, (nuint)i);
            (Vector256.LoadUnsafe(ref g, (nuint)i) * (one - hv * hv)).StoreUnsafe(ref g, (nuint)i);
        }
        for (; i < gradient.Length; i++) gradient[i] *= 1f - h[i] * h[i];
    }

    /// <summary>y[r, :] = g[r] w, for the value head's gradient into its own network's features.</summary>
    private static void Outer(ReadOnlySpan<float> g, ReadOnlySpan<float> w, Span<float> y)
    {
        for (int r = 0; r < g.Length; r++)
        {
            var row = y.Slice(r * w.Length, w.Length);
            for (int c = 0; c < w.Length; c++) row[c] = g[r] * w[c];
        }
    }

    /// <summary>y[r, :] += g[r] w, for the value head's gradient into a shared trunk's features.</summary>
    private static void AddOuter(ReadOnlySpan<float> g, ReadOnlySpan<float> w, Span<float> y)
    {
        for (int r = 0; r < g.Length; r++)
        {
            var row = y.Slice(r * w.Length, w.Length);
            for (int c = 0; c < w.Length; c++) row[c] = MathF.FusedMultiplyAdd(g[r], w[c], row[c]);
        }
    }

    /// <summary>One stack of fully connected layers: offsets in the flat vector, sizes, and per-row buffers.</summary>
    private sealed class Body(int layers)
    {
        public readonly int[] Weights = new int[layers];
        public readonly int[] Biases = new int[layers];
        public readonly int[] Inputs = new int[layers];
        public readonly int[] Outputs = new int[layers];
        public readonly float[][] Activations = new float[layers][];
        public readonly float[][] LayerGradients = new float[layers][];
        public float[] Gradients = [];
    }
}
