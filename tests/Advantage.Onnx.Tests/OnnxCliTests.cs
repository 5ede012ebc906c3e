using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Advantage.Environments;
using Advantage.Learning;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Advantage.Onnx.Tests;

/// <summary>A CartPole-v1 run that <c>train</c> solved (seed 1, the preset), shared by the tests that export it.</summary>
public sealed class SolvedCartPole : IDisposable
{
    public SolvedCartPole()
    {
        Folder = Directory.CreateTempSubdirectory("advantage-onnx-cli-").FullName;
        Run = Path.Combine(Folder, "run");
        var (code, output) = Cli.RunTrain(["--seed", "1", "--output", Run, "--quiet"], TimeSpan.FromMinutes(5));
        TrainOutput = output;
        Assert.True(code == 0, output);
    }

    public string Folder { get; }

    public string Run { get; }

    public string TrainOutput { get; }

    /// <summary><c>eval</c>'s mean return over its ten default episodes.</summary>
    public double EvalMeanReturn(string checkpoint)
    {
        var (code, output) = Cli.RunTrain(["eval", "--checkpoint", checkpoint, "--episodes", "10"], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, output);
        var match = Regex.Match(output, @"mean return (-?[0-9.]+) \+/-");
        Assert.True(match.Success, output);
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary>The test classes that share one solved run (it is trained once).</summary>
[CollectionDefinition(Name)]
public sealed class SolvedCartPoleCollection : ICollectionFixture<SolvedCartPole>
{
    public const string Name = "solved CartPole run";
}

/// <summary><c>advantage-train export</c>: what it writes plays as the checkpoint does (its mistakes, one line and exit code 2 each, are Advantage.Cli.Tests' ExportCommandTests).</summary>
[Collection(SolvedCartPoleCollection.Name)]
public sealed class OnnxCliTests(SolvedCartPole solved)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Fact]
    public void A_trained_CartPole_exports_to_a_model_that_plays_evals_episodes_to_the_same_return()
    {
        string model = Path.Combine(solved.Folder, "cartpole.onnx");
        string checkpoint = Path.Combine(solved.Run, "model.ckpt");
        var (code, output) = Cli.RunTrain(["export", "--checkpoint", checkpoint, "--output", model], Limit);
        Assert.True(code == 0, output);
        Assert.Contains("categorical policy for CartPole-v1", output);

        using var session = new InferenceSession(model);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(solved.Run, "summary.json"))))
        {
            Assert.Equal(summary.RootElement.GetProperty("parameters_sha256").GetString(), metadata["parameters_sha256"]);
            Assert.Equal(summary.RootElement.GetProperty("steps").GetInt64().ToString(CultureInfo.InvariantCulture), metadata["steps"]);
        }
        Assert.Equal("CartPole-v1", metadata["environment_id"]);
        Assert.Equal("a2c", metadata["algorithm"]);

        // eval's episodes: episode i resets with seed 1,000,003 + i; ONNX Runtime alone chooses every action.
        var environment = EnvironmentRegistry.Builtin.Make("CartPole-v1");
        var observation = new float[4];
        double total = 0;
        for (int episode = 0; episode < 10; episode++)
        {
            environment.Reset(1_000_003 + episode, observation);
            while (true)
            {
                using var outputs = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.ObservationInput, new DenseTensor<float>(observation.ToArray(), [1, 4]))]);
                long action = outputs.First(o => o.Name == OnnxExport.ActionOutput).AsTensor<long>()[0];
                var step = environment.Step([action], observation);
                total += step.Reward;
                if (step.IsFinished) break;
            }
        }
        double eval = solved.EvalMeanReturn(checkpoint);
        Assert.Equal(eval, Math.Round(total / 10, 2));
        Assert.True(eval >= 400, $"The solved policy should play well: eval says {eval}.");

        // The folder form is the same model.
        string again = Path.Combine(solved.Folder, "from-folder.onnx");
        (code, output) = Cli.RunTrain(["export", "--checkpoint", solved.Run, "--output", again], Limit);
        Assert.True(code == 0, output);
        Assert.Equal(File.ReadAllBytes(model), File.ReadAllBytes(again));
    }

    [Fact]
    public void Overwrite_replaces_an_existing_model()
    {
        string dir = Directory.CreateTempSubdirectory("advantage-onnx-overwrite-").FullName;
        try
        {
            string output = Existing(Path.Combine(dir, "model.onnx"));
            var (code, text) = Cli.RunTrain(["export", "--checkpoint", Path.Combine(solved.Run, "model.ckpt"), "--output", output, "--overwrite"], Limit);
            Assert.True(code == 0, text);
            using var session = new InferenceSession(output);
            Assert.Equal("CartPole-v1", session.ModelMetadata.CustomMetadataMap["environment_id"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Existing(string path)
    {
        File.WriteAllText(path, "already here");
        return path;
    }
}
