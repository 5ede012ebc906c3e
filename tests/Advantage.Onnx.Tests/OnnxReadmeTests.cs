using System.Globalization;
using System.Text.RegularExpressions;

namespace Advantage.Onnx.Tests;

/// <summary>
/// README's "Exporting to ONNX" C# example, taken from README.md as written (its project file and its program), built
/// outside the repository with ONNX Runtime as its only package, warnings as errors, and run on the exported policy of a
/// CartPole run that <c>train</c> solved.
/// </summary>
[Collection(SolvedCartPoleCollection.Name)]
public sealed class OnnxReadmeTests(SolvedCartPole solved, Xunit.Abstractions.ITestOutputHelper log)
{
    private const string Section = "## Exporting to ONNX";

    private static string Block(string section, string language)
    {
        int start = section.IndexOf($"```{language}\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README's '{Section}' has no {language} block.");
        start += language.Length + 4;
        int end = section.IndexOf("```", start, StringComparison.Ordinal);
        return section[start..end];
    }

    [Fact]
    public void The_readme_csharp_example_plays_the_exported_policy_with_onnx_runtime_alone()
    {
        string readme = File.ReadAllText(Path.Combine(Cli.RepositoryRoot, "README.md"));
        int at = readme.IndexOf(Section, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README has no '{Section}' section.");
        int next = readme.IndexOf("\n## ", at + Section.Length, StringComparison.Ordinal);
        string section = readme[at..(next < 0 ? readme.Length : next)];
        string project = Block(section, "xml"), program = Block(section, "csharp");
        Assert.DoesNotContain("Advantage", project);
        Assert.DoesNotContain("TorchSharp", project);

        string model = Path.Combine(solved.Folder, "readme.onnx");
        var (code, output) = Cli.RunTrain(["export", "--checkpoint", Path.Combine(solved.Run, "model.ckpt"), "--output", model], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, output);

        string root = Directory.CreateTempSubdirectory("advantage-onnx-readme-").FullName;
        try
        {
            // Nothing above the app's folder may steer its build: it stands alone, as in a user's own folder.
            foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
                File.WriteAllText(Path.Combine(root, file), "<Project />\n");
            string app = Directory.CreateDirectory(Path.Combine(root, "PlayCartPole")).FullName;
            File.WriteAllText(Path.Combine(app, "PlayCartPole.csproj"), project);
            File.WriteAllText(Path.Combine(app, "Program.cs"), program);

            var build = Cli.Run("dotnet", ["build", "-c", "Release", "--disable-build-servers", "-warnaserror"], app, TimeSpan.FromMinutes(10));
            Assert.True(build.ExitCode == 0, build.Output);
            var run = Cli.Run("dotnet", [Path.Combine("bin", "Release", "net10.0", "PlayCartPole.dll"), model], app, TimeSpan.FromMinutes(2));
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Contains("CartPole-v1 policy, a2c,", run.Output);
            var match = Regex.Match(run.Output, @"mean return ([0-9.]+) over 10 episodes");
            Assert.True(match.Success, run.Output);
            double played = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            double eval = solved.EvalMeanReturn(Path.Combine(solved.Run, "model.ckpt"));
            log.WriteLine($"README's program: {played}; eval: {eval}.\n{run.Output}");
            Assert.True(played >= 0.9 * eval, $"README's program scored {played}; eval scores the checkpoint {eval}.\n{run.Output}");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
