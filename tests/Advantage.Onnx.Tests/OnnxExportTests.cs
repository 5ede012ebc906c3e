using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Advantage.Learning.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Advantage.Onnx.Tests;

/// <summary>
/// The exported model, run by ONNX Runtime, against the library's own policy (<see cref="TrainedPolicy"/>): every
/// built-in environment's preset network for every algorithm, on small randomly initialised checkpoints.
/// </summary>
public class OnnxExportTests
{
    private const double Tolerance = 1e-5;
    private const int Observations = 1000;

    public static TheoryData<string, string> Presets()
    {
        var data = new TheoryData<string, string>();
        // "a2c-separate": A2C's presets with separate policy and value networks (its own layers each, over shared convolutions).
        foreach (string algorithm in new[] { "a2c", "ppo", "impala", "a2c-separate" })
            foreach (string id in EnvironmentRegistry.Builtin.Ids)
                data.Add(algorithm, id);
        return data;
    }

    private static AlgorithmOptions Preset(string algorithm, string id) => algorithm switch
    {
        "a2c" => A2CPresets.For(id),
        "ppo" => PpoPresets.For(id),
        "a2c-separate" => A2CPresets.For(id).WithSeparateNetworks(true),
        _ => ImpalaPresets.For(id),
    };

    /// <summary>
    /// Weights with variance 1/fan-in per slot (outputs of order 1, so 1e-5 is a fair absolute tolerance for float32),
    /// small biases, and a log-std around its initial value: unlike the initial near-uniform policy, actions depend clearly
    /// on the observation.
    /// </summary>
    internal static float[] RandomParameters(NetworkSpec spec, int seed)
    {
        using var network = new ActorCriticNetwork(spec);
        var values = new float[new ParameterVector(network).Count];
        var random = new Random(seed);
        foreach (var slot in network.Layout)
        {
            double scale = slot.Name == "log_std" ? 0.3 : slot.Shape.Count == 1 ? 0.1 : Math.Sqrt(3.0 / slot.Shape.Skip(1).Aggregate(1L, (a, d) => a * d));
            double centre = slot.Name == "log_std" ? spec.InitialLogStd : 0;
            for (int i = 0; i < slot.Length; i++) values[slot.Offset + i] = (float)(centre + (random.NextDouble() * 2 - 1) * scale);
        }
        return values;
    }

    private static NormalizerState RandomStatistics(int size, int seed)
    {
        var random = new Random(seed);
        return new NormalizerState(
            Enumerable.Range(0, size).Select(_ => random.NextDouble() * 2 - 1).ToArray(),
            Enumerable.Range(0, size).Select(_ => 0.01 + random.NextDouble() * 4).ToArray(),
            1234);
    }

    /// <summary>Raw observations: uniform in [-5, 5] (far enough out that the normaliser's clip at 10 bites), or 0/1 cells for grids.</summary>
    private static float[][] RandomObservations(NetworkSpec spec, int count, int seed)
    {
        var random = new Random(seed);
        bool grid = spec.Body != BodyKind.FullyConnected;
        return Enumerable.Range(0, count)
            .Select(_ => Enumerable.Range(0, spec.ObservationSize).Select(_ => grid ? (random.NextDouble() < 0.2 ? 1f : 0f) : (float)(random.NextDouble() * 10 - 5)).ToArray())
            .ToArray();
    }

    internal static Checkpoint RandomCheckpoint(string algorithm, string id, int seed)
    {
        var options = algorithm == "" ? new A2COptions() : Preset(algorithm, id);
        var environment = EnvironmentRegistry.Builtin.Make(id);
        var spec = NetworkSpec.For(environment.ObservationSpace, environment.ActionSpace, options.HiddenSizes, options.InitialLogStd, options.Body, options.SeparateNetworks,
            options.UseSde, options.SdeSampleFrequency);
        var parameters = RandomParameters(spec, seed);
        if (spec.Continuous)
        {
            // Means of order 1 rarely leave [-1, 1] or [-2, 2]: widen the head so the clip is exercised too.
            using var network = new ActorCriticNetwork(spec);
            var head = network.Layout.Single(s => s.Name == "policy_head.weight");
            for (int i = head.Offset; i < head.Offset + head.Length; i++) parameters[i] *= 4;
        }
        return new Checkpoint(spec, parameters, new Dictionary<string, string>())
        {
            EnvironmentId = id,
            Options = options,
            ActionBounds = environment.ActionSpace as Box,
            ObservationStatistics = options.NormalizeObservations ? RandomStatistics(spec.ObservationSize, seed + 1) : null,
            Progress = new CheckpointProgress(42, 12_345, 17, []),
        };
    }

    private static Dictionary<string, DenseTensor<T>> Run<T>(InferenceSession session, float[][] observations, int size)
    {
        var input = new DenseTensor<float>(observations.SelectMany(o => o).ToArray(), [observations.Length, size]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.ObservationInput, input)]);
        return results.Where(r => r.Value is Tensor<T>).ToDictionary(r => r.Name, r => new DenseTensor<T>(r.AsTensor<T>().ToArray(), r.AsTensor<T>().Dimensions));
    }

    private static void Near(float expected, float actual, string what)
    {
        if (!(Math.Abs(expected - actual) <= Tolerance)) Assert.Fail($"{what}: ONNX {actual} against the library's {expected} (tolerance {Tolerance}).");
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void The_exported_preset_network_acts_as_the_library_policy(string algorithm, string id)
    {
        var checkpoint = RandomCheckpoint(algorithm, id, id.Length * 7 + algorithm.Length);
        var spec = checkpoint.Spec;
        using var policy = TrainedPolicy.FromCheckpoint(checkpoint);
        using var session = new InferenceSession(OnnxExport.ToBytes(checkpoint));
        var observations = RandomObservations(spec, Observations, 99);
        var expected = policy.DecideBatch(observations, deterministic: true);
        var floats = Run<float>(session, observations, spec.ObservationSize);
        var value = floats[OnnxExport.ValueOutput];
        Assert.Equal([Observations], value.Dimensions.ToArray());
        int clipped = 0;
        var seen = new HashSet<int>();
        for (int k = 0; k < Observations; k++)
        {
            var decision = expected[k];
            Near(decision.Value, value[k], $"value of row {k}");
            if (!spec.Continuous)
            {
                for (int a = 0; a < spec.ActionSize; a++)
                {
                    Near(decision.Logits[a], floats[OnnxExport.LogitsOutput][k, a], $"logit {a} of row {k}");
                    Near(decision.Probabilities[a], floats[OnnxExport.ProbabilitiesOutput][k, a], $"probability {a} of row {k}");
                }
                seen.Add(decision.ActionIndex);
            }
            else
            {
                for (int d = 0; d < spec.ActionSize; d++)
                {
                    Near(decision.Mean[d], floats[OnnxExport.MeanOutput][k, d], $"mean {d} of row {k}");
                    Near(decision.LogStd[d], floats[OnnxExport.LogStdOutput][k, d], $"log-std {d} of row {k}");
                    Near(decision.Action[d], floats[OnnxExport.ActionOutput][k, d], $"action {d} of row {k}");
                    if (decision.Action[d] != decision.Mean[d])
                    {
                        clipped++;
                        Assert.Equal(decision.Action[d], floats[OnnxExport.ActionOutput][k, d]);
                    }
                }
            }
        }
        if (!spec.Continuous)
        {
            var actions = Run<long>(session, observations, spec.ObservationSize)[OnnxExport.ActionOutput];
            Assert.Equal([Observations], actions.Dimensions.ToArray());
            Assert.Equal(expected.Select(d => (long)d.ActionIndex), actions.ToArray());
            Assert.True(seen.Count > 1, "The random policy should not choose one action everywhere: the comparison would prove little.");
        }
        else
        {
            Assert.True(clipped > 0, "Some means should fall outside the bounds, so the clip is compared too.");
        }
    }

    [Fact]
    public void One_observation_at_a_time_works_too_the_batch_is_dynamic()
    {
        var checkpoint = RandomCheckpoint("a2c", "Acrobot-v1", 3);
        using var policy = TrainedPolicy.FromCheckpoint(checkpoint);
        using var session = new InferenceSession(OnnxExport.ToBytes(checkpoint));
        Assert.Equal([-1, 6], session.InputMetadata[OnnxExport.ObservationInput].Dimensions);
        Assert.Equal([-1], session.OutputMetadata[OnnxExport.ActionOutput].Dimensions);
        foreach (var observation in RandomObservations(checkpoint.Spec, 20, 5))
        {
            var action = Run<long>(session, [observation], 6)[OnnxExport.ActionOutput];
            Assert.Equal(policy.ActDiscrete(observation, deterministic: true), (int)action[0]);
        }
    }

    [Fact]
    public void The_nature_conv_body_exports_too()
    {
        var spec = new NetworkSpec(4 * 84 * 84, [], 6, false, 0, BodyKind.NatureConv, [4, 84, 84]);
        var checkpoint = new Checkpoint(spec, RandomParameters(spec, 11), new Dictionary<string, string>());
        using var policy = TrainedPolicy.FromCheckpoint(checkpoint);
        using var session = new InferenceSession(OnnxExport.ToBytes(checkpoint));
        var observations = RandomObservations(spec, 20, 12);
        var expected = policy.DecideBatch(observations, deterministic: true);
        var floats = Run<float>(session, observations, spec.ObservationSize);
        var actions = Run<long>(session, observations, spec.ObservationSize)[OnnxExport.ActionOutput];
        for (int k = 0; k < observations.Length; k++)
        {
            Near(expected[k].Value, floats[OnnxExport.ValueOutput][k], $"value of row {k}");
            for (int a = 0; a < 6; a++) Near(expected[k].Logits[a], floats[OnnxExport.LogitsOutput][k, a], $"logit {a} of row {k}");
            Assert.Equal(expected[k].ActionIndex, (int)actions[k]);
        }
    }

    [Fact]
    public void The_model_names_its_inputs_and_outputs_and_carries_the_runs_metadata()
    {
        var checkpoint = RandomCheckpoint("a2c", "Pendulum-v1", 1);
        byte[] bytes = OnnxExport.ToBytes(checkpoint);
        var model = ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(OnnxExport.IrVersion, model.IrVersion);
        Assert.Equal(17, Assert.Single(model.OpsetImport).Version);
        Assert.True(OnnxExport.Opset >= 17);

        using var session = new InferenceSession(bytes);
        Assert.Equal([OnnxExport.ObservationInput], session.InputNames);
        Assert.Equal(new[] { "action", "mean", "log_std", "value" }, session.OutputNames);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("Pendulum-v1", metadata["environment_id"]);
        Assert.Equal("a2c", metadata["algorithm"]);
        Assert.Equal("12345", metadata["steps"]);
        Assert.Equal("42", metadata["updates"]);
        Assert.Equal("gaussian", metadata["head"]);
        Assert.Equal("true", metadata["observation_normalized"]);
        Assert.Equal(OnnxExport.ParametersSha256(checkpoint.Parameters), metadata["parameters_sha256"]);
        Assert.Matches("^[0-9a-f]{64}$", metadata["parameters_sha256"]);
        Assert.Equal("Advantage", session.ModelMetadata.ProducerName);

        using var categorical = new InferenceSession(OnnxExport.ToBytes(RandomCheckpoint("a2c", "CartPole-v1", 1)));
        Assert.Equal(new[] { "action", "logits", "probabilities", "value" }, categorical.OutputNames);
        Assert.Equal("false", categorical.ModelMetadata.CustomMetadataMap["observation_normalized"]);
    }

    [Fact]
    public void Saving_refuses_an_existing_file_without_overwrite_and_writes_atomically()
    {
        string dir = Path.Combine(Path.GetTempPath(), "advantage-onnx-" + Guid.NewGuid().ToString("N"));
        try
        {
            var checkpoint = RandomCheckpoint("a2c", "CartPole-v1", 2);
            string output = Path.Combine(dir, "nested", "model.onnx");
            OnnxExport.Save(checkpoint, output);
            byte[] first = File.ReadAllBytes(output);
            Assert.Equal(OnnxExport.ToBytes(checkpoint), first);
            var other = RandomCheckpoint("a2c", "CartPole-v1", 3);
            Assert.Contains("already exists", Assert.Throws<IOException>(() => OnnxExport.Save(other, output)).Message);
            Assert.Equal(first, File.ReadAllBytes(output));
            OnnxExport.Save(other, output, overwrite: true);
            Assert.NotEqual(first, File.ReadAllBytes(output));
            Assert.Single(Directory.GetFiles(Path.Combine(dir, "nested")));

            string saved = Path.Combine(dir, "policy.ckpt");
            checkpoint.Save(saved);
            OnnxExport.ExportFile(saved, Path.Combine(dir, "from-file.onnx"));
            Assert.Equal(first, File.ReadAllBytes(Path.Combine(dir, "from-file.onnx")));
            Assert.Throws<FileNotFoundException>(() => OnnxExport.ExportFile(Path.Combine(dir, "missing.ckpt"), Path.Combine(dir, "x.onnx")));
            File.WriteAllText(Path.Combine(dir, "junk.ckpt"), "junk");
            Assert.Throws<InvalidDataException>(() => OnnxExport.ExportFile(Path.Combine(dir, "junk.ckpt"), Path.Combine(dir, "x.onnx")));
            Assert.False(File.Exists(Path.Combine(dir, "x.onnx")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
